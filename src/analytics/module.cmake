# analytics -- the crash-day metrics, report and plots (issue 10); the only
# library code that uses double (docs/metrics.md).  Needs libm; the PNG
# charts need cairo (libcairo2-dev, scripts/packages/demo.txt) -- without it
# the library builds with plot_none.c and `report --plots` says so.
target_sources(stampede PRIVATE ${CMAKE_CURRENT_LIST_DIR}/series.c
                                ${CMAKE_CURRENT_LIST_DIR}/price.c
                                ${CMAKE_CURRENT_LIST_DIR}/flows.c
                                ${CMAKE_CURRENT_LIST_DIR}/liq.c
                                ${CMAKE_CURRENT_LIST_DIR}/fg.c
                                ${CMAKE_CURRENT_LIST_DIR}/heatmap.c
                                ${CMAKE_CURRENT_LIST_DIR}/load.c
                                ${CMAKE_CURRENT_LIST_DIR}/report.c)
target_link_libraries(stampede PUBLIC m)

pkg_check_modules(CAIRO IMPORTED_TARGET cairo)
pkg_check_modules(FONTCONFIG IMPORTED_TARGET fontconfig)
if(CAIRO_FOUND AND FONTCONFIG_FOUND)
  target_sources(stampede PRIVATE ${CMAKE_CURRENT_LIST_DIR}/plot.c)
  target_link_libraries(stampede PUBLIC PkgConfig::CAIRO PkgConfig::FONTCONFIG)
else()
  message(STATUS "analytics: cairo not found, building without PNG plots")
  target_sources(stampede PRIVATE ${CMAKE_CURRENT_LIST_DIR}/plot_none.c)
endif()
