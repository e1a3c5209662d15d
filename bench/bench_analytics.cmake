# bench_analytics: 10^7 liquidation events by default
# (override: cmake -DSP_BENCH_ANALYTICS_N=1000000); the SQLite file goes to the build dir.
set(SP_BENCH_ANALYTICS_N 10000000 CACHE STRING "events bench_analytics stores and reports")
set(SP_BENCH_ARGS ${SP_BENCH_ANALYTICS_N} ${PROJECT_BINARY_DIR})
if(STAMPEDE_WITH_PG)
  add_test(NAME bench_analytics_pg
           COMMAND bash ${PROJECT_SOURCE_DIR}/tests/integration/pg_server.sh run
                   $<TARGET_FILE:bench_analytics> ${SP_BENCH_ANALYTICS_N} ${PROJECT_BINARY_DIR})
  set_tests_properties(bench_analytics_pg PROPERTIES LABELS bench TIMEOUT 3600)
endif()
