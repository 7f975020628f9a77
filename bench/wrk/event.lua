-- The bench's ~1 KiB CloudEvent, shared by publish.lua and batch.lua. The same shape as the
-- events the driver publishes: keep in step with event_json in bench/driver/src/main.rs.
-- bench_event(id, n, resource, party): n numbers the source document, resource is the index
-- of urn:altinn:resource:bench-<resource>, party the subject's party id.

local padding = string.rep("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", 3)

local template = '{"specversion":"1.0","id":"%s","source":"https://bench.altinn.example/api/v1/documents/%d",' ..
  '"type":"no.altinn.bench.document.created","resource":"urn:altinn:resource:bench-%d",' ..
  '"resourceinstance":"%s","subject":"/party/%d","time":"2026-11-24T10:00:00.1234567Z",' ..
  '"datacontenttype":"application/json","data":{"documentId":"%s","title":"Annual report 2026",' ..
  '"status":"submitted","sender":{"organisationNumber":"991825827","name":"Testdepartementet"},' ..
  '"recipient":{"partyId":%d,"name":"Bench Recipient AS"},"attachments":[' ..
  '{"name":"report.pdf","size":183422,"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},' ..
  '{"name":"appendix.xlsx","size":40211,"sha256":"60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"}],' ..
  '"comment":"%s"}}'

function bench_event(id, n, resource, party)
  return string.format(template, id, n, resource, id, party, id, party, padding)
end
