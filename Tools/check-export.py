#!/usr/bin/env python3
"""Independent checks of ift-gpu's exports with other people's code (not run in CI).

First keep the exports of the real-model round-trip test:

    IFT_EXPORT_KEEP=/tmp/keep IFT_SMOLLM2_GGUF=.build/models/SmolLM2-135M-Instruct.Q4_1.gguf \
        swift test -c release -Xswiftc -enable-testing --skip-build --filter ExportRoundTripTests

That leaves in /tmp/keep: peft/ (PEFT adapter), lora.gguf (llama.cpp LoRA), merged-F32.gguf,
merged-Q8_0.gguf, merged-Q4_K.gguf, hf/ (Hugging Face directory), prompt.json and the fine-tuned
model's logits as ift-gpu computed them (tuned-logits.f32, [tokens, vocab] float32). Then:

    pip install gguf numpy torch transformers peft
    python3 Tools/check-export.py /tmp/keep

It checks:
  1. gguf-py reads every exported GGUF and dequantizes every tensor; the Q8_0 and Q4_K merges
     against the F32 merge (relative RMS per tensor), the LoRA adapter's metadata and shapes.
  2. transformers + PEFT: the base GGUF loaded by transformers (gguf_file=) with the PEFT adapter
     applied; transformers on the hf/ directory and on merged-F32.gguf — each one's logits against
     ift-gpu's (max abs difference).
  3. The hf/ tokenizer (tokenizers library) against the prompt ids ift-gpu encoded.
"""

import json
import os
import sys

import numpy as np


def main(keep: str) -> int:
    import gguf
    from gguf import GGUFReader
    from gguf.quants import dequantize

    info = json.load(open(os.path.join(keep, "prompt.json")))
    prompt, vocab, model_path = info["prompt"], info["vocab"], info["model"]
    tuned = np.fromfile(os.path.join(keep, "tuned-logits.f32"), dtype=np.float32).reshape(len(prompt), vocab)
    failures = 0

    def dequantized(reader):
        out = {}
        for t in reader.tensors:
            values = dequantize(t.data, t.tensor_type)
            out[t.name] = np.asarray(values, dtype=np.float32).reshape([int(n) for n in reversed(t.shape)])
        return out

    print("== gguf-py reads every exported GGUF")
    merged = {}
    for name in ["lora.gguf", "merged-F32.gguf", "merged-Q8_0.gguf", "merged-Q4_K.gguf"]:
        r = GGUFReader(os.path.join(keep, name))
        kinds = sorted({t.tensor_type.name for t in r.tensors})
        merged[name] = dequantized(r)
        arch = r.fields["general.architecture"].contents()
        gtype = r.fields["general.type"].contents() if "general.type" in r.fields else "?"
        print(f"{name}: {len(r.tensors)} tensors ({', '.join(kinds)}), architecture {arch}, type {gtype}")
        if name == "lora.gguf":
            alpha = r.fields["adapter.lora.alpha"].contents()
            a = merged[name]["blk.0.attn_q.weight.lora_a"]
            b = merged[name]["blk.0.attn_q.weight.lora_b"]
            print(f"  adapter.type {r.fields['adapter.type'].contents()}, alpha {alpha}, lora_a {a.shape}, lora_b {b.shape}")
            if r.fields["adapter.type"].contents() != "lora" or gtype != "adapter":
                failures += 1
        else:
            print(f"  prompt style {r.fields['ift_gpu.prompt_style'].contents()}, chat template "
                  f"{len(r.fields['tokenizer.chat_template'].contents())} chars")
    f32 = merged["merged-F32.gguf"]
    for name in ["merged-Q8_0.gguf", "merged-Q4_K.gguf"]:
        errs = []
        for k, v in merged[name].items():
            if v.ndim == 2:
                ref = f32[k]
                errs.append((float(np.sqrt(((v - ref) ** 2).sum() / (ref ** 2).sum())), k))
        errs.sort()
        print(f"{name} vs F32 (gguf-py's dequantization): relative RMS mean {np.mean([e for e, _ in errs]):.4f}, "
              f"max {errs[-1][0]:.4f} ({errs[-1][1]})")

    # Our quantizers against gguf-py's (ggml's reference rounding): every Q8_0 tensor of the Q8_0
    # merge and every Q4_1 tensor of the Q4_K merge, quantized by gguf-py from the F32 merge, must
    # equal ours byte for byte (token_embd excepted: copied from the base as stored).
    from gguf.quants import quantize
    f32_raw = {t.name: t for t in GGUFReader(os.path.join(keep, "merged-F32.gguf")).tensors}
    for name in ["merged-Q8_0.gguf", "merged-Q4_K.gguf"]:
        same = differ = 0
        for t in GGUFReader(os.path.join(keep, name)).tensors:
            if t.name == "token_embd.weight" or t.tensor_type.name not in ("Q8_0", "Q4_0", "Q4_1"):
                continue
            ref = np.asarray(f32_raw[t.name].data, dtype=np.float32).reshape([int(n) for n in reversed(t.shape)])
            theirs = quantize(ref, t.tensor_type)
            if np.array_equal(np.asarray(theirs).reshape(-1).view(np.uint8), np.asarray(t.data).reshape(-1).view(np.uint8)):
                same += 1
            else:
                differ += 1
        print(f"{name}: {same} tensors byte-identical to gguf-py's quantizer, {differ} differ")
        failures += differ

    print("== transformers + PEFT")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from peft import PeftModel

    ids = torch.tensor([prompt])

    def logits_of(model):
        with torch.no_grad():
            return model(ids).logits[0].float().numpy()

    def compare(label, got):
        nonlocal failures
        d = float(np.abs(got - tuned).max())
        top = float((got.argmax(-1) == tuned.argmax(-1)).mean())
        print(f"{label}: max abs logit difference {d:.3e} (logit scale {np.abs(tuned).max():.1f}), "
              f"top-1 agreement {top:.3f}")
        if d > 1e-2:
            failures += 1

    base = AutoModelForCausalLM.from_pretrained(
        os.path.dirname(model_path), gguf_file=os.path.basename(model_path), dtype=torch.float32)
    base.eval()
    base_logits = logits_of(base)
    print(f"base (transformers, Q4_1 GGUF dequantized) vs fine-tuned: max abs {np.abs(base_logits - tuned).max():.3f}")
    peft_model = PeftModel.from_pretrained(base, os.path.join(keep, "peft"))
    peft_model.eval()
    compare("transformers + PEFT adapter", logits_of(peft_model))
    hf = AutoModelForCausalLM.from_pretrained(os.path.join(keep, "hf"), dtype=torch.float32)
    hf.eval()
    compare("transformers on hf/", logits_of(hf))
    g = AutoModelForCausalLM.from_pretrained(keep, gguf_file="merged-F32.gguf", dtype=torch.float32)
    g.eval()
    compare("transformers on merged-F32.gguf", logits_of(g))

    print("== tokenizer")
    tok = AutoTokenizer.from_pretrained(os.path.join(keep, "hf"))
    text = tok.decode(prompt)
    again = tok(text, add_special_tokens=False)["input_ids"]
    same = again == prompt
    print(f"hf/ tokenizer: decode(prompt) re-encodes to the same {len(prompt)} ids: {same}; "
          f"chat template present: {tok.chat_template is not None}")
    if not same:
        failures += 1
    print("FAILED" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/keep"))
