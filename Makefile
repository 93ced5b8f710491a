# virq — top-level driver.  `make` builds into build/, `make check` installs
# what is missing, builds and runs every test (normal, ASan+UBSan, TSan),
# the fuzz smoke runs, the lint and a benchmark smoke run.

BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
MESON      ?= meson
JOBS       ?= $(shell nproc)
SHELL      := /bin/bash

.PHONY: all deps check test test-asan test-tsan fuzz-smoke lint bench-smoke \
	kvm-skip-check bench format clean demo

all: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j $(JOBS)

deps:
	@./.ci/deps.sh

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD)

$(ASAN_BUILD)/build.ninja:
	CC=clang $(MESON) setup $(ASAN_BUILD) -Db_sanitize=address,undefined \
		-Db_lundef=false -Dbuildtype=debug -Dfuzz=true

$(TSAN_BUILD)/build.ninja:
	CC=clang $(MESON) setup $(TSAN_BUILD) -Dtsan=true -Db_sanitize=thread \
		-Db_lundef=false -Dbuildtype=debugoptimized

test: all
	$(MESON) test -C $(BUILD) --print-errorlogs --num-processes $(JOBS)

test-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD) -j $(JOBS)
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		$(MESON) test -C $(ASAN_BUILD) --print-errorlogs --num-processes $(JOBS) \
		--timeout-multiplier 3

# Every libFuzzer target for a short run (ASan+UBSan build), corpus kept
# in build-asan/corpus/ between runs.
FUZZ_SECONDS ?= 30
fuzz-smoke: test-asan
	@for f in $(ASAN_BUILD)/tests/fuzz/fuzz_*; do \
		[ -f "$$f" ] && [ -x "$$f" ] || continue; n=$$(basename $$f); \
		mkdir -p $(ASAN_BUILD)/corpus/$$n; \
		echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=1024 -print_final_stats=1 \
			$(ASAN_BUILD)/corpus/$$n tests/fuzz/corpus/$$n 2>&1 | \
			grep -E "stat::number_of_executed_units|ERROR|SUMMARY" ; \
		test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

# TSan runs every test (the concurrency suite is the point); liburcu is swapped
# for the atomics-based RCU in this build (src/core/rcu.h).
test-tsan: deps $(TSAN_BUILD)/build.ninja
	ninja -C $(TSAN_BUILD) -j $(JOBS)
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 VIRQ_STRESS_COMMITS=20000 VIRQ_STRESS_WRITES=20000 \
		setarch -R $(MESON) test -C $(TSAN_BUILD) \
		--print-errorlogs --num-processes 1 --timeout-multiplier 5

lint:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,performance,portability \
		--inline-suppr -D__GNUC__ -Iinclude -Isrc/core \
		src tests tools

bench-smoke: all
	./$(BUILD)/tools/bench/virq-bench --quick --json

# A KVM test may skip only where /dev/kvm cannot be used.
kvm-skip-check:
	@if [ -r /dev/kvm ] && [ -w /dev/kvm ] && \
	   grep -l "KVM-SKIP" $(BUILD)/meson-logs/testlog.txt $(ASAN_BUILD)/meson-logs/testlog.txt \
	   2>/dev/null; then \
		echo "FAIL: /dev/kvm is usable but a KVM test skipped"; exit 1; \
	else echo "kvm-skip-check: ok"; fi

check: test test-asan fuzz-smoke test-tsan lint bench-smoke kvm-skip-check
	@./.ci/summary.sh $(BUILD)/meson-logs/testlog.json \
		$(ASAN_BUILD)/meson-logs/testlog.json $(TSAN_BUILD)/meson-logs/testlog.json

bench: all
	./$(BUILD)/tools/bench/virq-bench

# The demo (docs/vm.md, "The demo"): a 2-vCPU guest taking interrupts from
# every path, a live table for about 10 s; without /dev/kvm, the same
# traffic through virq's LAPIC model.  DEMO_SECONDS / DEMO_ARGS adjust it.
DEMO_SECONDS ?= 10
demo: all
	./$(BUILD)/tools/vm/virq-vm --smp 2 --demo $(DEMO_SECONDS) $(DEMO_ARGS) \
		$(BUILD)/tests/guest/demo.elf

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
