# bench_store: 10^7 events by default (override: cmake -DSP_BENCH_STORE_N=1000000).
# With STAMPEDE_WITH_PG a second test, bench_store_pg, runs it against a real
# PostgreSQL 15 started by tests/integration/pg_server.sh.
set(SP_BENCH_STORE_N 10000000 CACHE STRING "events bench_store ingests")
set(SP_BENCH_ARGS ${SP_BENCH_STORE_N} ${PROJECT_BINARY_DIR})
if(STAMPEDE_WITH_PG)
  add_test(NAME bench_store_pg
           COMMAND bash ${PROJECT_SOURCE_DIR}/tests/integration/pg_server.sh run
                   $<TARGET_FILE:bench_store> ${SP_BENCH_STORE_N} ${PROJECT_BINARY_DIR})
  set_tests_properties(bench_store_pg PROPERTIES LABELS bench TIMEOUT 3600
                       ENVIRONMENT "SP_PG_OPTS=-c shared_buffers=512MB -c max_wal_size=8GB")
endif()
