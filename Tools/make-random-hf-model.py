#!/usr/bin/env python3
"""A random-weight Hugging Face model directory of a published architecture, for measuring how
`ift-gpu` loads big 16-bit checkpoints (e.g. the peak RSS of the QLoRA streaming load):

  Tools/make-random-hf-model.py --shape llama-3.2-1b --out /tmp/llama-3.2-1b-random
  .build/release/ift-gpu bench train --backend cpu --model /tmp/llama-3.2-1b-random --mode qlora \
      --batch 1 --seq 64 --steps 1 --warmup 0

Writes OUT/config.json (the published config.json of the shape, from
Tests/IFTModelTests/Fixtures/shapes/, with --layers applied), OUT/model.safetensors (every tensor
bf16 by default, normal with std 0.02, norms 1; deterministic for --seed) and OUT/tokenizer.json
(the family fixtures' tiny BPE, a stand-in: the benchmark feeds random token ids). The safetensors file is written a
few MiB at a time, so making an 8B-shaped file needs no more memory than a 135M one. The
directory appears atomically (written under a temporary name, then renamed).

Needs numpy only.
"""
import argparse
import json
import os
import shutil
import struct
import sys

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SHAPES = os.path.join(ROOT, "Tests", "IFTModelTests", "Fixtures", "shapes")
TOKENIZER = os.path.join(ROOT, "Tests", "IFTTrainTests", "Fixtures", "families", "tokenizer.json")
CHUNK = 1 << 22  # values generated at a time


def tensors(cfg):
    """(name, shape) of every tensor, in transformers' order."""
    d, f = cfg["hidden_size"], cfg["intermediate_size"]
    heads, kv = cfg["num_attention_heads"], cfg.get("num_key_value_heads", cfg["num_attention_heads"])
    hd = cfg.get("head_dim") or d // heads
    bias = cfg["model_type"] == "qwen2" or cfg.get("attention_bias", False)
    out = [("model.embed_tokens.weight", (cfg["vocab_size"], d))]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        out += [(p + "input_layernorm.weight", (d,)),
                (p + "self_attn.q_proj.weight", (heads * hd, d)),
                (p + "self_attn.k_proj.weight", (kv * hd, d)),
                (p + "self_attn.v_proj.weight", (kv * hd, d)),
                (p + "self_attn.o_proj.weight", (d, heads * hd))]
        if bias:
            out += [(p + "self_attn.q_proj.bias", (heads * hd,)),
                    (p + "self_attn.k_proj.bias", (kv * hd,)),
                    (p + "self_attn.v_proj.bias", (kv * hd,))]
        out += [(p + "post_attention_layernorm.weight", (d,)),
                (p + "mlp.gate_proj.weight", (f, d)),
                (p + "mlp.up_proj.weight", (f, d)),
                (p + "mlp.down_proj.weight", (d, f))]
    out.append(("model.norm.weight", (d,)))
    if not cfg.get("tie_word_embeddings", False):
        out.append(("lm_head.weight", (cfg["vocab_size"], d)))
    return out


def encode(x, dtype):
    """float32 values as little-endian bytes of dtype (bf16 rounds to nearest even)."""
    if dtype == "F32":
        return x.astype("<f4").tobytes()
    if dtype == "F16":
        return x.astype("<f2").tobytes()
    u = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2").tobytes()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", required=True, help="a name from Tests/IFTModelTests/Fixtures/shapes (e.g. llama-3.2-1b)")
    ap.add_argument("--out", required=True, help="the model directory to create (must not exist)")
    ap.add_argument("--layers", type=int, help="override num_hidden_layers")
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "f16", "f32"])
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    path = os.path.join(SHAPES, a.shape + ".json")
    if not os.path.exists(path):
        names = sorted(n[:-5] for n in os.listdir(SHAPES) if n.endswith(".json"))
        sys.exit(f"unknown shape '{a.shape}'; choose one of {', '.join(names)}")
    if os.path.exists(a.out):
        sys.exit(f"{a.out} exists; choose a new directory")
    cfg = json.load(open(path))
    if a.layers:
        cfg["num_hidden_layers"] = a.layers
    dtype = {"bf16": "BF16", "f16": "F16", "f32": "F32"}[a.dtype]
    size = 4 if dtype == "F32" else 2
    layout = tensors(cfg)
    header, at = {}, 0
    for name, shape in layout:
        n = int(np.prod(shape)) * size
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [at, at + n]}
        at += n
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)

    tmp = a.out.rstrip("/") + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    rng = np.random.default_rng(a.seed)
    with open(os.path.join(tmp, "model.safetensors"), "wb") as out:
        out.write(struct.pack("<Q", len(text)) + text)
        for name, shape in layout:
            n = int(np.prod(shape))
            if len(shape) == 1:
                out.write(encode(np.ones(n, np.float32) if name.endswith("norm.weight") else np.zeros(n, np.float32), dtype))
                continue
            for start in range(0, n, CHUNK):
                out.write(encode(rng.standard_normal(min(CHUNK, n - start), dtype=np.float32) * 0.02, dtype))
    cfg["torch_dtype"] = {"bf16": "bfloat16", "f16": "float16", "f32": "float32"}[a.dtype]
    json.dump(cfg, open(os.path.join(tmp, "config.json"), "w"), indent=2)
    shutil.copy(TOKENIZER, os.path.join(tmp, "tokenizer.json"))
    os.rename(tmp, a.out)
    print(f"{a.out}: {a.shape}, {cfg['num_hidden_layers']} layers, {at / 1e9:.2f} GB of {dtype} "
          f"({at // size / 1e9:.3f} B parameters; {at // size * 4 / 1e9:.2f} GB as f32)")


if __name__ == "__main__":
    main()
