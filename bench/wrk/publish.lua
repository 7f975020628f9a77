-- POST /events/api/v1/events: a realistic ~1 KiB CloudEvent with a unique id per request, spread
-- round-robin over BENCH_RESOURCES resources (urn:altinn:resource:bench-0 … bench-N-1) and about
-- 1000 parties. The same shape as the events the driver publishes (bench/driver, event_json).
-- Env: BENCH_TOKEN (org token with altinn:events.publish), BENCH_RESOURCES (default 1),
-- BENCH_NONCE (makes ids unique across runs; a number), BENCH_PATH (default /events/api/v1/events;
-- /floor for the baseline worker's one-object floor).
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")

local token = os.getenv("BENCH_TOKEN")
local resources = tonumber(os.getenv("BENCH_RESOURCES") or "1")
local nonce = tonumber(os.getenv("BENCH_NONCE") or "0") % 0x100000000
local path = os.getenv("BENCH_PATH") or "/events/api/v1/events"
local counter = 0

local headers = {
  ["Authorization"] = "Bearer " .. token,
  ["Content-Type"] = "application/cloudevents+json",
}

local padding = string.rep("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", 3)

-- Keep in step with event_json in bench/driver/src/main.rs.
local template = '{"specversion":"1.0","id":"%s","source":"https://bench.altinn.example/api/v1/documents/%d",' ..
  '"type":"no.altinn.bench.document.created","resource":"urn:altinn:resource:bench-%d",' ..
  '"resourceinstance":"%s","subject":"/party/%d","time":"2026-11-24T10:00:00.1234567Z",' ..
  '"datacontenttype":"application/json","data":{"documentId":"%s","title":"Annual report 2026",' ..
  '"status":"submitted","sender":{"organisationNumber":"991825827","name":"Testdepartementet"},' ..
  '"recipient":{"partyId":%d,"name":"Bench Recipient AS"},"attachments":[' ..
  '{"name":"report.pdf","size":183422,"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},' ..
  '{"name":"appendix.xlsx","size":40211,"sha256":"60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"}],' ..
  '"comment":"%s"}}'

function request()
  counter = counter + 1
  local n = tid * 0x1000000 + counter
  local id = string.format("%08x-%04x-4000-8000-%012x", nonce, tid, counter)
  local party = 50000000 + (n % 997)
  local body = string.format(template, id, n, counter % resources, id, party, id, party, padding)
  return wrk.format("POST", path, headers, body)
end
