#!/usr/bin/env bash
# The GPU machine's script (see ../shared/gpu/README.md): run from the repository root there, with
# .gl/ holding a static, stripped ift-gpu built with
#   IFT_NO_YAML=1 IFT_NO_SERVER=1 swift build -c release --static-swift-stdlib --product ift-gpu --scratch-path .build-static
# and Debian 12's loaders as .debs (`cd .gl && apt-get download libvulkan1 libegl1 libglvnd0
# libopengl0 libgl1 libglx0 libgles2`; without glvnd the NVIDIA ICD returns no vkCreateInstance).
# The machine has OpenBLAS already. It installs nothing else, checks the Vulkan training step against the
# cpu backend on a small model, times `bench train` on Vulkan for LoRA, QLoRA and full fine-tuning,
# runs PyTorch + peft on the same workload in the same call, and measures a QLoRA step on the
# Llama-3.1-8B shape at batch 1 x 2048 (peak device memory). Results go to $OUT (or ./gpu-out).
# Test it on lavapipe first: BATCH=1 SEQ=32 LAYERS=2 TORCH=0 QLORA8B=0 Tools/gpu-run.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
BATCH=${BATCH:-8}; SEQ=${SEQ:-512}; LAYERS=${LAYERS:-30}; TORCH=${TORCH:-1}
B=.gl/ift-gpu
if [ -d /usr/local/nvidia ]; then
    for d in .gl/*.deb; do dpkg -x "$d" / ; done
    ldconfig
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
    nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
fi
log() { echo "== $*" | tee -a "$OUT/log.txt"; }
log "devices"
$B devices 2>&1 | tee "$OUT/devices.txt" | head -20
log "correctness: first-step loss, vulkan vs cpu (2 layers, random weights)"
for mode in lora qlora full; do
    for be in cpu vulkan; do
        timeout 60 $B bench train --backend $be --mode $mode --layers 2 --batch 2 --seq 128 --steps 2 --json 2>&1 | tail -1 | tee -a "$OUT/check.jsonl"
    done
done
log "bench train on vulkan: batch $BATCH x $SEQ, $LAYERS layers"
for mode in lora qlora full; do
    timeout 90 $B bench train --backend vulkan --mode $mode --batch "$BATCH" --seq "$SEQ" --layers "$LAYERS" --steps 3 --warmup 1 --json 2>&1 | tail -2 | tee -a "$OUT/bench.jsonl"
done
log "A/B: split-K off (IFT_MATMUL_SPLITK=0), LoRA"
IFT_MATMUL_SPLITK=0 timeout 90 $B bench train --backend vulkan --mode lora --batch "$BATCH" --seq "$SEQ" --layers "$LAYERS" --steps 3 --warmup 1 --json 2>&1 | tail -1 | tee -a "$OUT/bench-nosplitk.jsonl"
log "GPU time per kernel (IFT_VULKAN_PROFILE=1)"
for mode in lora full; do
    IFT_VULKAN_PROFILE=1 timeout 90 $B bench train --backend vulkan --mode $mode --batch "$BATCH" --seq "$SEQ" --layers "$LAYERS" --steps 2 --warmup 1 2>&1 | tail -22 | tee -a "$OUT/profile-$mode.txt"
done
if [ "$TORCH" = 1 ]; then
    log "PyTorch + peft, same workload (fp32, as ift-gpu)"
    for mode in lora full; do
        for dt in fp32; do
            timeout 90 python3 Tools/bench-train-torch.py --device cuda --mode $mode --dtype $dt --batch "$BATCH" --seq "$SEQ" --layers "$LAYERS" --steps 5 --warmup 2 2>&1 | tail -1 | tee -a "$OUT/torch.jsonl"
        done
    done
fi
if [ "${QLORA8B:-1}" = 1 ]; then
    log "QLoRA memory: Llama-3.1-8B shape (random NF4 base), batch 1 x 2048, 1 step; target: device peak within 10 GiB"
    # QLORA8B_FLAGS adds options (e.g. --checkpoint-activations where the build has it).
    timeout 300 $B bench train --backend vulkan --shape llama-3.1-8b --mode qlora --batch 1 --seq 2048 --steps 1 --warmup 0 ${QLORA8B_FLAGS:-} --json 2>&1 | tail -2 | tee -a "$OUT/qlora-8b.jsonl"
fi
log "matmul kernels on vulkan"
timeout 60 $B bench kernels --kernels matmul --backends vulkan --repeat 3 2>&1 | tail -12 | tee "$OUT/kernels.txt"
log "done"
