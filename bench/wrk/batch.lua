-- POST /events/api/v1/events with application/cloudevents-batch+json: BENCH_BATCH events (default
-- 100) per request, each event event.lua's ~1 KiB CloudEvent with its own id and source document,
-- so every (id, source) is new. All events of one request are on one resource, the requests
-- round-robin over BENCH_RESOURCES resources (urn:altinn:resource:bench-0 … bench-N-1): each
-- request is one call to one resource's object, as when an app sends its own events in bulk.
-- Subjects cycle through about 1000 parties. 100 events make a body of about 104 KB (the limit is
-- 1 MiB). Only 200 answers count as stored: each thread counts them (response below), and the
-- summary line adds "ok", "events_per_request" and "events_per_s" (ok × events / seconds).
-- Env: BENCH_TOKEN (org token with altinn:events.publish), BENCH_RESOURCES (default 1),
-- BENCH_BATCH (default 100), BENCH_NONCE (makes ids unique across runs; a number).
local dir = os.getenv("BENCH_WRK_DIR") or "bench/wrk"
dofile(dir .. "/common.lua")
dofile(dir .. "/event.lua")

local token = os.getenv("BENCH_TOKEN")
local resources = tonumber(os.getenv("BENCH_RESOURCES") or "1")
local nonce = tonumber(os.getenv("BENCH_NONCE") or "0") % 0x100000000
bench_events_per_request = tonumber(os.getenv("BENCH_BATCH") or "100")
local counter = 0
ok = 0

local headers = {
  ["Authorization"] = "Bearer " .. token,
  ["Content-Type"] = "application/cloudevents-batch+json",
}

function request()
  local resource = counter % resources
  local events = {}
  for k = 1, bench_events_per_request do
    local seq = counter * bench_events_per_request + k
    local n = tid * 0x10000000 + seq
    local id = string.format("%08x-%04x-4000-8001-%012x", nonce, tid, seq)
    events[k] = bench_event(id, n, resource, 50000000 + (n % 997))
  end
  counter = counter + 1
  return wrk.format("POST", "/events/api/v1/events", headers, "[" .. table.concat(events, ",") .. "]")
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  end
end
