# sim -- the liquidation-cascade simulator (issue 9, docs/internals/sim.md).
# Included by the top-level CMakeLists.txt.  Liquidation prices come from
# the rules module when it is part of the build (SP_SIM_HAVE_RULES, else a
# private Binance adapter); real data is read through feed and book
# (load.c); the full-fidelity mode runs through engine (full.c).
find_package(Threads REQUIRED)
target_sources(stampede PRIVATE ${CMAKE_CURRENT_LIST_DIR}/dist.c
                                ${CMAKE_CURRENT_LIST_DIR}/pop.c
                                ${CMAKE_CURRENT_LIST_DIR}/pop_csv.c
                                ${CMAKE_CURRENT_LIST_DIR}/market.c
                                ${CMAKE_CURRENT_LIST_DIR}/cascade.c
                                ${CMAKE_CURRENT_LIST_DIR}/mc.c
                                ${CMAKE_CURRENT_LIST_DIR}/load.c
                                ${CMAKE_CURRENT_LIST_DIR}/full.c)
target_link_libraries(stampede PUBLIC Threads::Threads m)
if(EXISTS ${PROJECT_SOURCE_DIR}/src/rules/module.cmake)
  set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/pop.c PROPERTIES
                              COMPILE_DEFINITIONS SP_SIM_HAVE_RULES)
endif()
