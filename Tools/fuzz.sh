#!/usr/bin/env bash
# libFuzzer + AddressSanitizer on every parser of outside input (not part of the test suite).
#
#   Tools/fuzz.sh TARGET SECONDS     # TARGET: gguf, safetensors, tokenizer, template, dataset,
#                                    #         checkpoint, request, yaml, or all (each for SECONDS)
#
# Builds Tools/fuzz (a package of its own over the library's sources: the main build is untouched)
# with `-sanitize=fuzzer,address` (every module: coverage and AddressSanitizer), seeds a working corpus in .build/fuzz/TARGET from
# Tools/fuzz/corpus/TARGET (and, for the model formats, the test fixtures), and runs the target.
# A crash, leak, hang (> 10 s) or memory blow-up (> 2 GB) leaves its input in
# .build/fuzz/TARGET-artifacts/; replay it with IFT_FUZZ_TARGET=TARGET Tools/fuzz/.build/debug/ift-fuzz FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET=${1:?usage: Tools/fuzz.sh TARGET SECONDS}
SECONDS_EACH=${2:-60}
TARGETS="gguf safetensors tokenizer template dataset checkpoint request yaml"
[[ $TARGET == all ]] && set -- $TARGETS || set -- "$TARGET"
export PATH=/opt/swift/usr/bin:$PATH
# Every module instrumented (SwiftPM's --sanitize fuzzer instruments only the executable's own).
swift build --package-path Tools/fuzz -c debug -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address 2>&1 |
    grep -E "error|Build complete" || true
BIN=$ROOT/Tools/fuzz/.build/debug/ift-fuzz
[[ -x $BIN ]] || { echo "the fuzz build failed"; exit 1; }
status=0
for t in "$@"; do
    work=$ROOT/.build/fuzz/$t
    mkdir -p "$work" "$work-artifacts"
    cp -n Tools/fuzz/corpus/$t/* "$work/" 2> /dev/null || true
    case $t in
        gguf) cp -n Tests/IFTModelTests/Fixtures/*.gguf Tests/CLITests/Fixtures/tiny-other.gguf "$work/" ;;
        safetensors) cp -n Tests/IFTModelTests/Fixtures/*.safetensors "$work/" ;;
    esac
    start=$(date +%s)
    rc=0
    IFT_FUZZ_TARGET=$t "$BIN" "$work" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$work-artifacts/" -print_final_stats=1 > "$work.log" 2>&1 || rc=$?
    wall=$(($(date +%s) - start))
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$work.log" | awk '{print $2}' || true)
    cov=$(grep -o 'cov: [0-9]*' "$work.log" | tail -1 | awk '{print $2}' || true)
    echo "$t: ${execs:-?} executions in $wall s ($(( ${execs:-0} / (wall > 0 ? wall : 1) ))/s), coverage $cov, corpus $(ls "$work" | wc -l) inputs, exit $rc"
    if [[ $rc -ne 0 ]]; then
        status=1
        grep -E "ERROR: (AddressSanitizer|libFuzzer)|SUMMARY|Fatal error|Test unit written" "$work.log" | head -5 | sed 's/^/    /'
    fi
done
exit $status
