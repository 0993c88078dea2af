-- wrk script: every request enters a new participant into one session.
-- Env: ROLLCALL_SESSION (session id), ROLLCALL_API_KEY.
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  n = 0
  prefix = string.format("b%d-%d", tid, math.random(1, 1000000000))
  path = "/v1/applications/sessions/" .. os.getenv("ROLLCALL_SESSION") .. "/participants/enter"
  headers = {["ApiKey"] = os.getenv("ROLLCALL_API_KEY"), ["Content-Type"] = "application/json"}
end

function request()
  n = n + 1
  local body = string.format('{"participantId":"%s-%d","nickname":"n"}', prefix, n)
  return wrk.format("POST", path, headers, body)
end
