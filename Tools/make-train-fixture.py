#!/usr/bin/env python3
"""Reference training runs of a tiny random Llama, for the Swift training-engine parity test.

Writes Tests/IFTTrainTests/Fixtures/tiny-llama-train/:

  config.json, model.safetensors  the initial model (Hugging Face layout, fp32, tied embeddings:
                                  only model.embed_tokens.weight is stored, as transformers does)
  batches.json                    8 micro-batches of 2 x 12 tokens; `targets` are already aligned
                                  with the input positions (logits at t are scored against
                                  targets[b][t]); -100 = ignored (trailing padding, input id 0)
  hyper.json                      the hyperparameters and the exact recipe below
  full/   step0_grads.safetensors (all parameters, first accumulated step, before clipping),
          trace.json {"loss","lr","grad_norm"} per step, final.safetensors (after all steps)
  lora/   adapter_init.safetensors, step0_grads.safetensors, trace.json, final.safetensors
  lora_rs/ adapter_init.safetensors, trace.json   (same recipe, use_rslora: scale alpha/sqrt(r))
  README.md

Recipe (both runs): step s uses micro-batches 2s mod 8 and 2s+1 mod 8; for each micro-batch the
sum-reduced token cross-entropy (fp32 logits, ignore_index -100) divided by the number of
non-ignored targets over BOTH micro-batches is back-propagated (gradient accumulation); then
clip_grad_norm_(trainable, 1.0) (the returned pre-clip norm is recorded), optimizer.step() with
AdamW(betas (0.9, 0.999), eps 1e-8, weight_decay 0.01 except RMSNorm weights), then
scheduler.step() of get_cosine_schedule_with_warmup(optimizer, 5, steps) (so step 0 runs at lr 0).

Usage: pip install /opt/wheels/torch-*.whl transformers peft safetensors   (CPU torch)
       python3 Tools/make-train-fixture.py [out_dir]
"""
import copy
import json
import math
import os
import sys

import torch
import transformers
from safetensors.torch import load_file, save_file
from transformers import LlamaConfig, LlamaForCausalLM, get_cosine_schedule_with_warmup

import peft
from peft import LoraConfig, get_peft_model

VOCAB, HIDDEN, LAYERS, HEADS, KV_HEADS, INTER = 64, 32, 2, 4, 2, 48
B, T, MICRO_BATCHES, ACCUM = 2, 12, 8, 2
STEPS, WARMUP = 50, 5
LR_FULL, LR_LORA = 1e-3, 1e-3
BETAS, EPS, WEIGHT_DECAY, MAX_GRAD_NORM = (0.9, 0.999), 1e-8, 0.01, 1.0
RANK, ALPHA = 4, 8
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
ROW_LENGTHS = [(12, 9), (12, 12), (10, 12), (12, 7), (11, 12), (12, 9), (8, 12), (12, 10)]
IGNORE = -100


def hf_config_dict():
    # Written explicitly (rope_theta at top level, as transformers 4.x and the Swift loader read it;
    # rope_parameters as transformers 5.x writes it).
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": VOCAB,
        "hidden_size": HIDDEN,
        "intermediate_size": INTER,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "num_key_value_heads": KV_HEADS,
        "head_dim": HIDDEN // HEADS,
        "hidden_act": "silu",
        "max_position_embeddings": 64,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0},
        "rope_scaling": None,
        "tie_word_embeddings": True,
        "attention_bias": False,
        "attention_dropout": 0.0,
        "mlp_bias": False,
        "initializer_range": 0.1,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "pad_token_id": None,
        "torch_dtype": "float32",
        "use_cache": False,
    }


def build_model():
    cfg = LlamaConfig(**{k: v for k, v in hf_config_dict().items() if k not in ("architectures", "model_type", "torch_dtype", "rope_theta", "rope_scaling")})
    cfg._attn_implementation = "eager"
    model = LlamaForCausalLM(cfg).float()
    assert model.lm_head.weight is model.model.embed_tokens.weight, "embeddings not tied"
    return model


def init_weights(model):
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():  # tied lm_head is not listed separately
            noise = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.1 * noise)
            else:
                p.copy_(0.1 * noise)


