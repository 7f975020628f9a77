-- GET /events/api/v1/events?resource=…&after=0&size=50 on a pre-filled resource (static request).
-- Env: BENCH_TOKEN (org token with altinn:events.subscribe), BENCH_RESOURCE (the resource URN).
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")

wrk.method = "GET"
wrk.path = "/events/api/v1/events?resource=" .. os.getenv("BENCH_RESOURCE") .. "&after=0&size=50"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
