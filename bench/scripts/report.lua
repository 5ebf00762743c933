-- Shared by the scenario scripts (loaded with dofile): numbers each thread, counts status
-- codes for scripts that define response(), and prints the run as one JSON line that
-- bench/wrk.py reads:
--   BENCH-RESULT {"requests": …, "duration_us": …, "bytes": …, "errors": {…},
--                 "latency_us": {"p50": …, "p99": …, "mean": …, "max": …}, "statuses": {…}}

local threads = {}

-- Per thread (each thread runs its own copy of the script): status code -> count.
statuses = {}

function count_status(status)
  statuses[status] = (statuses[status] or 0) + 1
end

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

local function json_object(entries)
  local parts = {}
  for key, value in pairs(entries) do
    table.insert(parts, string.format('"%s": %s', tostring(key), tostring(value)))
  end
  table.sort(parts)
  return "{" .. table.concat(parts, ", ") .. "}"
end

function done(summary, latency, requests)
  local counted = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses") or {}) do
      counted[status] = (counted[status] or 0) + count
    end
  end
  local e = summary.errors
  io.write("BENCH-RESULT ", json_object({
    requests = summary.requests,
    duration_us = summary.duration,
    bytes = summary.bytes,
    errors = json_object({
      connect = e.connect, read = e.read, write = e.write, status = e.status,
      timeout = e.timeout,
    }),
    latency_us = json_object({
      p50 = latency:percentile(50), p99 = latency:percentile(99),
      mean = latency.mean, max = latency.max,
    }),
    statuses = json_object(counted),
  }), "\n")
end
