# src/engine: the exchange core (issue 8): accounts, positions, orders through
# the book, mark price, funding, liquidation engine, insurance fund, ADL
# (docs/internals/engine.md).  jansson reads JSON-lines command files.
pkg_check_modules(SP_ENGINE_JANSSON REQUIRED IMPORTED_TARGET jansson)
target_sources(stampede PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/engine.c
  ${CMAKE_CURRENT_LIST_DIR}/liq.c
  ${CMAKE_CURRENT_LIST_DIR}/mark.c
  ${CMAKE_CURRENT_LIST_DIR}/check.c
  ${CMAKE_CURRENT_LIST_DIR}/cmdlog.c)
target_link_libraries(stampede PUBLIC PkgConfig::SP_ENGINE_JANSSON)
