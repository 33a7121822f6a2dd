#!/usr/bin/env python3
"""Reference logits of SmolLM2-135M-Instruct from an independent implementation.

Loads the same GGUF the engine uses with Hugging Face transformers (`gguf_file=`; transformers
dequantizes the Q4_1/Q8_0 blocks to fp32 and undoes llama.cpp's Q/K row permutation itself), runs
the fixed prompts below in fp32 on the CPU, and writes

  Tests/IFTModelTests/Fixtures/smollm2-logits.json  prompts, token ids, the sampled vocabulary
                                                     columns, argmax per position
  Tests/IFTModelTests/Fixtures/smollm2-logits.f32   little-endian float32: for each prompt, the
                                                     full logits of the last position, then the
                                                     sampled columns of every position

Usage: pip install /opt/wheels/torch-*.whl transformers gguf   (CPU torch)
       python3 Tools/make-llama-fixture.py path/to/SmolLM2-135M-Instruct.Q4_1.gguf
"""
import json
import os
import struct
import sys

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

PROMPTS = [
    "The capital of France is",
    "def fibonacci(n):\n    if n < 2:\n        return n\n",
    "<|im_start|>user\nWhat is 7 times 8?<|im_end|>\n<|im_start|>assistant\n",
    "Ünïcödé, emoji 🤖 and the number 7 in one sentence.",
]
# transformers' GGUF tokenizer conversion does not split digits for SmolLM2 ("smollm" pre-tokenizer),
# unlike the original tokenizer and llama.cpp; prompts avoid multi-digit numbers so that the ids
# here are the model's true tokenization (the test checks our tokenizer gives the same ids).
COLUMNS = 257  # sampled vocabulary columns checked at every position


def main():
    path = os.path.abspath(sys.argv[1])
    directory, name = os.path.dirname(path), os.path.basename(path)
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(directory, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, torch_dtype=torch.float32)
    model.eval()
    vocab = model.config.vocab_size
    rng = np.random.default_rng(1234)
    columns = sorted(rng.choice(vocab, COLUMNS, replace=False).tolist())
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = os.path.join(here, "..", "Tests", "IFTModelTests", "Fixtures")
    meta = {"source": "transformers %s, torch %s, fp32, %s" % (__import__("transformers").__version__, torch.__version__, name),
            "vocab": vocab, "columns": columns, "prompts": []}
    blob = bytearray()
    with torch.no_grad():
        for prompt in PROMPTS:
            ids = tok(prompt, add_special_tokens=False)["input_ids"]
            logits = model(torch.tensor([ids])).logits[0].float().numpy()
            meta["prompts"].append({"text": prompt, "ids": ids, "argmax": logits.argmax(-1).tolist()})
            blob += logits[-1].astype("<f4").tobytes()
            blob += logits[:, columns].astype("<f4").tobytes()
    with open(os.path.join(out_dir, "smollm2-logits.json"), "w") as f:
        json.dump(meta, f, ensure_ascii=False, indent=1)
    with open(os.path.join(out_dir, "smollm2-logits.f32"), "wb") as f:
        f.write(blob)
    print("wrote %d prompts, %d bytes of logits" % (len(PROMPTS), len(blob)))


if __name__ == "__main__":
    main()
