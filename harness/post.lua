-- wrk script for `make bench`: POST a distinct valid phone per request and print one JSON
-- line from done(), so the driver parses numbers instead of wrk's text.
--
-- Each request also names a visitor of its own in X-Forwarded-For (10.x.y.z, from the same
-- counter as its phone), as a load balancer in front of nginx would: all of wrk's load comes
-- from 127.0.0.1, and nginx (with the bench's realip settings, harness/door.py) and the app
-- (which trusts the header from loopback) key their per-client limits by that address.
--
-- Environment (read by every thread):
--   BENCH_PHONE_OFFSET  first phone number of this run, so runs never reuse a phone
--   BENCH_THREADS       wrk's -t, so threads interleave their numbers without overlap
--   BENCH_LIMIT         if > 0, each thread stops after this many responses (end-to-end)
--   BENCH_RATE          if > 0, each thread sends this many requests/s, open loop (the soak)
--   BENCH_SOLUTIONS     if set, a file of solved challenges, one payload per line: thread
--                       `id` takes lines id+1, id+1+BENCH_THREADS, ... and sends each once,
--                       as `altcha`; past its last it sends none (counted in `unsolved`, and
--                       the server's refusal shows in non202). Thread 0's first is never
--                       sent: wrk calls request() once before the run to check the script.

local offset = tonumber(os.getenv("BENCH_PHONE_OFFSET") or "0")
local thread_count = tonumber(os.getenv("BENCH_THREADS") or "2")
local limit = tonumber(os.getenv("BENCH_LIMIT") or "0")
local rate = tonumber(os.getenv("BENCH_RATE") or "0")
local solutions_path = os.getenv("BENCH_SOLUTIONS") or ""

-- Per-thread counters (globals, so done() can read them with thread:get).
sent, responses, non2xx, status_4xx, status_5xx, non202, unsolved = 0, 0, 0, 0, 0, 0, 0

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

-- This thread's solutions, read before the load starts (wrk calls init in each thread's
-- own Lua state, after setup gave it its id). A line that is not base64 is an error here,
-- not a body the server would refuse later.
local solutions, used = {}, 0

function init(args)
   if solutions_path == "" then
      return
   end
   local file = assert(io.open(solutions_path, "r"))
   local line_number = 0
   for line in file:lines() do
      if line_number % thread_count == id then
         assert(line:match("^[A-Za-z0-9+/]+=*$"), "not a solution on line " .. line_number + 1)
         table.insert(solutions, line)
      end
      line_number = line_number + 1
   end
   file:close()
end

function request()
   -- Thread `id` takes every thread_count-th number: distinct across threads, and across
   -- runs because the driver moves the offset past the highest number a run used.
   local n = (offset + sent * thread_count + id) % 1000000000
   sent = sent + 1
   local solution = ""
   if solutions_path ~= "" then
      used = used + 1
      if solutions[used] then
         solution = string.format(',"altcha":"%s"', solutions[used])
      else
         unsolved = unsolved + 1
      end
   end
   local body = string.format('{"phone":"09%09d","referrer":"bench"%s}', n, solution)
   -- 2^24 visitors before an address comes again: an hour of load at thousands a second,
   -- long after nginx's limits (10 r/s, a burst of 20) have forgotten it.
   local visitor = string.format(
      "10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256
   )
   local headers = { ["Content-Type"] = "application/json", ["X-Forwarded-For"] = visitor }
   return wrk.format("POST", nil, headers, body)
end

-- Open loop (wrk2 is not packaged here): wrk asks delay() before each request a connection
-- sends, so each thread hands out send times on a fixed schedule, 1/rate apart, to whichever
-- connection is free next. A slot missed while every connection was busy is sent at once,
-- so the rate catches up instead of sliding the way a closed loop would. Only defined with a
-- rate: wrk calls delay() whenever the script has one. Latency is wrk's, from the send.
if rate > 0 then
   local ffi = require("ffi")  -- wrk embeds LuaJIT; its Lua has no monotonic clock
   ffi.cdef([[
      typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
      int clock_gettime(int clock_id, bench_timespec *tp);
   ]])
   local now_ts = ffi.new("bench_timespec")
   local interval_ms = 1000 / rate
   local next_slot = nil

   local function now_ms()
      ffi.C.clock_gettime(1, now_ts)  -- CLOCK_MONOTONIC
      return tonumber(now_ts.tv_sec) * 1000 + tonumber(now_ts.tv_nsec) / 1e6
   end

   function delay()
      local now = now_ms()
      next_slot = next_slot or now
      local wait = next_slot - now
      next_slot = next_slot + interval_ms
      return wait > 0 and math.floor(wait) or 0  -- whole ms; wrk reads it as unsigned
   end
end

function response(status, headers, body)
   responses = responses + 1
   if status ~= 202 then
      non202 = non202 + 1
   end
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if status >= 500 then
         status_5xx = status_5xx + 1
      elseif status >= 400 then
         status_4xx = status_4xx + 1
      end
   end
   if limit > 0 and responses == limit then
      -- wrk's main thread sleeps for the whole -d regardless; the driver sends SIGINT once
      -- every thread has said this, and wrk then prints its summary as usual.
      io.write("BENCH_THREAD_DONE\n")
      io.flush()
      wrk.thread:stop()
   end
end

local function json_object(pairs_list)
   local parts = {}
   for _, pair in ipairs(pairs_list) do
      table.insert(parts, string.format('"%s":%s', pair[1], pair[2]))
   end
   return "{" .. table.concat(parts, ",") .. "}"
end

local function totals()
   local names = { "sent", "responses", "non2xx", "status_4xx", "status_5xx", "non202", "unsolved" }
   local sum = { sent_max = 0 }
   for _, name in ipairs(names) do
      sum[name] = 0
   end
   for _, thread in ipairs(threads) do
      for _, name in ipairs(names) do
         sum[name] = sum[name] + thread:get(name)
      end
      sum.sent_max = math.max(sum.sent_max, thread:get("sent"))
   end
   return sum
end

function done(summary, latency, requests)
   local e = summary.errors
   local t = totals()
   local fmt = function(v) return string.format("%d", v) end
   local line = json_object({
      { "duration_us", fmt(summary.duration) },
      { "requests", fmt(summary.requests) },
      { "bytes", fmt(summary.bytes) },
      { "errors", json_object({
         { "connect", fmt(e.connect) }, { "read", fmt(e.read) }, { "write", fmt(e.write) },
         { "status", fmt(e.status) }, { "timeout", fmt(e.timeout) },
      }) },
      { "latency_us", json_object({
         { "min", fmt(latency.min) }, { "mean", string.format("%.1f", latency.mean) },
         { "max", fmt(latency.max) }, { "p50", fmt(latency:percentile(50)) },
         { "p90", fmt(latency:percentile(90)) }, { "p99", fmt(latency:percentile(99)) },
         { "p999", fmt(latency:percentile(99.9)) },
      }) },
      { "sent", fmt(t.sent) }, { "sent_max", fmt(t.sent_max) },
      { "responses", fmt(t.responses) }, { "non2xx", fmt(t.non2xx) },
      { "status_4xx", fmt(t.status_4xx) }, { "status_5xx", fmt(t.status_5xx) },
      { "non202", fmt(t.non202) }, { "unsolved", fmt(t.unsolved) },
   })
   io.write("BENCH_JSON " .. line .. "\n")
end
