# api -- the HTTP JSON API and the dashboard's static files (issue 12):
# libmicrohttpd (libmicrohttpd-dev, scripts/packages/demo.txt), jansson for
# the simulation request body, pthreads for the simulation worker.
pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
find_package(Threads REQUIRED)
target_sources(stampede PRIVATE ${CMAKE_CURRENT_LIST_DIR}/server.c
                                ${CMAKE_CURRENT_LIST_DIR}/json.c
                                ${CMAKE_CURRENT_LIST_DIR}/query.c
                                ${CMAKE_CURRENT_LIST_DIR}/routes_an.c
                                ${CMAKE_CURRENT_LIST_DIR}/routes_an2.c
                                ${CMAKE_CURRENT_LIST_DIR}/routes_an3.c
                                ${CMAKE_CURRENT_LIST_DIR}/routes_liq.c
                                ${CMAKE_CURRENT_LIST_DIR}/routes_sim.c
                                ${CMAKE_CURRENT_LIST_DIR}/openapi.c)
target_link_libraries(stampede PUBLIC PkgConfig::MHD PkgConfig::JANSSON Threads::Threads)
