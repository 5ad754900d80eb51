#!/bin/sh
# t_fuzz.sh - every libFuzzer target (tests/fuzz/fuzz_*.c) runs a few
# seconds: it replays its committed corpus, which holds every input that
# ever crashed it, then fuzzes a little. The long runs are "make fuzz".
# Skips, saying so, when clang or its libFuzzer runtime is missing.
. "$TOP/tests/lib/common.sh"

# The same clang as make fuzz: one whose libFuzzer runtime is installed.
CLANG=$(sh "$TOP/tests/fuzz/cc.sh") ||
    skip_all "no clang with its libFuzzer runtime (apt-get install clang libclang-rt-dev): fuzz targets not run"

# Build (incrementally) into build-fuzz/, whatever $BUILD the suite uses.
if ! make -C "$TOP" -s FUZZ_CC="$CLANG" fuzz-build >"$TESTS_TMP/build.log" 2>&1; then
    tail -n 30 "$TESTS_TMP/build.log" | sed 's/^/# /'
    tap_ok 1 "fuzz targets build with clang (make fuzz-build)"
    exit 1
fi
tap_ok 0 "fuzz targets build with clang (make fuzz-build)"

# Its own scratch corpus: a check run never writes into the tree.
FUZZ_WORK="$TESTS_TMP/fuzz" sh "$TOP/tests/fuzz/run" "${FUZZ_CHECK_SECONDS:-3}" |
    awk '/^1\.\./ { next } /^(not )?ok / { sub(/ok [0-9]+ /, "ok " ++n + 1 " ") } { print }' \
    >"$TESTS_TMP/run.out"
cat "$TESTS_TMP/run.out"
! grep -q '^not ok' "$TESTS_TMP/run.out"
