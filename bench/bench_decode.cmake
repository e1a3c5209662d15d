# bench_decode: cJSON is the JSON baseline (libcjson-dev); nettle hashes the bar output
# (the same SHA-256 library the book tests use).
pkg_check_modules(SP_BENCH_DECODE_DEPS REQUIRED IMPORTED_TARGET libcjson nettle)
target_link_libraries(bench_decode PRIVATE PkgConfig::SP_BENCH_DECODE_DEPS)
