# bus/ -- sp_event batches on NATS JetStream (issue 11).
# The wire codec (wire.c: zlib's CRC-32 only) is built in every configuration so
# the fuzzer and the codec tests run everywhere; the JetStream transport
# (bus_nats.c, libnats) only with STAMPEDE_WITH_NATS, else bus_none.c answers
# SP_EUNSUPPORTED.  STAMPEDE_HAVE_NATS is PUBLIC so the CLI and tests see it.
pkg_check_modules(SP_BUS_ZLIB REQUIRED IMPORTED_TARGET zlib)
target_sources(stampede PRIVATE ${CMAKE_CURRENT_LIST_DIR}/wire.c)
target_link_libraries(stampede PUBLIC PkgConfig::SP_BUS_ZLIB)
if(STAMPEDE_WITH_NATS AND EXISTS ${CMAKE_CURRENT_LIST_DIR}/bus_nats.c)
  pkg_check_modules(SP_BUS_NATS REQUIRED IMPORTED_TARGET libnats)
  target_sources(stampede PRIVATE ${CMAKE_CURRENT_LIST_DIR}/bus_nats.c)
  target_link_libraries(stampede PUBLIC PkgConfig::SP_BUS_NATS)
  target_compile_definitions(stampede PUBLIC STAMPEDE_HAVE_NATS)
else()
  target_sources(stampede PRIVATE ${CMAKE_CURRENT_LIST_DIR}/bus_none.c)
endif()
