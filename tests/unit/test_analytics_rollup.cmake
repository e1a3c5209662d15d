# test_analytics_rollup: report figures from roll-ups == from events.  Runs on SQLite and, with STAMPEDE_WITH_PG, again
# as test_analytics_rollup_pg on PostgreSQL (see pg_test.cmake).
include(${CMAKE_CURRENT_LIST_DIR}/pg_test.cmake)
