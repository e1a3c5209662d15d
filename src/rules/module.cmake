# src/rules: instruments, dated tier tables and the per-venue rule sets
# (docs/internals/rules.md).  Needs jansson for the data files.
pkg_check_modules(SP_RULES_JANSSON REQUIRED IMPORTED_TARGET jansson)
target_sources(stampede PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/liq.c
  ${CMAKE_CURRENT_LIST_DIR}/db.c
  ${CMAKE_CURRENT_LIST_DIR}/funding.c)
target_link_libraries(stampede PUBLIC PkgConfig::SP_RULES_JANSSON)
target_sources(stampede PRIVATE ${CMAKE_CURRENT_LIST_DIR}/pos_text.c)
