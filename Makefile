# rollcall: `make run` to try it, `make test` for every suite. See README.md.
BUILD ?= build/release
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo Ninja || echo "Unix Makefiles")
LISTEN ?= 127.0.0.1:8080
DATABASE ?= sqlite:var/rollcall.db

.PHONY: deps build run test clean format asan fuzz bench

deps:
	@scripts/install-deps

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -G "$(GENERATOR)" -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) --parallel

run: build
	$(BUILD)/rollcall serve --listen $(LISTEN) --database $(DATABASE)

test: build
	scripts/run-tests $(BUILD)

# The sanitizer tree (clang, ASan + LSan + UBSan, libFuzzer targets): build/asan.
asan: deps
	scripts/asan-build build/asan

# Each libFuzzer target for FUZZ_SECONDS (default 60), built at -O1 in build/fuzz; findings in
# build/fuzz/fuzz-artifacts/.
FUZZ_SECONDS ?= 60
fuzz: deps
	scripts/asan-build build/fuzz -O1
	BUILD_ASAN=build/fuzz scripts/fuzz $(FUZZ_SECONDS)

# The benchmark (not part of `make test`): installs nginx and wrk if missing, builds, prints
# one table. See docs/benchmarks.md.
bench:
	bench/run $(BUILD)

format:
	clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h')

clean:
	rm -rf build
