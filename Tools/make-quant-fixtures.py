#!/usr/bin/env python3
"""Writes Tests/IFTCPUTests/Fixtures/quant-fixtures.json: quantized blocks and their dequantized
float32 values, produced by an implementation independent of ours, so that the Swift tests can
require bit-exact agreement.

  - Q8_0, Q4_0, Q4_1: quantized with gguf-py's numpy quantizers (`gguf.quants.quantize`, which
    follow ggml's quantize_row_*_ref) from random floats, and dequantized with gguf-py.
  - Q8_0, Q4_0, Q4_1, Q4_K: blocks of random bytes (with sane finite f16 scales) dequantized with
    gguf-py. gguf-py has no Q4_K quantizer, so Q4_K blocks are built from random bytes only.
  - NF4 (ours, QLoRA's NormalFloat-4 in blocks of 64 with an f32 absmax): quantized and
    dequantized by the small numpy implementation below.

Usage (from the repository root):

    pip install gguf numpy
    python3 Tools/make-quant-fixtures.py

The output is deterministic for a given seed and gguf/numpy version.
"""

import base64
import json
import os
import sys

import numpy as np

try:
    import gguf
    from gguf import GGMLQuantizationType as QT
    from gguf import quants
except ImportError:  # pragma: no cover
    sys.exit("this script needs gguf-py: pip install gguf")

SEED = 20240611
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "IFTCPUTests", "Fixtures",
                   "quant-fixtures.json")

# QLoRA's NormalFloat-4 levels (bitsandbytes' NF4 code book), as float32.
NF4_TABLE = np.array([
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
    0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
], dtype=np.float32)
# Decision thresholds: midpoints of adjacent levels (computed in float64, rounded to float32).
NF4_MIDS = ((NF4_TABLE[:-1].astype(np.float64) + NF4_TABLE[1:].astype(np.float64)) / 2).astype(np.float32)


def nf4_quantize(x: np.ndarray) -> np.ndarray:
    """x: (n, 64) float32 -> (n, 36) uint8. absmax per block; code = nearest level of x * (1/absmax),
    a value exactly on a midpoint takes the lower level."""
    x = x.astype(np.float32)
    absmax = np.abs(x).max(axis=1, keepdims=True).astype(np.float32)
    with np.errstate(divide="ignore"):
        inv = np.where(absmax == 0, np.float32(0), np.float32(1) / absmax).astype(np.float32)
    xn = (x * inv).astype(np.float32)
    codes = (xn[..., None] > NF4_MIDS[None, None, :]).sum(axis=-1).astype(np.uint8)
    packed = codes[:, 0::2] | (codes[:, 1::2] << np.uint8(4))
    return np.concatenate([absmax.astype("<f4").view(np.uint8), packed], axis=1)


def nf4_dequantize(blocks: np.ndarray) -> np.ndarray:
    absmax = blocks[:, :4].copy().view("<f4").astype(np.float32)
    qs = blocks[:, 4:]
    codes = np.empty((blocks.shape[0], 64), dtype=np.uint8)
    codes[:, 0::2] = qs & 0x0F
    codes[:, 1::2] = qs >> 4
    return (absmax * NF4_TABLE[codes]).astype(np.float32)


def b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def random_floats(rng, n_blocks, block):
    """Blocks of normal values with a per-block scale spanning 1e-3..1e2, plus a few edge blocks."""
    scales = 10.0 ** rng.uniform(-3, 2, size=(n_blocks, 1))
    x = (rng.standard_normal((n_blocks, block)) * scales).astype(np.float32)
    x[0] = 0  # all zero
    x[1] = 0.75  # constant
    x[2] = -np.abs(x[2])  # all negative (the max-abs value is negative)
    x[3] = np.abs(x[3])  # all positive
    x[4, :] = np.linspace(-1, 1, block, dtype=np.float32)  # evenly spread: many ties in rounding
    x[5, ::2] = 0  # half zeros
    return x


def random_f16_scale(rng, n, positive=False):
    v = (rng.standard_normal(n) * 10.0 ** rng.uniform(-4, 0, size=n)).astype(np.float16)
    if positive:
        v = np.abs(v)
    v[0] = 0
    v[1] = np.float16(np.finfo(np.float16).smallest_subnormal)  # subnormal scale
    v[2] = np.float16(-2.0)
    v[3] = np.float16(60000.0)  # near the f16 maximum
    return v.view(np.uint8).reshape(n, 2)


def random_byte_blocks(rng, qtype, n):
    """Random quantized payloads with finite f16 scales (no inf/NaN: NaN payloads are not portable)."""
    block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n, type_size), dtype=np.uint8)
    if qtype in (QT.Q8_0, QT.Q4_0):
        raw[:, 0:2] = random_f16_scale(rng, n)
    elif qtype == QT.Q4_1:
        raw[:, 0:2] = random_f16_scale(rng, n)
        raw[:, 2:4] = random_f16_scale(rng, n)
    elif qtype == QT.Q4_K:
        raw[:, 0:2] = random_f16_scale(rng, n, positive=True)
        raw[:, 2:4] = random_f16_scale(rng, n, positive=True)
        raw[5, 0:2] = np.array([np.float16(-0.5)]).view(np.uint8)  # a negative d is still valid data
    return raw


def main():
    rng = np.random.default_rng(SEED)
    cases = []
    for name, qt, n in (("q8_0", QT.Q8_0, 48), ("q4_0", QT.Q4_0, 48), ("q4_1", QT.Q4_1, 48)):
        block_size, _ = gguf.GGML_QUANT_SIZES[qt]
        x = random_floats(rng, n, block_size)
        q = quants.quantize(x, qt)
        d = quants.dequantize(q, qt).astype(np.float32)
        cases.append({"dtype": name, "source": "gguf-py quantize + dequantize", "blocks": n,
                      "input": b64(x.astype("<f4")), "bytes": b64(q), "dequant": b64(d.astype("<f4"))})
    for name, qt, n in (("q8_0", QT.Q8_0, 24), ("q4_0", QT.Q4_0, 24), ("q4_1", QT.Q4_1, 24), ("q4_k", QT.Q4_K, 24)):
        q = random_byte_blocks(rng, qt, n)
        d = quants.dequantize(q, qt).astype(np.float32)
        cases.append({"dtype": name, "source": "random bytes, gguf-py dequantize", "blocks": n,
                      "bytes": b64(q), "dequant": b64(d.astype("<f4"))})
    x = random_floats(rng, 32, 64)
    q = nf4_quantize(x)
    cases.append({"dtype": "nf4", "source": "numpy NF4 (this script) quantize + dequantize", "blocks": 32,
                  "input": b64(x.astype("<f4")), "bytes": b64(q), "dequant": b64(nf4_dequantize(q))})

    doc = {
        "generator": "Tools/make-quant-fixtures.py",
        "seed": SEED,
        "gguf_version": getattr(gguf, "__version__", None) or _dist_version("gguf"),
        "numpy_version": np.__version__,
        "cases": cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.relpath(OUT)} ({os.path.getsize(OUT)} bytes, {len(cases)} cases)")


def _dist_version(name):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return None


if __name__ == "__main__":
    main()
