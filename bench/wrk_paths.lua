-- wrk script of bench/api_bench.py: GET the paths of a file (one a line) in turn, round and round, and print
-- the latency percentiles and counts as one JSON line at the end.
--
--   wrk -t1 -c20 -d8s -s bench/wrk_paths.lua http://127.0.0.1:8811 -- /tmp/paths.txt

local paths = {}
local next_path = 1

function init(args)
  for line in io.lines(args[1]) do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  if #paths == 0 then
    error("no paths in " .. args[1])
  end
end

function request()
  local path = paths[next_path]
  next_path = next_path % #paths + 1
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_s": %.3f, "p50_ms": %.3f, "p95_ms": %.3f, "max_ms": %.3f, ' ..
      '"non_2xx_3xx": %d, "socket_errors": %d}\n',
    summary.requests,
    summary.duration / 1e6,
    latency:percentile(50) / 1000,
    latency:percentile(95) / 1000,
    latency.max / 1000,
    errors.status,
    errors.connect + errors.read + errors.write + errors.timeout
  ))
end