def make_batches():
    g = torch.Generator().manual_seed(1)
    batches = []
    for lengths in ROW_LENGTHS:
        inputs, targets = [], []
        for n in lengths:
            seq = torch.randint(1, VOCAB, (n + 1,), generator=g).tolist()
            inputs.append(seq[:n] + [0] * (T - n))
            targets.append(seq[1:n + 1] + [IGNORE] * (T - n))
        batches.append({"input_ids": inputs, "targets": targets})
    return batches


def hf_state(model):
    sd = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items() if k != "lm_head.weight"}
    return sd


def peft_name(name):
    name = name.replace(".default", "")
    if name.startswith("base_model.model."):
        name = name[len("base_model.model."):]
    return name


def is_norm(name):
    return name.endswith("norm.weight")


def loss_sum(model, mb):
    ids = torch.tensor(mb["input_ids"])
    tgt = torch.tensor(mb["targets"])
    logits = model(input_ids=ids).logits.float()
    return torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), tgt.reshape(-1), ignore_index=IGNORE, reduction="sum")


def count(mb):
    return sum(1 for row in mb["targets"] for t in row if t != IGNORE)


def train(model, named_trainable, lr, batches, grads_path=None):
    """named_trainable: list of (fixture name, parameter)."""
    decay = [p for n, p in named_trainable if not is_norm(n)]
    no_decay = [p for n, p in named_trainable if is_norm(n)]
    groups = [{"params": decay, "weight_decay": WEIGHT_DECAY}]
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    opt = torch.optim.AdamW(groups, lr=lr, betas=BETAS, eps=EPS, foreach=False)
    sched = get_cosine_schedule_with_warmup(opt, WARMUP, STEPS)
    params = [p for _, p in named_trainable]
    trace = {"loss": [], "lr": [], "grad_norm": []}
    model.train()
    for s in range(STEPS):
        mbs = [batches[(ACCUM * s + i) % len(batches)] for i in range(ACCUM)]
        n = sum(count(mb) for mb in mbs)
        opt.zero_grad(set_to_none=True)
        total = 0.0
        for mb in mbs:
            loss = loss_sum(model, mb) / n
            loss.backward()
            total += loss.item()
        if s == 0 and grads_path:
            save_file({name: p.grad.detach().clone().contiguous() for name, p in named_trainable}, grads_path, metadata={"format": "pt"})
        norm = torch.nn.utils.clip_grad_norm_(params, MAX_GRAD_NORM)
        trace["loss"].append(total)
        trace["lr"].append(opt.param_groups[0]["lr"])
        trace["grad_norm"].append(float(norm))
        opt.step()
        sched.step()
    return trace


def eval_loss(model, batches):
    with torch.no_grad():
        model.eval()
        s = sum(loss_sum(model, mb).item() for mb in batches)
        return s / sum(count(mb) for mb in batches)


