# bench_live: the replay server runs in a thread of the benchmark; store files in the build dir.
find_package(Threads REQUIRED)
target_link_libraries(${name} PRIVATE Threads::Threads)
set(SP_BENCH_ARGS ${PROJECT_BINARY_DIR})
# the replay server thread and store sink shared with the tests (no cmocka in there)
target_sources(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/support/testharness.c)
target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/support)
