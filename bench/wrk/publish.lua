-- POST /events/api/v1/events: a realistic ~1 KiB CloudEvent with a unique id per request, spread
-- round-robin over BENCH_RESOURCES resources (urn:altinn:resource:bench-0 … bench-N-1) and about
-- 1000 parties; the event is event.lua's.
-- Env: BENCH_TOKEN (org token with altinn:events.publish), BENCH_RESOURCES (default 1),
-- BENCH_NONCE (makes ids unique across runs; a number), BENCH_PATH (default /events/api/v1/events;
-- /floor for the baseline worker's one-object floor).
local dir = os.getenv("BENCH_WRK_DIR") or "bench/wrk"
dofile(dir .. "/common.lua")
dofile(dir .. "/event.lua")

local token = os.getenv("BENCH_TOKEN")
local resources = tonumber(os.getenv("BENCH_RESOURCES") or "1")
local nonce = tonumber(os.getenv("BENCH_NONCE") or "0") % 0x100000000
local path = os.getenv("BENCH_PATH") or "/events/api/v1/events"
local counter = 0

local headers = {
  ["Authorization"] = "Bearer " .. token,
  ["Content-Type"] = "application/cloudevents+json",
}

function request()
  counter = counter + 1
  local n = tid * 0x1000000 + counter
  local id = string.format("%08x-%04x-4000-8000-%012x", nonce, tid, counter)
  local party = 50000000 + (n % 997)
  local body = bench_event(id, n, counter % resources, party)
  return wrk.format("POST", path, headers, body)
end
