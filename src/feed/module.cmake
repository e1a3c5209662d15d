# feed/ -- market-data decoders (issue 6).  libzip reads the data.binance.vision
# .zip dumps, libzstd the .zst captures.
pkg_check_modules(SP_FEED_DEPS REQUIRED IMPORTED_TARGET libzip libzstd)
target_sources(stampede PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/feed.c
  ${CMAKE_CURRENT_LIST_DIR}/json.c
  ${CMAKE_CURRENT_LIST_DIR}/csv.c
  ${CMAKE_CURRENT_LIST_DIR}/util.c
  ${CMAKE_CURRENT_LIST_DIR}/binance_ws.c
  ${CMAKE_CURRENT_LIST_DIR}/binance_fast.c
  ${CMAKE_CURRENT_LIST_DIR}/bybit_v5.c
  ${CMAKE_CURRENT_LIST_DIR}/okx_v5.c
  ${CMAKE_CURRENT_LIST_DIR}/capture.c
  ${CMAKE_CURRENT_LIST_DIR}/binance_csv.c
  ${CMAKE_CURRENT_LIST_DIR}/series.c
  ${CMAKE_CURRENT_LIST_DIR}/sync.c)
target_link_libraries(stampede PUBLIC PkgConfig::SP_FEED_DEPS)
# live connectors, recorder engine and loopback replay server (issue 13):
# libwebsockets (client + server, OpenSSL for wss://), libcurl for the
# Binance REST depth snapshot, jansson for the endpoints config.
pkg_check_modules(SP_LIVE_DEPS REQUIRED IMPORTED_TARGET libwebsockets libcurl jansson)
target_sources(stampede PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/live_config.c
  ${CMAKE_CURRENT_LIST_DIR}/live_conn.c
  ${CMAKE_CURRENT_LIST_DIR}/replay_server.c)
target_link_libraries(stampede PUBLIC PkgConfig::SP_LIVE_DEPS)
