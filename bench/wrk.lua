-- One scenario of bench/run.py, driven by wrk:
--   wrk -t2 -c16 -d10s --latency -s bench/wrk.lua http://127.0.0.1:PORT -- MODE TOKENS [TARGETS]
-- MODE: bare | feed | sql | floor | writes | for_you (feed_<cohort>: the feed of another token
-- file; for_you: bench/for_you_bench.py). TOKENS: one API token per line (a random one per
-- request). TARGETS (writes only): lines "v <video id>" (PUT like) or "u <username>" (PUT follow).
-- done() prints one line "BENCH_JSON {...}": requests, latency percentiles, status codes.

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_number", thread_count)
  table.insert(threads, thread)
end

local function read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    if #line > 0 then lines[#lines + 1] = line end
  end
  return lines
end

local paths = { bare = "/", feed = "/api/v1/feed", sql = "/api/v1/bench/feed-sql", floor = "/api/v1/bench/floor",
                for_you = "/api/v1/feed/for-you" }

function init(args)
  mode = args[1]
  tokens = read_lines(args[2])
  if args[3] then targets = read_lines(args[3]) end
  statuses = {}
  math.randomseed(os.time() * 1000 + thread_number * 7919)
end

function request()
  local headers = { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] }
  if mode == "writes" then
    local target = targets[math.random(#targets)]
    local kind, value = target:sub(1, 1), target:sub(3)
    if kind == "v" then
      return wrk.format("PUT", "/api/v1/videos/" .. value .. "/like", headers)
    end
    return wrk.format("PUT", "/api/v1/users/" .. value .. "/follow", headers)
  end
  return wrk.format("GET", paths[mode] or paths.feed, headers)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("statuses")) do
      merged[code] = (merged[code] or 0) + count
    end
  end
  local codes = {}
  for code, count in pairs(merged) do
    codes[#codes + 1] = string.format('"%d":%d', code, count)
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p95":%d,"p99":%d,"p999":%d},' ..
    '"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency.min, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency:percentile(99.9),
    table.concat(codes, ",")))
end
