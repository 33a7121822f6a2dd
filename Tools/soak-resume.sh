#!/usr/bin/env bash
# Crash soak for `ift-gpu train --resume` (not part of the test suite).
#
#   Tools/soak-resume.sh [KILLS] [BACKENDS]        # defaults: 20, "cpu-ref cpu"
#
# For each backend:
#  1. an uninterrupted reference run (LoRA with dropout, a checkpoint every step, validation every
#     25 steps, so best/ moves too);
#  2. the same run killed with SIGKILL KILLS times and resumed with --resume each time. The kills
#     take turns: at a random moment, inside a checkpoint write (IFT_TEST_CHECKPOINT_PAUSE_MS
#     holds the save between its files; the kill comes once checkpoint.tmp-* exists), and between
#     the save's two renames (IFT_TEST_CHECKPOINT_RENAME_PAUSE_MS; the kill comes once
#     checkpoint.old exists — the fallback for file systems without an atomic name exchange,
#     forced with IFT_TEST_NO_RENAME_EXCHANGE=1; on Linux a save swaps the names in one step). After every kill the checkpoint is checked readable (state.json
#     parses, both safetensors files are complete); at the end the weights, the AdamW moments,
#     state.json, best/, the adapter and metrics.jsonl (every field but the timings) must equal the
#     reference's byte for byte;
#  3. the full disk: the output on a 4 MiB tmpfs (a mount namespace of its own: `unshare -rm`, or
#     plain `unshare -m` as root), filled up while the run trains. The run must stop with a clear
#     error, its last checkpoint readable, and once the filler is removed the resumed run must end
#     equal to the reference.
#
# Needs the release build (`swift build -c release`) and python3 (standard library only).
# Environment: IFT_BIN (the binary), SOAK_MODEL (default: the tiny CLI fixture), SOAK_DATA,
# SOAK_STEPS (default 150).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${IFT_BIN:-$ROOT/.build/release/ift-gpu}
MODEL=${SOAK_MODEL:-$ROOT/Tests/CLITests/Fixtures/tiny.gguf}
DATA=${SOAK_DATA:-$ROOT/data/default/instructions.json}
STEPS=${SOAK_STEPS:-150}

train_args() {  # BACKEND OUTPUT
    echo train --model "$MODEL" --data "$DATA" --backend "$1" --max-steps "$STEPS" --batch-size 4 --max-length 64 \
        --rank 4 --lora-dropout 0.1 --warmup 5 --eval-every 25 --save-every 1 --seed 3 --threads 2 --output "$2"
}

