-- wrk script for bench/bench-history.sh: every request is a random seeded user reading their
-- history (the first page of conversations, or the newest page of one conversation's messages).
-- The pairs file holds "token conversation-id" lines.
local pairs_file = os.getenv("PAIRS") or "/tmp/chatkeep-bench-pairs.txt"
local mode = os.getenv("MODE") or "conversations"
local users = {}

function init(args)
  for line in io.lines(pairs_file) do
    local token, conversation = line:match("(%S+)%s+(%S+)")
    users[#users + 1] = { token = token, conversation = conversation }
  end
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
end

function request()
  local u = users[math.random(#users)]
  local path
  if mode == "messages" then
    path = "/api/conversations/" .. u.conversation .. "/messages?limit=50"
  else
    path = "/api/conversations?limit=20"
  end
  return wrk.format("GET", path, { ["authorization"] = "Bearer " .. u.token })
end

function response(status, headers, body)
  if status ~= 200 then
    error("unexpected status " .. status)
  end
end
