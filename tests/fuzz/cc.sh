#!/bin/sh
# cc.sh - print the clang to build the fuzz targets with: the first of
# clang, clang-NN (newest first) on PATH whose libFuzzer runtime
# (libclang_rt.fuzzer, from libclang-rt-dev or libclang-rt-NN-dev) is
# installed. Prints nothing and exits 1 when there is none. Used by the
# Makefile (FUZZ_CC) and tests/t_fuzz.sh, so both pick the same compiler.
has_fuzzer_rt() {
    dir=$("$1" -print-resource-dir 2>/dev/null) || return 1
    for rt in "$dir"/lib/linux/libclang_rt.fuzzer-*.a "$dir"/lib/*/libclang_rt.fuzzer.a; do
        [ -f "$rt" ] && return 0
    done
    return 1
}
cands=$(command -v clang 2>/dev/null)
versioned=$(IFS=:; for d in $PATH; do ls "$d" 2>/dev/null; done |
    grep -x 'clang-[0-9][0-9]*' | sort -t- -k2,2nr -u)
for c in $versioned; do
    cands="$cands $(command -v "$c")"
done
for c in $cands; do
    if has_fuzzer_rt "$c"; then
        echo "$c"
        exit 0
    fi
done
exit 1
