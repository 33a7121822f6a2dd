#!/usr/bin/env python3
"""Independent check of ift-gpu's family exports with transformers (not run in CI).

Keep the exports of the family export test, then compare transformers' logits on them with the
fixture's reference logits (transformers on the source model, micro-batch 0):

    IFT_EXPORT_KEEP=/tmp/famkeep swift test -c release -Xswiftc -enable-testing --skip-build \
        --disable-swift-testing --filter ExportFamilyTests/testMergedGGUFAndHuggingFaceExportsReloadToTheSameModel
    IFT_EXPORT_KEEP=/tmp/famkeep swift test ... --filter ExportFamilyTests/testPhi3PEFTAdapterAndMergedExportsAgree
    python3 Tools/check-family-export.py /tmp/famkeep [qwen2 qwen3 llama3 mistral phi3]

For each family:
  1. transformers on `<family>-cpu-ref-hf/` (the Hugging Face export): max |logit difference|
     against `Fixtures/families/<family>/reference/logits.safetensors` (transformers on the source).
  2. gguf-py on `<family>-cpu-ref.gguf` (the merged F32 GGUF) against the fixture's `model.gguf`,
     written as llama.cpp's convert_hf_to_gguf.py lays these architectures out: the same tensors
     (names, shapes, types, values) and the same `general.architecture` and `{arch}.*` keys.
  3. transformers' gguf_file loader on both GGUFs: the same logits. (That loader ignores YaRN and
     rope_freqs scaling and Qwen3's key_length, so it does not reproduce the reference on qwen2,
     llama3 and qwen3 for either file; what is checked is that ours reads as llama.cpp's does.)
Then `phi3-peft/` (the PEFT export of a LoRA trained on Phi-3's fused qkv_proj / gate_up_proj, kept
by ExportFamilyTests/testPhi3PEFTAdapterAndMergedExportsAgree with `phi3-peft-logits.safetensors`,
ift-gpu's logits with that adapter merged): `peft` loads it onto the fixture's base model and its
logits must match ours within 1e-4. Then `spm-tokenizer.json` (the tokenizer.json exported from llama.cpp's Llama 2 SentencePiece
vocabulary, kept by testSentencePieceTokenizersRoundTripOrAreRefused) through the `tokenizers`
library: llama.cpp's test vectors for that vocabulary (ggml-vocab-llama-spm.gguf.inp/.out).
"""

import json
import os
import sys

import numpy as np
import torch
from gguf import GGUFReader
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "IFTTrainTests", "Fixtures", "families")


def logits(model, batch):
    out = []
    with torch.no_grad():
        for row in batch["input_ids"]:
            out.append(model(torch.tensor([row])).logits[0].float())
    return torch.stack(out)


