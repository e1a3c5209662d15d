# test_live_loop: the replay server runs in a thread of the test process.
find_package(Threads REQUIRED)
target_link_libraries(${name} PRIVATE Threads::Threads)
set(SP_TEST_EXTRA_TIMEOUT 120)
