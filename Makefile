# rollcall: `make run` to try it, `make test` for every suite. See README.md.
BUILD ?= build/release
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo Ninja || echo "Unix Makefiles")
LISTEN ?= 127.0.0.1:8080
DATABASE ?= sqlite:var/rollcall.db

.PHONY: deps build run test unit api clean format

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

# The benchmark (not part of `make test`): installs nginx and wrk if missing, builds, prints
# one table. See docs/benchmarks.md.
.PHONY: bench
bench:
	bench/run $(BUILD)

format:
	clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h')

clean:
	rm -rf build
