# test_book_w1 checks the SHA-256 of the generated W1 bytes with nettle's sha256.
pkg_check_modules(NETTLE REQUIRED IMPORTED_TARGET nettle)
target_link_libraries(${name} PRIVATE PkgConfig::NETTLE)
set(SP_TEST_EXTRA_TIMEOUT 120)
