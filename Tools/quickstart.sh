#!/usr/bin/env bash
# The README's main command. On a fresh Debian 12 machine with Swift: installs the system packages,
# builds ift-gpu in release mode, downloads SmolLM2-135M-Instruct, and fine-tunes it with LoRA on the
# default dataset (data/default/instructions.json) on the best backend (a Vulkan GPU if there is one,
# else the CPU), printing validation loss and exact-match accuracy before and after, and a few
# sample answers. Outputs (metrics.jsonl, report.html, checkpoint, PEFT adapter) go to runs/quickstart.
# Ends with how long each phase took. Extra arguments go to `ift-gpu train` (e.g. --max-steps 100,
# --backend cpu).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
start=$(date +%s)
phases=()
# phase NAME COMMAND...: runs the command and records its wall time.
phase() {
    local name=$1 t0
    shift
    t0=$(date +%s)
    "$@"
    phases+=("$name $(( $(date +%s) - t0 )) s")
}
echo "== 1/4 system packages"
phase apt Tools/install-deps.sh
# Same flags as Tools/test.sh so that the two share one build. SwiftPM prints [step/total] as it goes.
echo "== 2/4 build (release; a first build takes a few minutes)"
phase build swift build -c release -Xswiftc -enable-testing --product ift-gpu
bin=.build/release/ift-gpu
$bin devices || echo "(no Vulkan device: the CPU backend will be used)"
echo "== 3/4 download SmolLM2-135M-Instruct"
phase download $bin model pull smollm2-135m-instruct
# 70 LoRA steps of 8 examples (~32k tokens), with exact match on 24 validation examples before and
# after: a few minutes on 2 CPU cores.
echo "== 4/4 fine-tune and evaluate"
phase fine-tune $bin train --model smollm2-135m-instruct --data data/default/instructions.json --mode lora \
    --max-steps 70 --batch-size 8 --lr 1e-3 --warmup 5 --mask-instructions \
    --eval-examples 24 --max-new-tokens 32 --output runs/quickstart "$@"
echo
echo "phases: $(IFS=,; echo "${phases[*]}" | sed 's/,/, /g') (fine-tune includes the evaluations above)"
echo "done in $(( $(date +%s) - start )) s; loss curves: runs/quickstart/report.html; ift-gpu is at $bin (try: $bin train --help)"
