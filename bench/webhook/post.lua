-- bench/webhook/post.lua — wrk's script for bench/webhook.sh: POSTs the 1 KB bodies of $WRK_BODIES
-- (one `signature<TAB>body` per line, signed beforehand with HMAC-SHA256), each thread from its own
-- offset, to the path given as wrk's URL; $WRK_METHOD=GET sends bodiless GETs instead (the peer,
-- /healthz). With $WRK_DELAY_MS each connection waits that long after an answer before its next
-- request (wrk cannot hold a fixed rate by itself: connections / (delay + latency) is the rate).
local bodies, n, i = {}, 0, 0
local method = os.getenv("WRK_METHOD") or "POST"
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "0")
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("offset", counter * 7919)
end

function init(args)
  if method == "POST" then
    for line in io.lines(os.getenv("WRK_BODIES")) do
      local sig, body = line:match("^([^\t]+)\t(.*)$")
      n = n + 1
      bodies[n] = { sig = sig, body = body }
    end
  end
  i = offset or 0
end

function request()
  if method ~= "POST" then return wrk.format("GET", nil, {}, nil) end
  i = i + 1
  local b = bodies[(i % n) + 1]
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json", ["X-Hub-Signature-256"] = b.sig }, b.body)
end

function delay()
  return delay_ms
end
