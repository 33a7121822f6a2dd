#!/usr/bin/env bash
# The full test suite, in release mode (numeric loops are many times slower in debug builds).
# Vulkan tests run on the first Vulkan device (lavapipe without a GPU) with the Khronos
# validation layer on; IFT_REQUIRE_VULKAN=1 turns a missing device into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
Tools/install-deps.sh
# Release build (-enable-testing lets the tests' @testable imports work in release mode); the
# binary the CLI tests run comes from the same build.
flags=(-c release -Xswiftc -enable-testing)
swift build "${flags[@]}" --build-tests
.build/release/ift-gpu devices
# The real-model tests read SmolLM2-135M-Instruct from the build directory (downloaded once).
IFT_HOME="$PWD/.build" .build/release/ift-gpu model pull smollm2-135m-instruct
export IFT_SMOLLM2_GGUF="$PWD/.build/models/SmolLM2-135M-Instruct.Q4_1.gguf"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# XCTest only (there are no Swift Testing tests), so the run ends on XCTest's summary; then one
# plain "N passed, N failed" line for log readers.
status=0
swift test "${flags[@]}" --skip-build --disable-swift-testing "$@" 2>&1 | tee "$log" || status=$?
summary=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with " "$log" | tail -1 || true)
if [ -n "$summary" ]; then
    total=$(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
    failed=$(echo "$summary" | sed -E 's/.* ([0-9]+) failures?.*/\1/')
    skipped=0
    if echo "$summary" | grep -qE "[0-9]+ tests? skipped"; then
        skipped=$(echo "$summary" | sed -E 's/.* ([0-9]+) tests? skipped.*/\1/')
    fi
    echo "$((total - failed - skipped)) passed, $failed failed, $skipped skipped"
fi
exit $status
