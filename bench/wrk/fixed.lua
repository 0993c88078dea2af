-- Replays one fixed request, read from the file named by BENCH_REQUEST:
--   line 1: METHOD PATH?QUERY
--   then header lines "Name: value", an empty line, and the body (may be empty).
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

local f = assert(io.open(os.getenv("BENCH_REQUEST"), "rb"))
local text = f:read("*a")
f:close()
local head, body = text:match("^(.-)\r?\n\r?\n(.*)$")
if head == nil then head, body = text, "" end
local first = true
for line in head:gmatch("[^\r\n]+") do
  if first then
    wrk.method, wrk.path = line:match("^(%S+)%s+(%S+)$")
    first = false
  else
    local name, value = line:match("^([^:]+):%s*(.*)$")
    wrk.headers[name] = value
  end
end
wrk.body = body
