# bench_book checks the SHA-256 of the generated W1 bytes with nettle's sha256.
pkg_check_modules(NETTLE REQUIRED IMPORTED_TARGET nettle)
target_link_libraries(${name} PRIVATE PkgConfig::NETTLE)
