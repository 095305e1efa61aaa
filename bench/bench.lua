-- wrk script for bench/bench.sh: every request is a random signed-in user (the credentials
-- file of bench/tokens.py) doing one thing (MODE), authenticated one way (CRED).
--   MODE: conversations (first page, 10) | messages (newest 50 of their newest conversation)
--         | search | session (GET /api/auth/get-session) | post (a question, answered as JSON)
--   CRED: cookie | bearer (the session token) | jwt
-- Prints the latency percentiles as JSON on the last line, for the script to read.
local creds_file = os.getenv("CREDS")
local mode = os.getenv("MODE") or "conversations"
local cred = os.getenv("CRED") or "jwt"
local users = {}
local words = { "database", "password", "cookie", "retry", "install", "branch", "proxy", "export" }

function init(args)
  for line in io.lines(creds_file) do
    local id, token, cookie, jwt, conversation = line:match("(%S+)\t(%S+)\t(%S+)\t(%S+)\t(%S+)")
    users[#users + 1] = { token = token, cookie = cookie, jwt = jwt, conversation = conversation }
  end
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
end

local function headers(u)
  local h = { ["origin"] = os.getenv("ORIGIN") }
  if cred == "cookie" then
    h["cookie"] = u.cookie
  elseif cred == "bearer" then
    h["authorization"] = "Bearer " .. u.token
  else
    h["authorization"] = "Bearer " .. u.jwt
  end
  return h
end

local counter = 0

function request()
  local u = users[math.random(#users)]
  local h = headers(u)
  if mode == "messages" then
    return wrk.format("GET", "/api/conversations/" .. u.conversation .. "/messages?limit=50", h)
  elseif mode == "search" then
    return wrk.format("GET", "/api/search?q=" .. words[math.random(#words)] .. "&limit=20", h)
  elseif mode == "session" then
    return wrk.format("GET", "/api/auth/get-session", h)
  elseif mode == "post" then
    counter = counter + 1
    h["content-type"] = "application/json"
    local body = string.format('{"content":"How do I install Chatkeep? (%d)","clientId":"bench-%d-%d-%d"}',
      counter, os.time(), math.random(1000000000), counter)
    return wrk.format("POST", "/api/conversations/" .. u.conversation .. "/messages", h, body)
  end
  return wrk.format("GET", "/api/conversations?limit=10", h)
end

local bad = 0

function response(status, headers, body)
  if status ~= 200 and status ~= 201 then
    bad = bad + 1
    if bad <= 3 then io.stderr:write("status " .. status .. ": " .. body:sub(1, 200) .. "\n") end
  end
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"errors":%d,"non2xx":%d,"p50":%.3f,"p95":%.3f,"p99":%.3f}\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
