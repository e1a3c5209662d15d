# test_store_rollup: the liquidation roll-ups.  Runs on SQLite and, with STAMPEDE_WITH_PG, again
# as test_store_rollup_pg on PostgreSQL (see pg_test.cmake).
include(${CMAKE_CURRENT_LIST_DIR}/pg_test.cmake)
