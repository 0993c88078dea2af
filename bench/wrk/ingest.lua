-- Ingest: a 1:1 stream of enters and leaves over BENCH_PARTICIPANTS participants in the
-- sessions listed in BENCH_SESSIONS (one "apiKey sessionId" per line). Each wrk thread owns
-- the participants k = tid + threads * j; participant k belongs to session k % #sessions.
-- Per thread: the first BENCH_LAG requests are enters; then leaves of the visit opened
-- BENCH_LAG enters earlier alternate with new enters, so every enter opens a visit (201) and
-- every leave closes one (200): no request is a no-op. rollcall-bench sqlite-ceiling writes
-- the same stream.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local sessions = {}
local per_thread, lag, nthreads
local counter = 0

function init(args)
  for line in io.lines(os.getenv("BENCH_SESSIONS")) do
    local key, sid = line:match("^(%S+)%s+(%S+)$")
    if key then sessions[#sessions + 1] = { key, sid } end
  end
  nthreads = tonumber(os.getenv("BENCH_THREADS"))
  per_thread = math.floor(tonumber(os.getenv("BENCH_PARTICIPANTS")) / nthreads)
  lag = tonumber(os.getenv("BENCH_LAG"))
  assert(lag < per_thread, "BENCH_LAG must be below the participants of one thread")
end

-- wrk 4.1 calls request() once in thread 0's state to check the script, before any
-- connection, and drops that request; it must not consume a step of the sequence.
local checked = false

function request()
  local r = counter
  if tid ~= 0 or checked then
    counter = counter + 1
  end
  checked = true
  local enter, slot
  if r < lag then
    enter, slot = true, r
  else
    local u = r - lag
    if u % 2 == 0 then
      enter, slot = false, u / 2
    else
      enter, slot = true, lag + (u - 1) / 2
    end
  end
  local k = tid + nthreads * (slot % per_thread)
  local s = sessions[(k % #sessions) + 1]
  local id = string.format("ing-%07d", k)
  local path = "/v1/applications/sessions/" .. s[2] .. "/participants/"
  local headers = { ["ApiKey"] = s[1], ["Content-Type"] = "application/json" }
  if enter then
    return wrk.format("POST", path .. "enter", headers, string.format(
      '{"participantId":"%s","nickname":"Ingest%d","profileImageUrl":"https://img.example.com/i/%d.png"}',
      id, k % 1000, k))
  end
  return wrk.format("POST", path .. "leave", headers, '{"participantId":"' .. id .. '"}')
end
