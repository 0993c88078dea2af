-- wrk script: every request enters a new participant, round robin over the sessions in
-- ROLLCALL_TARGETS ("sessionId:apiKey,sessionId:apiKey,...").
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  n = 0
  prefix = string.format("b%d-%d", tid, math.random(1, 1000000000))
  targets = {}
  for sid, key in string.gmatch(os.getenv("ROLLCALL_TARGETS"), "([^:,]+):([^:,]+)") do
    targets[#targets + 1] = {
      path = "/v1/applications/sessions/" .. sid .. "/participants/enter",
      headers = {["ApiKey"] = key, ["Content-Type"] = "application/json"},
    }
  end
end

function request()
  n = n + 1
  local t = targets[(n % #targets) + 1]
  local body = string.format('{"participantId":"%s-%d","nickname":"n"}', prefix, n)
  return wrk.format("POST", t.path, t.headers, body)
end
