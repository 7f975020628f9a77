-- Shared by the bench's wrk scripts: one JSON line with the figures of the run on stdout
-- (BENCH_LABEL names the scenario), which bench/worker collects into results.jsonl.

local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    '{"bench":"%s","requests":%d,"seconds":%.3f,"rps":%.1f,' ..
    '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,' ..
    '"non2xx":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d',
    os.getenv("BENCH_LABEL") or "unnamed", summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect, e.read, e.write, e.timeout))
  -- A script that sends several events per request sets bench_events_per_request and counts
  -- its 200 answers in each thread's global ok.
  if bench_events_per_request then
    local ok = 0
    for _, thread in ipairs(threads) do
      ok = ok + (thread:get("ok") or 0)
    end
    io.write(string.format(',"ok":%d,"events_per_request":%d,"events_per_s":%.1f',
      ok, bench_events_per_request, ok * bench_events_per_request / secs))
  end
  io.write("}\n")
end
