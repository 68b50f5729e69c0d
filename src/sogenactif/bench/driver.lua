-- wrk driver of `sogenactif bench`: one connection per wrk thread; each thread sends its own
-- pre-generated bodies once each, in order, and writes "START <monotonic seconds of the first
-- request>", then one line per answer:
--   <monotonic seconds at the answer> <latency in microseconds> <1 if as expected, else 0>
-- and "END" when its bodies are used up (the thread stops; Python interrupts wrk when every
-- thread has ended). Arguments: <directory> <path> <text every good answer contains>.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } sogenactif_timespec;
int clock_gettime(int clock_id, sogenactif_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("sogenactif_timespec")

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local next_id = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local requests, answered, out, sent_at, expected

function init(args)
  local directory, path = args[1], args[2]
  expected = args[3]
  requests = {}
  local headers = { ["Content-Type"] = "application/json" }
  for line in io.lines(directory .. "/bodies-" .. thread_id .. ".jsonl") do
    requests[#requests + 1] = wrk.format("POST", path, headers, line)
  end
  out = io.open(directory .. "/answers-" .. thread_id .. ".txt", "w")
  answered = 0
end

-- One connection per thread: a request is only sent once the previous one is answered, so the
-- body to send is the one after the last answered (wrk also calls request() once, unsent, to
-- check the script: that call must not use a body up).
function request()
  sent_at = now()
  return requests[math.min(answered + 1, #requests)]
end

function response(status, headers, body)
  local t = now()
  local ok = 0
  if status == 200 and string.find(body, expected, 1, true) then
    ok = 1
  end
  if answered == 0 then
    out:write(string.format("START %.6f\n", sent_at))
  end
  answered = answered + 1
  out:write(string.format("%.6f %.1f %d\n", t, (t - sent_at) * 1e6, ok))
  if answered >= #requests then
    out:write("END\n")
    out:flush()
    wrk.thread:stop()
  elseif answered % 64 == 0 then
    out:flush()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK_SUMMARY requests=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, e.connect, e.read, e.write, e.status, e.timeout))
end
