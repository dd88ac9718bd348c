-- wrk script for bench/run.py: send a pool of pre-signed Twilio webhooks, in order.
--
--   wrk -t1 -c32 -d10s -s bench/wrk_pool.lua http://127.0.0.1:PORT -- POOL_FILE OFFSET THREADS
--
-- POOL_FILE has one request per line: "path?query<TAB>X-Twilio-Signature<TAB>form body"
-- (bench/loadgen.py writes it, signed for this exact host:port). Requests are sent from
-- line OFFSET on (0-based), so a measured run continues where its warm-up stopped; with
-- several threads, thread k sends lines OFFSET+k, OFFSET+k+THREADS, ...
-- done() prints one JSON line: throughput, latency percentiles, non-2xx answers, socket
-- errors, the next offset, and how many requests repeated an earlier one (pool wrapped).

local threads = {}
local thread_count = 0

function setup(thread)
   thread:set("tid", thread_count)
   thread_count = thread_count + 1
   table.insert(threads, thread)
end

function init(args)
   local file = args[1]
   local offset = tonumber(args[2] or "0")
   step = tonumber(args[3] or "1")
   requests = {}
   for line in io.lines(file) do
      local path, signature, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      if path then
         requests[#requests + 1] = wrk.format("POST", path, {
            ["Content-Type"] = "application/x-www-form-urlencoded",
            ["X-Twilio-Signature"] = signature,
         }, body)
      end
   end
   size = #requests
   index = offset + tid  -- 0-based position in the pool (may go past its end)
   sent = 0
   bad = 0
   repeated = 0
end

function request()
   local i = index
   index = index + step
   sent = sent + 1
   if i >= size then
      repeated = repeated + 1
   end
   return requests[(i % size) + 1]
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      bad = bad + 1
   end
end

function done(summary, latency, requests)
   local bad_total, repeated_total, next_offset = 0, 0, 0
   for _, thread in ipairs(threads) do
      bad_total = bad_total + thread:get("bad")
      repeated_total = repeated_total + thread:get("repeated")
      next_offset = math.max(next_offset, thread:get("index"))
   end
   local e = summary.errors
   local seconds = summary.duration / 1e6
   io.write(string.format(
      '{"tool": "wrk", "requests": %d, "duration_s": %.3f, "rps": %.2f, ' ..
      '"p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "mean_ms": %.3f, ' ..
      '"non2xx": %d, "socket_errors": %d, "timeouts": %d, "next_offset": %d, "repeated": %d}\n',
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000,
      bad_total, e.connect + e.read + e.write, e.timeout, next_offset, repeated_total))
end
