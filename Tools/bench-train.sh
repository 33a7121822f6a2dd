#!/usr/bin/env bash
# `ift-gpu bench train` beside PyTorch + peft on the same workload (random SmolLM2-135M-shaped
# model, random tokens, AdamW), in one run, alternating the two so machine noise hits both; prints
# both JSON lines and the tokens/s ratio (ift-gpu / PyTorch) per mode.
#
# The first line names the CPU; each ratio line names the cpu backend's BLAS kernel and PyTorch's
# CPU capability. To compare on an AVX2 machine's terms on an AVX-512 one, cap both sides:
#   IFT_BLAS_CORETYPE=Haswell MKL_ENABLE_INSTRUCTIONS=AVX2 ATEN_CPU_CAPABILITY=avx2 \
#   ONEDNN_MAX_CPU_ISA=AVX2 Tools/bench-train.sh
#
# Usage: Tools/bench-train.sh [--backend cpu|vulkan] [--device cpu|cuda] [--modes "lora full"]
#                             [--batch 4] [--seq 256] [--steps 3] [--layers 30]
# Needs a release build (.build/release/ift-gpu) and python3 with torch, transformers and peft.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=cpu; device=cpu; modes="lora full"; batch=4; seq=256; steps=3; layers=30; bin=.build/release/ift-gpu
while [ $# -gt 0 ]; do
    case "$1" in
        --backend) backend=$2; shift 2 ;;
        --device) device=$2; shift 2 ;;
        --modes) modes=$2; shift 2 ;;
        --batch) batch=$2; shift 2 ;;
        --seq) seq=$2; shift 2 ;;
        --steps) steps=$2; shift 2 ;;
        --layers) layers=$2; shift 2 ;;
        --bin) bin=$2; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
# The machine, as both sides see it.
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} IFT_BLAS_CORETYPE=${IFT_BLAS_CORETYPE:-unset}"
for mode in $modes; do
    ours=$("$bin" bench train --backend "$backend" --mode "$mode" --batch "$batch" --seq "$seq" --steps "$steps" --layers "$layers" --json | tail -1)
    theirs=$(python3 Tools/bench-train-torch.py --device "$device" --mode "$mode" --batch "$batch" --seq "$seq" --steps "$steps" --layers "$layers" | tail -1)
    echo "$ours"
    echo "$theirs"
    python3 - "$ours" "$theirs" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
kernel = f", BLAS kernel {a['blas_kernel']}, {a['threads']} threads" if 'blas_kernel' in a else ""
print(f"{a['mode']}: ift-gpu ({a['backend']}{kernel}) {a['tokens_per_s']:.1f} tok/s vs PyTorch ({b.get('device')}) {b['tokens_per_s']:.1f} tok/s -> ratio {a['tokens_per_s'] / b['tokens_per_s']:.2f}x")
PY
done