def lora_model(init_state, use_rslora, seed):
    model = build_model()
    model.load_state_dict(init_state, strict=False)
    model.tie_weights()
    cfg = LoraConfig(r=RANK, lora_alpha=ALPHA, lora_dropout=0.0, target_modules=TARGETS, bias="none", use_rslora=use_rslora)
    torch.manual_seed(seed)  # peft draws lora_A (kaiming-uniform, a=sqrt(5)) from the global generator
    model = get_peft_model(model, cfg)
    g = torch.Generator().manual_seed(seed + 100)
    named = []
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not p.requires_grad:
                continue
            assert "lora_" in name, name
            if "lora_B" in name:
                p.copy_(0.1 * torch.randn(p.shape, generator=g, dtype=torch.float32))
            named.append((peft_name(name), p))
    scale = ALPHA / math.sqrt(RANK) if use_rslora else ALPHA / RANK
    some = next(m for m in model.modules() if hasattr(m, "scaling") and isinstance(m.scaling, dict) and "default" in m.scaling)
    assert abs(some.scaling["default"] - scale) < 1e-12, (some.scaling, scale)
    return model, named


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "Tests", "IFTTrainTests", "Fixtures", "tiny-llama-train")
    out = os.path.abspath(out)
    for d in ("", "full", "lora", "lora_rs"):
        os.makedirs(os.path.join(out, d), exist_ok=True)
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float32)

    model = build_model()
    init_weights(model)
    init_state = hf_state(model)
    write_json(os.path.join(out, "config.json"), hf_config_dict())
    save_file(init_state, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    batches = make_batches()
    with open(os.path.join(out, "batches.json"), "w") as f:
        f.write('{"micro_batches": [\n')
        f.write(",\n".join(json.dumps(mb, separators=(",", ":")) for mb in batches))
        f.write("\n]}\n")
    hyper = {
        "steps": STEPS, "lr_full": LR_FULL, "lr_lora": LR_LORA,
        "betas": list(BETAS), "eps": EPS, "weight_decay": WEIGHT_DECAY,
        "no_weight_decay": "RMSNorm weights (*norm.weight); the tied embedding does get decay",
        "warmup_steps": WARMUP, "schedule": "cosine (transformers.get_cosine_schedule_with_warmup; step 0 uses lr 0)",
        "max_grad_norm": MAX_GRAD_NORM, "grad_norm": "pre-clip L2 norm over all trainable gradients",
        "micro_batch": B, "seq_len": T, "accumulation": ACCUM,
        "micro_batch_order": "step s uses micro_batches[(2s) % 8] and micro_batches[(2s+1) % 8]",
        "loss": "sum of token cross-entropies (targets != -100) over the step's micro-batches / their count of non-ignored targets; targets aligned with inputs (no shift)",
        "ignore_index": IGNORE,
        "lora": {"r": RANK, "alpha": ALPHA, "dropout": 0.0, "target_modules": TARGETS, "bias": "none",
                 "scale": ALPHA / RANK, "rslora_scale": ALPHA / math.sqrt(RANK),
                 "init": "lora_A kaiming-uniform (peft), lora_B normal std 0.1 (not zeros)"},
    }
    write_json(os.path.join(out, "hyper.json"), hyper)

    # Full fine-tuning.
    named = [(n, p) for n, p in model.named_parameters()]
    assert len(named) == 1 + LAYERS * 9 + 1
    initial_eval = eval_loss(model, batches)
    full_trace = train(model, named, LR_FULL, batches, os.path.join(out, "full", "step0_grads.safetensors"))
    write_json(os.path.join(out, "full", "trace.json"), full_trace)
    save_file(hf_state(model), os.path.join(out, "full", "final.safetensors"), metadata={"format": "pt"})
    full_eval = eval_loss(model, batches)

    # LoRA (and rsLoRA) from the same initial model.
    results = {}
    for sub, rs, seed in (("lora", False, 10), ("lora_rs", True, 20)):
        lm, lnamed = lora_model(init_state, rs, seed)
        save_file({n: p.detach().clone().contiguous() for n, p in lnamed}, os.path.join(out, sub, "adapter_init.safetensors"), metadata={"format": "pt"})
        tr = train(lm, lnamed, LR_LORA, batches, os.path.join(out, sub, "step0_grads.safetensors") if sub == "lora" else None)
        write_json(os.path.join(out, sub, "trace.json"), tr)
        if sub == "lora":
            save_file({n: p.detach().clone().contiguous() for n, p in lnamed}, os.path.join(out, sub, "final.safetensors"), metadata={"format": "pt"})
        results[sub] = (tr, eval_loss(lm, batches))

    versions = "torch %s, transformers %s, peft %s, Python %s" % (torch.__version__, transformers.__version__, peft.__version__, sys.version.split()[0])
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write("""# tiny-llama-train

Reference training runs for the Swift training-engine parity test, produced by
`python3 Tools/make-train-fixture.py` (%s; CPU, fp32, one thread,
`torch.use_deterministic_algorithms(True)`). Regenerate with the same command; see the script's
docstring and `hyper.json` for the exact recipe.

- `config.json`, `model.safetensors`: random LlamaForCausalLM (vocab 64, hidden 32, 2 layers,
  4 heads / 2 kv heads, head_dim 8, intermediate 48, tied embeddings). Linear and embedding weights
  ~ N(0, 0.1^2), RMSNorm weights 1 + 0.1 N(0, 1).
- `batches.json`: 8 micro-batches of 2 x 12; `targets` already aligned with input positions, -100
  ignored (trailing padding, input id 0). No attention mask (causal only).
- `full/`: full fine-tuning, lr %g. `step0_grads.safetensors`: gradients of all parameters after the
  first accumulated step, before clipping (the embedding gradient includes the tied LM head).
  `trace.json`: per step loss, lr used, pre-clip grad norm. `final.safetensors`: parameters after %d steps.
- `lora/`: LoRA r=%d, alpha=%d (scale alpha/r) on q,k,v,o,gate,up,down; base frozen; lora_A from
  peft's kaiming-uniform, lora_B ~ N(0, 0.1^2). Names `model.layers.N.<module>.lora_A.weight` ([r, in])
  and `...lora_B.weight` ([out, r]).
- `lora_rs/`: the same with use_rslora (scale alpha/sqrt(r)); init and trace only.

Mean loss over all 8 micro-batches: initial %.4f, after full %.4f, after LoRA %.4f, after rsLoRA %.4f.
""" % (versions, LR_FULL, STEPS, RANK, ALPHA, initial_eval, full_eval, results["lora"][1], results["lora_rs"][1]))

    print(versions)
    print("eval loss: initial %.5f  full %.5f  lora %.5f  lora_rs %.5f" % (initial_eval, full_eval, results["lora"][1], results["lora_rs"][1]))
    for name, tr in (("full", full_trace), ("lora", results["lora"][0]), ("lora_rs", results["lora_rs"][0])):
        print("%-8s loss[0] %.5f loss[1] %.5f loss[-1] %.5f  grad_norm[0] %.4f  lr[0..6] %s" % (
            name, tr["loss"][0], tr["loss"][1], tr["loss"][-1], tr["grad_norm"][0], ["%.2e" % x for x in tr["lr"][:7]]))
    verify(out, init_state, batches)


def verify(out, init_state, batches):
    """Reload the files and check them against a fresh model: transformers can load the directory,
    the saved final weights lower the loss, and the adapter reproduces the LoRA loss."""
    m = LlamaForCausalLM.from_pretrained(out, dtype=torch.float32, attn_implementation="eager")
    for k, v in init_state.items():
        assert torch.equal(m.state_dict()[k], v), k
    assert m.lm_head.weight.data_ptr() == m.model.embed_tokens.weight.data_ptr()
    l0 = eval_loss(m, batches)
    m.load_state_dict(load_file(os.path.join(out, "full", "final.safetensors")), strict=False)
    l1 = eval_loss(m, batches)
    full = json.load(open(os.path.join(out, "full", "trace.json")))
    assert l1 < l0 and full["loss"][-1] < full["loss"][0], (l0, l1)
    # Recompute the recorded first-step loss from the files alone.
    m = LlamaForCausalLM.from_pretrained(out, dtype=torch.float32, attn_implementation="eager")
    n = count(batches[0]) + count(batches[1])
    first = (loss_sum(m, batches[0]).item() + loss_sum(m, batches[1]).item()) / n
    assert abs(first - full["loss"][0]) < 1e-5, (first, full["loss"][0])
    # LoRA: merge the final adapter by hand (W + scale * B @ A) and check the loss went down.
    for sub in ("lora",):
        lt = json.load(open(os.path.join(out, sub, "trace.json")))
        assert lt["loss"][-1] < lt["loss"][0], lt["loss"]
        for which in ("adapter_init", "final"):
            ad = load_file(os.path.join(out, sub, which + ".safetensors"))
            mm = LlamaForCausalLM.from_pretrained(out, dtype=torch.float32, attn_implementation="eager")
            with torch.no_grad():
                for name, mod in mm.named_modules():
                    a = ad.get(name + ".lora_A.weight")
                    if a is not None:
                        mod.weight += (ALPHA / RANK) * ad[name + ".lora_B.weight"] @ a
            lm = eval_loss(mm, batches)
            if which == "adapter_init":
                first = (loss_sum(mm, batches[0]).item() + loss_sum(mm, batches[1]).item()) / n
                assert abs(first - lt["loss"][0]) < 1e-4, (first, lt["loss"][0])
                li = lm
        assert lm < li, (li, lm)
    rs = json.load(open(os.path.join(out, "lora_rs", "trace.json")))
    assert rs["loss"][-1] < rs["loss"][0]
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    print("verified: reload ok, full eval %.5f -> %.5f, LoRA eval %.5f -> %.5f; fixture %d bytes" % (l0, l1, li, lm, total))
    assert total < 1 << 20


if __name__ == "__main__":
    main()
