# pg_test.cmake: shared by the store-backed suites (test_store, test_store_durability,
# test_store_rollup, test_analytics_rollup).  tests/CMakeLists.txt registers
# ${name} against SQLite; with STAMPEDE_WITH_PG the same executable runs a second
# time as ${name}_pg against a real PostgreSQL 15 started by
# tests/integration/pg_server.sh.  Included from tests/unit/<name>.cmake, where
# ${name} is the test being configured.
if(STAMPEDE_WITH_PG)
  add_test(NAME ${name}_pg
           COMMAND bash ${PROJECT_SOURCE_DIR}/tests/integration/pg_server.sh run $<TARGET_FILE:${name}>)
  set_tests_properties(${name}_pg PROPERTIES LABELS integration TIMEOUT 300
                       ENVIRONMENT "SP_SOURCE_DIR=${PROJECT_SOURCE_DIR};SP_BINARY_DIR=${PROJECT_BINARY_DIR}")
endif()
set(SP_TEST_EXTRA_TIMEOUT 120)
