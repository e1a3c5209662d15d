# stampede -- the README's commands.
#
#   make demo    install what is missing, build, run the main job (SQLite, no server)
#   make check   install, build (normal + ASan/UBSan), lint, run every test with CTest
#   make bench   build in Release and run every benchmark under bench/
#   make fuzz    build the libFuzzer harnesses with clang and run each for FUZZ_SECONDS
#
# Build trees: build/ (normal), build-asan/ (sanitizers), build-release/
# (benchmarks), build-fuzz/ (clang + libFuzzer; gcc builds carry -Werror, the clang one
# only reports).  CI=true turns on -Werror
# everywhere (it is always on in `make check`).

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 10
CMAKE ?= cmake
CTEST ?= ctest
EXTRA_CMAKE ?=
WERROR := $(if $(filter true,$(CI)),ON,OFF)

.PHONY: all demo check bench fuzz build build-asan lint format clean \
        deps-demo deps-check deps-bench

all: build

deps-demo:
	@bash scripts/bootstrap.sh
deps-check:
	@bash scripts/bootstrap.sh check
deps-bench:
	@bash scripts/bootstrap.sh bench

build: deps-demo
	$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTAMPEDE_WERROR=$(WERROR) $(EXTRA_CMAKE) >/dev/null
	$(CMAKE) --build build -j$(JOBS)

demo: deps-demo
	$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTAMPEDE_BUILD_TESTS=OFF -DSTAMPEDE_WERROR=$(WERROR) $(EXTRA_CMAKE) >/dev/null
	$(CMAKE) --build build -j$(JOBS) --target stampede_cli
	./build/stampede demo

lint: deps-check
	bash scripts/checksrc.sh
	bash scripts/format.sh --check

format:
	bash scripts/format.sh

check: deps-check lint
	@start=$$(date +%s); \
	$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTAMPEDE_BUILD_TESTS=ON -DSTAMPEDE_WITH_PG=ON -DSTAMPEDE_WITH_NATS=ON -DSTAMPEDE_WERROR=ON $(EXTRA_CMAKE) >/dev/null && \
	$(CMAKE) --build build -j$(JOBS) && \
	$(CMAKE) -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-O1 -g" -DSTAMPEDE_SANITIZE=ON -DSTAMPEDE_BUILD_TESTS=ON -DSTAMPEDE_WITH_PG=ON -DSTAMPEDE_WITH_NATS=ON -DSTAMPEDE_WERROR=ON $(EXTRA_CMAKE) >/dev/null && \
	$(CMAKE) --build build-asan -j$(JOBS) && \
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SECONDS) && \
	echo "== tests: normal build ==" && \
	$(CTEST) --test-dir build -LE bench -j$(JOBS) --output-on-failure && \
	echo "== tests: ASan + UBSan build ==" && \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	$(CTEST) --test-dir build-asan -LE bench -j$(JOBS) --output-on-failure && \
	echo "make check: passed in $$(( $$(date +%s) - start )) s"

fuzz: deps-check
	CC=clang $(CMAKE) -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTAMPEDE_BUILD_TESTS=OFF -DSTAMPEDE_BUILD_FUZZ=ON -DSTAMPEDE_SANITIZE=ON -DSTAMPEDE_WERROR=OFF $(EXTRA_CMAKE) >/dev/null
	$(CMAKE) --build build-fuzz -j$(JOBS)
	bash scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

bench: deps-bench
	$(CMAKE) -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DSTAMPEDE_BUILD_TESTS=OFF -DSTAMPEDE_BUILD_BENCH=ON -DSTAMPEDE_WITH_PG=ON -DSTAMPEDE_WITH_NATS=ON $(EXTRA_CMAKE) >/dev/null
	$(CMAKE) --build build-release -j$(JOBS)
	$(CTEST) --test-dir build-release -L bench -V -j1

clean:
	rm -rf build build-asan build-release build-fuzz
