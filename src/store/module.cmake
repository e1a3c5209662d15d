# store -- sp_store: SQLite (default) and, with STAMPEDE_WITH_PG, PostgreSQL.
# Included by the top-level CMakeLists.txt (see there).
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
target_sources(stampede PRIVATE ${CMAKE_CURRENT_LIST_DIR}/store.c
                                ${CMAKE_CURRENT_LIST_DIR}/store_sqlite.c
                                ${CMAKE_CURRENT_LIST_DIR}/rollup.c)
target_link_libraries(stampede PUBLIC PkgConfig::SQLITE3)

if(STAMPEDE_WITH_PG AND EXISTS ${CMAKE_CURRENT_LIST_DIR}/store_pg.c)
  pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
  target_sources(stampede PRIVATE ${CMAKE_CURRENT_LIST_DIR}/store_pg.c)
  target_link_libraries(stampede PUBLIC PkgConfig::LIBPQ)
  # PUBLIC so the CLI and the tests see it too (cmd_version, test_store).
  target_compile_definitions(stampede PUBLIC STAMPEDE_HAVE_PG)
endif()
