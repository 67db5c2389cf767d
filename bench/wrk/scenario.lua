-- One benchmark scenario for wrk (bench/wrkgen.py writes its request file and reads the JSON line of done()).
--
--   wrk -t T -c C -d D -s bench/wrk/scenario.lua URL -- REQUESTS_FILE MODE EXPECTED
--
-- REQUESTS_FILE: one request a line, "METHOD<TAB>PATH<TAB>AUTHORIZATION<TAB>BODY" (the last two may be empty).
-- Threads take every T-th line each, so many order ids are spread over the connections.
-- MODE "cycle": the lines are sent round and round until D ends (reads: get, list, detail).
-- MODE "once": each line is sent once (pay, cancel, erase each need their own order); a thread that has sent
-- its last line stops, and its rate is counted over the time until then, not over D.
-- EXPECTED: the status that counts as ok; any other is counted by status as an error.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock, bench_timespec *ts);
]]
local clock = ffi.new("bench_timespec")
local function now()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) / 1e9
end

-- The main state: the threads, to read their counters in done().
local threads = {}
local next_id = 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- Each thread's state.
local requests, index, once, expected = {}, 0, false, 200
ok, errors, started, finished, exhausted = 0, "", 0, 0, false
local error_counts = {}

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do table.insert(fields, field) end
  return fields
end

function init(args)
  local file, mode, status, nthreads = args[1], args[2], args[3], tonumber(args[4])
  once, expected = mode == "once", tonumber(status)
  local number = 0
  for line in io.lines(file) do
    if number % nthreads == id then
      local f = split(line)
      local headers = { Host = "127.0.0.1" }
      if f[3] ~= nil and f[3] ~= "" then headers["Authorization"] = f[3] end
      local body = f[4]
      if body ~= nil and body ~= "" then headers["Content-Type"] = "application/json" else body = nil end
      table.insert(requests, wrk.format(f[1], f[2], headers, body))
    end
    number = number + 1
  end
end

function request()
  if started == 0 then started = now() end
  index = index + 1
  if index > #requests then
    if once then
      if not exhausted then exhausted, finished = true, now() end
      wrk.thread:stop()
      return requests[#requests]
    end
    index = 1
  end
  return requests[index]
end

function response(status, headers, body)
  if exhausted then return end -- answers after this thread's last line are not counted
  if status == expected then
    ok = ok + 1
  else
    error_counts[status] = (error_counts[status] or 0) + 1
    local parts = {}
    for code, count in pairs(error_counts) do table.insert(parts, string.format('"%d":%d', code, count)) end
    errors = table.concat(parts, ",")
  end
  finished = now()
end

function done(summary, latency, requests)
  local rate, total_ok, counts, all_exhausted = 0, 0, {}, true
  for _, thread in ipairs(threads) do
    local t_ok, t_started, t_finished = thread:get("ok"), thread:get("started"), thread:get("finished")
    if t_finished > t_started and t_started > 0 then rate = rate + t_ok / (t_finished - t_started) end
    total_ok = total_ok + t_ok
    if not thread:get("exhausted") then all_exhausted = false end
    local e = thread:get("errors")
    if e ~= "" then table.insert(counts, e) end
  end
  io.write(string.format(
    'BENCH {"ok":%d,"rate":%.3f,"p50_us":%d,"p99_us":%d,"socket_errors":%d,"timeouts":%d,"exhausted":%s,"errors":[%s]}\n',
    total_ok, rate, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.timeout,
    tostring(all_exhausted), "{" .. table.concat(counts, "},{") .. "}"))
end
