#!/usr/bin/env bash
# The README's main command. On a fresh Debian 12 machine with Swift: installs the system packages,
# builds ift-gpu in release mode, lists the Vulkan devices and runs the kernel benchmark on the best
# backend. Fine-tuning (model loading, training and the default dataset) is added to this script as
# those parts land; until then it checks the engine end to end on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
Tools/install-deps.sh
swift build -c release --product ift-gpu
bin=.build/release/ift-gpu
$bin devices
$bin bench kernels --quick
echo
echo "ift-gpu is built at $bin (try: $bin --help)"