# A checkpoint directory is readable: state.json parses and every safetensors file holds exactly
# the bytes its header describes. A checkpoint moved aside (DIR.old, no DIR) counts: resume moves it
# back. Prints the step, or "none" when there is no checkpoint yet.
check_checkpoint() {
    python3 - "$1" <<'EOF'
import json, os, struct, sys
d = sys.argv[1]
if not os.path.exists(d + "/state.json") and os.path.exists(d + ".old/state.json"):
    d += ".old"
if not os.path.exists(d):
    print("none"); sys.exit(0)
state = json.load(open(d + "/state.json"))
for f in ("trainable.safetensors", "optimizer.safetensors"):
    b = open(os.path.join(d, f), "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    end = max(v["data_offsets"][1] for k, v in h.items() if k != "__metadata__")
    if 8 + n + end != len(b):
        sys.exit(f"UNREADABLE: {d}/{f}: {len(b)} bytes, the header describes {8 + n + end}")
print(state["trainer"]["step"])
EOF
}

# metrics.jsonl without the timing fields (tokens/s, elapsed, memory), one canonical line per step.
metrics_projection() {
    python3 - "$1" <<'EOF'
import json, sys
keep = ("step", "epoch", "loss", "lr", "grad_norm", "tokens", "val_loss")
for line in open(sys.argv[1]):
    row = json.loads(line)
    print(json.dumps({k: row[k] for k in keep if k in row}, sort_keys=True))
EOF
}

# Compares run directory $2 with the reference $1, file by file; prints one line per file.
compare_runs() {
    local ref=$1 run=$2 bad=0
    for f in checkpoint/trainable.safetensors checkpoint/optimizer.safetensors checkpoint/state.json \
        best/trainable.safetensors best/optimizer.safetensors best/state.json \
        adapter/adapter_model.safetensors adapter/adapter_config.json; do
        if cmp -s "$ref/$f" "$run/$f"; then
            echo "  equal  $(sha256sum "$run/$f" | cut -c1-16)  $f"
        else
            echo "  DIFFER $f"; bad=1
        fi
    done
    metrics_projection "$ref/metrics.jsonl" > "$ref/metrics.projected"
    metrics_projection "$run/metrics.jsonl" > "$run/metrics.projected"
    if cmp -s "$ref/metrics.projected" "$run/metrics.projected"; then
        echo "  equal  $(sha256sum "$run/metrics.projected" | cut -c1-16)  metrics.jsonl ($(wc -l < "$run/metrics.projected") steps; step, epoch, loss, lr, grad_norm, tokens, val_loss)"
    else
        echo "  DIFFER metrics.jsonl"; diff "$ref/metrics.projected" "$run/metrics.projected" | head -5; bad=1
    fi
    return $bad
}

# Polls every 5 ms until `$2` (a shell condition) holds or process $1 ends (at most 30 s).
wait_for() {
    local pid=$1 condition=$2 i
    for ((i = 0; i < 6000; i++)); do
        eval "$condition" && return 0
        kill -0 "$pid" 2> /dev/null || return 1
        sleep 0.005
    done
    return 1
}

# A checkpoint.tmp-* directory that was not there before this start ($earlier).
new_temporary() { [[ -n $(comm -13 <(echo "$earlier" | sort) <(compgen -G "$out/checkpoint.tmp-*" | sort)) ]]; }

# The kill-and-resume soak of one backend in $WORK/$backend.
soak_kills() {
    local backend=$1 dir=$WORK/$1 earlier="" kills=0 starts=0 in_write=0 in_rename=0 random_kills=0 none=0
    local out=$dir/killed
    mkdir -p "$dir"
    local t0=$SECONDS
    # shellcheck disable=SC2046
    "$BIN" $(train_args "$backend" "$dir/ref") > "$dir/ref.log" 2>&1
    echo "[$backend] reference run: $STEPS steps in $((SECONDS - t0)) s"
    t0=$SECONDS
    while true; do
        local resume=()
        if [[ -e $out/checkpoint/state.json || -e $out/checkpoint.old/state.json ]]; then resume=(--resume "$out/checkpoint"); fi
        starts=$((starts + 1))
        if ((kills >= KILLS)); then
            # shellcheck disable=SC2046
            "$BIN" $(train_args "$backend" "$out") "${resume[@]}" >> "$dir/killed.log" 2>&1
            break
        fi
        local mode=$((kills % 4)) envs=()
        case $mode in
            2) envs=(IFT_TEST_CHECKPOINT_PAUSE_MS=40) ;;
            3) envs=(IFT_TEST_CHECKPOINT_RENAME_PAUSE_MS=40 IFT_TEST_NO_RENAME_EXCHANGE=1) ;;
        esac
        earlier=$(compgen -G "$out/checkpoint.tmp-*" || true)
        # shellcheck disable=SC2046
        env "${envs[@]}" "$BIN" $(train_args "$backend" "$out") "${resume[@]}" >> "$dir/killed.log" 2>&1 &
        local pid=$! what
        case $mode in
            2) wait_for "$pid" new_temporary || true; what="inside a checkpoint write" ;;
            3) wait_for "$pid" '[[ -e $out/checkpoint.old && ! -e $out/checkpoint ]]' || true; what="between the checkpoint renames" ;;
            *) sleep "$(python3 -c 'import random; print(round(random.uniform(0.05, 0.6), 3))')"; what="at a random moment" ;;
        esac
        if ! kill -9 "$pid" 2> /dev/null; then
            wait "$pid" || true
            echo "[$backend] the run ended before kill $((kills + 1)): raise SOAK_STEPS"; return 1
        fi
        wait "$pid" 2> /dev/null || true
        kills=$((kills + 1))
        local left=""
        if new_temporary; then left+=" (a checkpoint write left unfinished)"; in_write=$((in_write + 1)); fi
        if [[ -e $out/checkpoint.old && ! -e $out/checkpoint ]]; then left+=" (only checkpoint.old: moved aside)"; in_rename=$((in_rename + 1)); fi
        [[ $mode -le 1 ]] && random_kills=$((random_kills + 1))
        local step
        step=$(check_checkpoint "$out/checkpoint") || { echo "[$backend] kill $kills: $step"; return 1; }
        [[ $step == none ]] && none=$((none + 1))
        printf '[%s] kill %2d %-32s checkpoint readable, step %s%s\n' "$backend" "$kills" "$what:" "$step" "$left"
    done
    echo "[$backend] $kills kills ($random_kills at random moments; $in_write stopped a checkpoint write half-way, $in_rename of them between its renames), $starts starts, $((SECONDS - t0)) s"
    echo "[$backend] killed-and-resumed run against the uninterrupted one:"
    compare_runs "$dir/ref" "$out"
}

