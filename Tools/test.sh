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
swift test "${flags[@]}" --skip-build "$@"