def main(keep, families):
    failures = 0
    for fam in families:
        fixture = os.path.join(ROOT, fam)
        batch = json.load(open(os.path.join(fixture, "batches.json")))["micro_batches"][0]
        ref = load_file(os.path.join(fixture, "reference", "logits.safetensors"))["logits"].float()
        ref = ref.reshape(len(batch["input_ids"]), len(batch["input_ids"][0]), -1)
        def load(**kwargs):
            return AutoModelForCausalLM.from_pretrained(torch_dtype=torch.float32, **kwargs).eval()

        def report(what, d, tol):
            nonlocal failures
            ok = d < tol
            failures += 0 if ok else 1
            print(f"{fam:8s} {what}: {d:.3g} {'ok' if ok else 'FAIL'}")

        try:
            model = load(pretrained_model_name_or_path=os.path.join(keep, fam + "-cpu-ref-hf"))
            report(f"hf   transformers {model.__class__.__name__}, max |logits - reference|", (logits(model, batch) - ref).abs().max().item(), 1e-4)
        except Exception as e:
            failures += 1
            print(f"{fam:8s} hf   could not be checked: {type(e).__name__}: {e}")

        ours, theirs = GGUFReader(os.path.join(keep, fam + "-cpu-ref.gguf")), GGUFReader(os.path.join(fixture, "model.gguf"))
        ot, tt = {t.name: t for t in ours.tensors}, {t.name: t for t in theirs.tensors}
        if set(ot) != set(tt):
            failures += 1
            print(f"{fam:8s} gguf tensor names differ: ours only {sorted(set(ot) - set(tt))}, llama.cpp's only {sorted(set(tt) - set(ot))}")
        worst = 0.0
        for n in sorted(set(ot) & set(tt)):
            a, b = ot[n], tt[n]
            if list(a.shape) != list(b.shape) or a.tensor_type != b.tensor_type:
                failures += 1
                print(f"{fam:8s} gguf {n}: shape/type {list(a.shape)} {a.tensor_type.name} vs {list(b.shape)} {b.tensor_type.name}")
                continue
            worst = max(worst, float(np.abs(np.asarray(a.data, dtype=np.float64) - np.asarray(b.data, dtype=np.float64)).max()))
        report(f"gguf gguf-py: {len(ot)} tensors, max |ours - llama.cpp layout|", worst, 1e-6)
        arch = theirs.fields["general.architecture"].contents()
        keys = [k for k in theirs.fields if k == "general.architecture" or k.startswith(arch + ".")]
        diff = []
        for k in keys:
            mine = ours.fields.get(k)
            a, b = (mine.contents() if mine else None), theirs.fields[k].contents()
            if mine is None or (a != b and not (isinstance(a, float) and abs(a - b) <= 1e-6 * abs(b))):
                diff.append(f"{k}: {a} vs {b}")
        extra = [k for k in ours.fields if k.startswith(arch + ".") and k not in theirs.fields]
        failures += 1 if diff else 0
        print(f"{fam:8s} gguf metadata: {len(keys)} keys of llama.cpp's {'equal' if not diff else 'DIFFER: ' + '; '.join(diff)}"
              + (f" (ours also: {', '.join(extra)})" if extra else ""))
        try:
            mine = logits(load(pretrained_model_name_or_path=keep, gguf_file=fam + "-cpu-ref.gguf"), batch)
            theirs_logits = logits(load(pretrained_model_name_or_path=fixture, gguf_file="model.gguf"), batch)
            report("gguf transformers gguf_file: max |ours - llama.cpp layout's| logits", (mine - theirs_logits).abs().max().item(), 1e-5)
            print(f"{fam:8s}      (transformers on either GGUF vs the reference: {(mine - ref).abs().max().item():.3g})")
        except Exception as e:
            print(f"{fam:8s} gguf transformers cannot load the GGUFs: {type(e).__name__}: {str(e)[:120]}")
    peft_dir = os.path.join(keep, "phi3-peft")
    if os.path.isdir(peft_dir):
        from peft import PeftModel

        fixture = os.path.join(ROOT, "phi3")
        batch = json.load(open(os.path.join(fixture, "batches.json")))["micro_batches"][0]
        base = AutoModelForCausalLM.from_pretrained(fixture, torch_dtype=torch.float32, attn_implementation="eager")
        model = PeftModel.from_pretrained(base, peft_dir).eval()
        ours = load_file(os.path.join(keep, "phi3-peft-logits.safetensors"))["logits"].float()
        theirs = logits(model, batch).reshape(ours.shape)
        d = (theirs - ours).abs().max().item()
        failures += 0 if d < 1e-4 else 1
        print(f"phi3     peft on the exported adapter (qkv_proj, gate_up_proj): max |logits - ift-gpu merged| {d:.3g} {'ok' if d < 1e-4 else 'FAIL'}")
    spm = os.path.join(keep, "spm-tokenizer.json")
    if os.path.exists(spm):
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(spm)
        base = os.path.join(ROOT, "..", "..", "..", "IFTModelTests", "Fixtures", "llama-cpp", "ggml-vocab-llama-spm.gguf")
        texts = open(base + ".inp", encoding="utf-8").read().split("\n__ggml_vocab_test__\n")
        if texts[-1].endswith("\n__ggml_vocab_test__"):
            texts[-1] = texts[-1][: -len("\n__ggml_vocab_test__")]
        wants = open(base + ".out", encoding="utf-8").read().split("\n")
        pairs = list(zip(texts, wants))
        same = sum(tok.encode(t, add_special_tokens=False).ids == [int(x) for x in w.split()] for t, w in pairs)
        failures += 0 if same == len(pairs) else 1
        print(f"spm      tokenizers on the exported tokenizer.json: {same}/{len(pairs)} llama.cpp vectors give llama.cpp's ids")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2:] or ["qwen2", "qwen3", "llama3", "mistral", "phi3"]))