# The full-disk case, run inside a mount namespace with a 4 MiB tmpfs at $WORK/disk.
disk_phase() {
    local backend=$1 disk=$WORK/disk out=$WORK/disk/run
    mkdir -p "$disk"
    mount -t tmpfs -o size=4m tmpfs "$disk"
    # shellcheck disable=SC2046
    IFT_TEST_CHECKPOINT_PAUSE_MS=10 "$BIN" $(train_args "$backend" "$out") > "$WORK/disk-$backend.log" 2>&1 &
    local pid=$!
    # Let it write a few checkpoints, then fill the disk.
    while kill -0 "$pid" 2> /dev/null; do
        local s
        s=$(check_checkpoint "$out/checkpoint" 2> /dev/null || echo none)
        [[ $s != none && $s -ge 20 ]] && break
        sleep 0.05
    done
    dd if=/dev/zero of="$disk/filler" bs=64k 2> /dev/null || true
    echo "[$backend] disk full: $(df -k "$disk" | awk 'NR==2 {print $4}') KiB free of 4096"
    local rc=0
    wait "$pid" || rc=$?
    echo "[$backend] the run stopped with exit status $rc:"
    grep '^Error' "$WORK/disk-$backend.log" | sed 's/^/  /'
    [[ $rc -ne 0 ]] || { echo "  it should have failed"; return 1; }
    local step
    step=$(check_checkpoint "$out/checkpoint") || { echo "  $step"; return 1; }
    echo "[$backend] last checkpoint readable: step $step; temporaries left: $(cd "$out" && ls -d ./*.tmp-* 2> /dev/null | wc -l)"
    rm -f "$disk/filler"
    # shellcheck disable=SC2046
    "$BIN" $(train_args "$backend" "$out") --resume "$out/checkpoint" >> "$WORK/disk-$backend.log" 2>&1
    echo "[$backend] space freed, resumed from step $step to the end; against the uninterrupted run:"
    compare_runs "$WORK/$backend/ref" "$out"
    umount "$disk"
}

if [[ ${1:-} == --disk-phase ]]; then
    WORK=$2
    disk_phase "$3"
    exit $?
fi

KILLS=${1:-20}
BACKENDS=${2:-"cpu-ref cpu"}
[[ -x $BIN ]] || { echo "no $BIN: swift build -c release first"; exit 1; }
WORK=$(mktemp -d /tmp/ift-soak-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
echo "ift-gpu crash soak: $KILLS kills per backend, $STEPS steps, model $MODEL, work in $WORK"
status=0
for backend in $BACKENDS; do
    soak_kills "$backend" || status=1
    if [[ $(id -u) == 0 ]]; then ns=(unshare -m); else ns=(unshare -rm); fi
    "${ns[@]}" "$0" --disk-phase "$WORK" "$backend" || status=1
done
echo "soak: $([[ $status == 0 ]] && echo PASSED || echo FAILED)"
exit $status
