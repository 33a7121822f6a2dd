#!/usr/bin/env python3
"""safetensors cross-checks against the reference `safetensors` package (Hugging Face).

    pip install safetensors numpy

    # Write Tests/IFTModelTests/Fixtures/hf-fixture.safetensors with safetensors.numpy:
    python3 Tools/make-safetensors-fixture.py write [OUT]

    # Validate a file OUR writer wrote (Tests/IFTModelTests/Fixtures/ift-writer.safetensors,
    # produced by SafetensorsTests with IFT_REGENERATE_FIXTURES=1) with safetensors.safe_open:
    python3 Tools/make-safetensors-fixture.py check [PATH]

numpy has no bfloat16, so the reference package cannot write or return BF16 arrays through its
numpy API; BF16 is checked by reading the raw bytes at the offsets the header gives.
"""
import json
import os
import struct
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "Tests", "IFTModelTests", "Fixtures")


def write(out: str) -> None:
    tensors = {
        "model.embed_tokens.weight": (np.arange(12, dtype=np.float32).reshape(3, 4) / 8 - 0.5),
        "model.norm.weight": np.array([1.0, 0.5, -2.0, 65504.0], dtype=np.float16),
        "scalar": np.array(3.5, dtype=np.float32),
        "layers.0.w": np.arange(24, dtype=np.float32).reshape(2, 3, 4),
    }
    save_file(tensors, out, metadata={"format": "pt", "note": "written by safetensors.numpy"})
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")


def check(path: str) -> None:
    """Checks the file SafetensorsTests.writerRecipe() builds (keep the two in sync)."""
    fails = []

    def expect(cond: bool, what: str) -> None:
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            fails.append(what)

    base = np.arange(24, dtype=np.float32).reshape(2, 3, 4) * 0.375 - 3
    with safe_open(path, framework="np") as f:  # validates the header and the offsets
        expect(f.metadata() == {"creator": "ift-gpu", "ü": "✓"}, f"metadata {f.metadata()}")
        expect(sorted(f.keys()) == ["a.f32", "b.f16", "c.bf16", "d.empty"], f"keys {sorted(f.keys())}")
        expect(np.array_equal(f.get_tensor("a.f32"), base), "a.f32 values")
        expect(f.get_tensor("b.f16").dtype == np.float16 and np.array_equal(f.get_tensor("b.f16"), base.astype(np.float16)),
               "b.f16 values")
        expect(f.get_tensor("d.empty").shape == (0, 3), "d.empty shape")
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    expect((8 + n) % 8 == 0, f"data section starts at {8 + n}, a multiple of 8")
    e = header["c.bf16"]
    expect(e["dtype"] == "BF16" and e["shape"] == [2, 3, 4], f"c.bf16 entry {e}")
    b, end = e["data_offsets"]
    bits = np.frombuffer(raw[8 + n + b:8 + n + end], dtype="<u2").astype(np.uint32) << 16
    vals = bits.view(np.float32).reshape(2, 3, 4)
    expect(np.allclose(vals, base, rtol=1 / 128), f"c.bf16 values (max err {np.abs(vals - base).max()})")
    print("ALL OK" if not fails else f"{len(fails)} FAILURES")
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "write"
    if cmd == "write":
        write(sys.argv[2] if len(sys.argv) > 2 else os.path.join(FIXTURES, "hf-fixture.safetensors"))
    elif cmd == "check":
        check(sys.argv[2] if len(sys.argv) > 2 else os.path.join(FIXTURES, "ift-writer.safetensors"))
    else:
        sys.exit(__doc__)
