# bench_bus: the NATS bus on real servers (bench/bench_bus.c).  Started without
# servers, the program re-runs itself under tests/integration/pg_server.sh and two
# nats_server.sh: a single node (SP_BENCH_NATS_1) and a 3-node cluster
# (SP_BENCH_NATS_3).  Also registers the 10^6-event variant of the cluster
# node-kill test (labels bench;soak), too long for `make check`: `ctest -L soak`.
set(SP_BENCH_ARGS $<TARGET_FILE:stampede_cli>)
target_compile_definitions(${name} PRIVATE
                           SP_BUS_IT_DIR="${PROJECT_SOURCE_DIR}/tests/integration")
if(STAMPEDE_WITH_NATS)
  add_test(NAME test_bus_cluster_soak
           COMMAND bash ${PROJECT_SOURCE_DIR}/tests/integration/test_bus_cluster.sh
                   $<TARGET_FILE:stampede_cli> ${PROJECT_BINARY_DIR})
  set_tests_properties(test_bus_cluster_soak PROPERTIES LABELS "bench;soak" TIMEOUT 3600
                       ENVIRONMENT "SP_BUS_EVENTS=1000000")
endif()
