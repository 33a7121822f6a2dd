#!/usr/bin/env bash
# The README's main command. On a fresh Debian 12 machine with Swift: installs the system packages,
# builds ift-gpu in release mode, downloads SmolLM2-135M-Instruct and answers a question with it on
# the best backend (a Vulkan GPU if there is one, else the CPU). Fine-tuning joins this script when
# the training and data parts land.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
Tools/install-deps.sh
# Same flags as Tools/test.sh so that the two share one build.
swift build -c release -Xswiftc -enable-testing --product ift-gpu
bin=.build/release/ift-gpu
$bin devices || echo "(no Vulkan device: the CPU backend will be used)"
$bin model pull smollm2-135m-instruct
$bin generate --model smollm2-135m-instruct --chat --prompt "What is the capital of France?" --max-tokens 64
echo
echo "ift-gpu is built at $bin (try: $bin --help)"
