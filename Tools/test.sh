#!/usr/bin/env bash
# The full test suite, in release mode (numeric loops are many times slower in debug builds).
# Vulkan tests run on the first Vulkan device (lavapipe without a GPU) with the Khronos
# validation layer on; IFT_REQUIRE_VULKAN=1 turns a missing device into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
Tools/install-deps.sh
swift build -c release --product ift-gpu
.build/release/ift-gpu devices
swift test -c release "$@"
