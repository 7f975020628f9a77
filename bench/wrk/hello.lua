-- GET / on the hello-world worker (the baseline). Static request; only the summary line.
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")
