#!/usr/bin/env bash
# The README's main command. On a fresh Debian 12 machine with Swift: installs the system packages,
# builds ift-gpu in release mode, downloads SmolLM2-135M-Instruct, and fine-tunes it with LoRA on the
# default dataset (data/default/instructions.json) on the best backend (a Vulkan GPU if there is one,
# else the CPU), printing validation loss and exact-match accuracy before and after, and a few
# sample answers. Outputs (metrics.jsonl, report.html, checkpoint, PEFT adapter) go to runs/quickstart.
# Extra arguments go to `ift-gpu train` (e.g. --max-steps 100, --backend cpu).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
start=$(date +%s)
Tools/install-deps.sh
# Same flags as Tools/test.sh so that the two share one build.
swift build -c release -Xswiftc -enable-testing --product ift-gpu
bin=.build/release/ift-gpu
$bin devices || echo "(no Vulkan device: the CPU backend will be used)"
$bin model pull smollm2-135m-instruct
# 70 LoRA steps of 8 examples (~32k tokens): about 5 minutes on 2 CPU cores.
$bin train --model smollm2-135m-instruct --data data/default/instructions.json --mode lora \
    --max-steps 70 --batch-size 8 --lr 1e-3 --warmup 5 --mask-instructions \
    --eval-examples 24 --max-new-tokens 32 --output runs/quickstart "$@"
echo
echo "done in $(( $(date +%s) - start )) s; loss curves: runs/quickstart/report.html; ift-gpu is at $bin (try: $bin train --help)"
