# test_store_durability: kill -9 durability.  Runs on SQLite and, with STAMPEDE_WITH_PG, again
# as test_store_durability_pg on PostgreSQL (see pg_test.cmake).
include(${CMAKE_CURRENT_LIST_DIR}/pg_test.cmake)
