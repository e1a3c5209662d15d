# bench_api: wrk against `stampede serve`'s routes (in-process sp_api_start)
# and against nginx serving the same bytes from memory, in the same run.
# Needs wrk and nginx-light (scripts/packages/bench.txt).  Arguments: the
# stampede CLI (to fill the store with `ingest --all-shipped`) and a store path.
set(SP_BENCH_ARGS $<TARGET_FILE:stampede_cli> ${PROJECT_BINARY_DIR}/bench-api.db)
target_compile_definitions(bench_api PRIVATE SP_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_dependencies(bench_api stampede_cli)
