#!/bin/sh
# Runs every test against the binaries in $BUILD (default build/):
# unit tests (build/tests/*_test), integration scripts
# (tests/integration/*.sh) and short fuzz runs (build-fuzz/*_fuzz).
# Prints PASS/FAIL per test, keeps the output of failures under
# tests/out/, and ends with "N passed, N failed".
#
# TESTS=pattern limits the run to tests whose name contains pattern.

BUILD=${BUILD:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=$TOP/tests/out/$(basename "$BUILD")
mkdir -p "$OUT"
export BUILD TOP
BIN=$(cd "$TOP/$BUILD" && pwd)
export BIN

passed=0
failed=0
failures=""

# Sanitizer builds write their reports to files, so a report from a
# daemon that a test killed in its cleanup still fails that test.
SANLOG=$OUT/sanitizer
rm -rf "$SANLOG"
mkdir -p "$SANLOG"
export ASAN_OPTIONS="log_path=$SANLOG/asan:detect_leaks=1:abort_on_error=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="log_path=$SANLOG/ubsan:print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export TSAN_OPTIONS="log_path=$SANLOG/tsan:second_deadlock_stack=1${TSAN_SUPP:+:suppressions=$TSAN_SUPP}${TSAN_OPTIONS:+:$TSAN_OPTIONS}"

run_one() {
	name=$1
	shift
	case "$name" in *"${TESTS:-}"*) ;; *) return ;; esac
	log="$OUT/$name.log"
	mkdir -p "$(dirname "$log")"
	start=$(date +%s)
	"$@" >"$log" 2>&1
	rc=$?
	if [ -n "$(ls "$SANLOG")" ]; then
		echo "sanitizer reports:" >>"$log"
		cat "$SANLOG"/* >>"$log"
		rm -f "$SANLOG"/*
		[ "$rc" -eq 0 ] && rc=99
	fi
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
		echo "PASS $name ($(( $(date +%s) - start ))s)"
		rm -f "$log"
	else
		failed=$((failed + 1))
		failures="$failures $name"
		echo "FAIL $name ($(( $(date +%s) - start ))s), output in $log:"
		tail -n 60 "$log" | sed 's/^/    /'
	fi
}

for t in "$BIN"/tests/*_test; do
	[ -x "$t" ] || continue
	run_one "unit/$(basename "$t")" "$t"
done

for t in "$TOP"/tests/integration/*_test.sh; do
	[ -f "$t" ] || continue
	run_one "integration/$(basename "$t" .sh)" bash "$t"
done

if [ "${RUN_FUZZ:-1}" = 1 ] && [ -d "$TOP/build-fuzz" ]; then
	for f in "$TOP"/build-fuzz/*_fuzz; do
		[ -x "$f" ] || continue
		# New inputs go to a scratch corpus; the committed seeds
		# are only read.
		seeds="$TOP/tests/fuzz/seeds/$(basename "$f")"
		scratch="$OUT/corpus-$(basename "$f")"
		mkdir -p "$scratch" "$seeds"
		run_one "fuzz/$(basename "$f")" \
		    "$f" -max_total_time=${FUZZ_SECONDS:-10} -rss_limit_mb=2048 \
		    -timeout=5 "$scratch" "$seeds"
	done
fi

echo
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
	echo "no test ran: nothing built in $BUILD, or TESTS=${TESTS:-} matched none" >&2
	exit 1
fi
[ "$failed" -eq 0 ]
