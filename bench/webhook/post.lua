-- bench/webhook/post.lua — wrk's script for bench/webhook.sh: POSTs the 1 KB bodies of $WRK_BODIES
-- (one `signature<TAB>body` per line, signed beforehand with HMAC-SHA256), each thread from its own
-- offset, to the path given as wrk's URL; $WRK_METHOD=GET sends bodiless GETs instead (the peer,
-- /healthz). With $WRK_RATE (requests/s, over $WRK_THREADS threads) each request waits for its slot
-- on a fixed schedule (wrk holds no rate by itself; a pause after each answer would make the rate
-- depend on the latency): a thread's slots are 1/rate apart from its first request on, and a thread
-- more than a second behind its schedule starts a new one rather than sending a burst.
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } wrk_ts; int clock_gettime(int clk, wrk_ts *ts); ]]
local ts = ffi.new("wrk_ts")
local function now_ms()
  ffi.C.clock_gettime(1, ts)   -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local bodies, n, i = {}, 0, 0
local method = os.getenv("WRK_METHOD") or "POST"
local rate = tonumber(os.getenv("WRK_RATE") or "0") / tonumber(os.getenv("WRK_THREADS") or "1")
local slot = nil
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
  if rate <= 0 then return 0 end
  local now = now_ms()
  if not slot or slot < now - 1000 then slot = now end
  slot = slot + 1000 / rate
  return slot > now and slot - now or 0
end
