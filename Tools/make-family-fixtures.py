#!/usr/bin/env python3
"""Tiny random models of each supported family, with transformers' logits and PyTorch + PEFT's
first-step gradients, for the Swift family parity tests.

Writes Tests/IFTTrainTests/Fixtures/families/:

  tokenizer.json, tokenizer_config.json   a tiny byte-level BPE (Hugging Face `tokenizers`, trained
                                          here on a few sentences), shared by every model
  rope-parameters.json                    transformers' inverse frequencies and attention factor
                                          for default / linear / llama3 / yarn RoPE parameter sets
  <family>/                               one directory per model:
      config.json, model.safetensors,     the Hugging Face model (fp32) as save_pretrained writes it,
      tokenizer.json, tokenizer_config.json   loadable by `ift-gpu` and by transformers
      model.gguf                          the same weights as llama.cpp's convert_hf_to_gguf.py
                                          lays them out for the architecture (F32; Q/K rows permuted
                                          for `llama` only; Llama 3's scaling as `rope_freqs.weight`)
      batches.json                        2 micro-batches of 2 x 12 tokens (targets aligned with the
                                          inputs, -100 ignored)
      reference/logits.safetensors        `logits` [2, 12, vocab]: transformers' fp32 logits of
                                          micro-batch 0 (eager attention, no padding mask; kept
                                          out of the model directory's own *.safetensors)
      trace.json                          {"loss_full", "loss_lora"}: the first step's loss
      full/step0_grads.safetensors        gradients of every parameter (biases and Q/K norms too)
                                          after the first accumulated step (both micro-batches,
                                          sum-reduced cross-entropy / learned targets)
      lora/adapter_init.safetensors       PEFT LoRA r=4, alpha=8 on q,k,v,o,gate,up,down (bias
                                          "none": biases frozen); lora_B ~ N(0, 0.1^2), not zero
      lora/step0_grads.safetensors        the adapters' first-step gradients

The families (chosen so that each differs from plain Llama in what the engine must implement):

  llama3   LlamaForCausalLM, RoPE `llama3` (factor 4, low 1, high 4, original context 16, so the
           scaling bites within 12 positions), tied embeddings; config.json in transformers 5's
           layout (`rope_parameters`)
  qwen2    Qwen2ForCausalLM: Q/K/V biases; RoPE `yarn` (factor 4, original context 16) in the
           classic layout (`rope_theta`, `rope_scaling`); untied LM head; GGUF arch `qwen2`
  qwen3    Qwen3ForCausalLM: per-head Q/K RMSNorm, head_dim 16 with hidden 16 / 2 heads (q width
           32 != hidden), tied; GGUF arch `qwen3`
  mistral  MistralForCausalLM: sliding_window 4096 (longer than the context, so no effect);
           GGUF arch `llama` as llama.cpp writes Mistral
  phi3     Phi3ForCausalLM: fused `qkv_proj` (Q, K, V rows) and `gate_up_proj` (gate, up rows);
           RoPE `longrope` (short/long factors, original context 16 of 64, so the short factors and
           the attention factor sqrt(1 + ln 4 / ln 16) apply); sliding_window 48 (no effect within
           16 positions); untied; GGUF arch `phi3` as llama.cpp's Phi3MiniModel writes it
           (`attn_qkv`, `ffn_up` holding gate and up, `rope_factors_long/short.weight`,
           `phi3.rope.scaling.attn_factor` / `original_context_length`, no Q/K permutation); LoRA
           on PEFT's phi3 modules qkv_proj, o_proj, gate_up_proj, down_proj

Usage: pip install /opt/wheels/torch-*.whl transformers peft safetensors tokenizers gguf
       python3 Tools/make-family-fixtures.py [out_dir]
"""
import json
import math
import os
import sys

import numpy as np
import torch
import transformers
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

import gguf
import peft
from peft import LoraConfig, get_peft_model

HIDDEN, LAYERS, HEADS, KV_HEADS, INTER = 16, 2, 2, 1, 32
B, T = 2, 12
RANK, ALPHA = 4, 8
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
IGNORE = -100
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Instruction tuning teaches a language model to follow instructions.",
    "def add(a, b):\n    return a + b\n",
    "Qwen, Llama and Mistral share one decoder block with small differences.",
    "Rotary position embeddings rotate queries and keys by position.",
] * 4


def make_tokenizer(out):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=288, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS, trainer)
    tok.save(os.path.join(out, "tokenizer.json"))
    config = {"bos_token": None, "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "add_bos_token": False,
              "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 64}
    write_json(os.path.join(out, "tokenizer_config.json"), config)
    return tok


def base_config(vocab):
    return {
        "vocab_size": vocab, "hidden_size": HIDDEN, "intermediate_size": INTER, "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS, "hidden_act": "silu",
        "max_position_embeddings": 64, "rms_norm_eps": 1e-6, "attention_dropout": 0.0, "initializer_range": 0.1,
        "bos_token_id": None, "eos_token_id": 0, "pad_token_id": None, "use_cache": False, "dtype": "float32",
    }


def family_configs(vocab):
    """name -> (config.json dict as written, transformers config class)."""
    out = {}
    c = base_config(vocab)
    c.update({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "head_dim": HIDDEN // HEADS,
              "tie_word_embeddings": True, "attention_bias": False, "mlp_bias": False, "pretraining_tp": 1,
              "rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 4.0, "low_freq_factor": 1.0,
                                  "high_freq_factor": 4.0, "original_max_position_embeddings": 16}})
    out["llama3"] = (c, transformers.LlamaConfig)
    c = base_config(vocab)
    c.update({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "tie_word_embeddings": False,
              "rope_theta": 1000000.0, "rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 16},
              "use_sliding_window": False, "sliding_window": 32, "max_window_layers": 1})
    out["qwen2"] = (c, transformers.Qwen2Config)
    c = base_config(vocab)
    c.update({"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "head_dim": 16, "tie_word_embeddings": True,
              "attention_bias": False, "use_sliding_window": False, "sliding_window": None, "max_window_layers": 2,
              "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0}})
    out["qwen3"] = (c, transformers.Qwen3Config)
    c = base_config(vocab)
    c.update({"architectures": ["MistralForCausalLM"], "model_type": "mistral", "head_dim": HIDDEN // HEADS,
              "tie_word_embeddings": False, "sliding_window": 4096, "rope_theta": 10000.0})
    out["mistral"] = (c, transformers.MistralConfig)
    c = base_config(vocab)
    g = torch.Generator().manual_seed(3)
    half = HIDDEN // HEADS // 2
    c.update({"architectures": ["Phi3ForCausalLM"], "model_type": "phi3", "tie_word_embeddings": False,
              "resid_pdrop": 0.0, "embd_pdrop": 0.0, "sliding_window": 48, "original_max_position_embeddings": 16,
              "rope_theta": 10000.0,
              "rope_scaling": {"type": "longrope", "rope_type": "longrope",
                               "short_factor": [round(1 + 2 * float(x), 4) for x in torch.rand(half, generator=g)],
                               "long_factor": [round(2 + 6 * float(x), 4) for x in torch.rand(half, generator=g)]}})
    out["phi3"] = (c, transformers.Phi3Config)
    return out


def lora_targets(family):
    """PEFT's module names for the family (Phi-3 fuses q/k/v and gate/up)."""
    return ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"] if family == "phi3" else TARGETS


def build(config_dict, cls):
    kwargs = {k: v for k, v in config_dict.items() if k not in ("architectures", "model_type", "dtype")}
    cfg = cls(**kwargs)
    cfg._attn_implementation = "eager"
    model = transformers.AutoModelForCausalLM.from_config(cfg).float()
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.1 * noise)
            elif name.endswith(".bias"):
                p.copy_(0.5 * noise)  # large enough to matter
            else:
                p.copy_(0.1 * noise)
    return model


def make_batches(vocab, seed):
    g = torch.Generator().manual_seed(seed)
    batches = []
    for lengths in ((12, 9), (10, 12)):
        inputs, targets = [], []
        for n in lengths:
            seq = torch.randint(1, vocab, (n + 1,), generator=g).tolist()
            inputs.append(seq[:n] + [0] * (T - n))
            targets.append(seq[1:n + 1] + [IGNORE] * (T - n))
        batches.append({"input_ids": inputs, "targets": targets})
    return batches


def loss_sum(model, mb, vocab):
    logits = model(input_ids=torch.tensor(mb["input_ids"])).logits.float()
    return torch.nn.functional.cross_entropy(
        logits.reshape(-1, vocab), torch.tensor(mb["targets"]).reshape(-1), ignore_index=IGNORE, reduction="sum")


def count(mb):
    return sum(1 for row in mb["targets"] for t in row if t != IGNORE)


def first_step(model, named, batches, vocab, path):
    model.train()
    n = sum(count(mb) for mb in batches)
    for _, p in named:
        p.grad = None
    total = 0.0
    for mb in batches:
        loss = loss_sum(model, mb, vocab) / n
        loss.backward()
        total += loss.item()
    save_file({name: p.grad.detach().clone().contiguous() for name, p in named}, path, metadata={"format": "pt"})
    return total


def peft_name(name):
    name = name.replace(".default", "")
    return name[len("base_model.model."):] if name.startswith("base_model.model.") else name


# ---- GGUF, as llama.cpp's convert_hf_to_gguf.py writes these architectures ----

def llama_permute(w, n_head, n_head_kv):
    """Verbatim from llama.cpp convert_hf_to_gguf.py, LlamaModel.permute."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2)
            .reshape(w.shape))


def llama3_rope_factors(rope, head_dim):
    """llama.cpp convert_hf_to_gguf.py LlamaModel.generate_extra_tensors (rope_freqs.weight)."""
    base = rope.get("rope_theta", 10000.0)
    freqs = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    factor = rope.get("factor", 8.0)
    low_freq_factor = rope.get("low_freq_factor", 1.0)
    high_freq_factor = rope.get("high_freq_factor", 4.0)
    old_context_len = rope.get("original_max_position_embeddings", 8192)
    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor
    rope_factors = []
    for freq in freqs:
        wavelen = 2 * math.pi / freq
        if wavelen < high_freq_wavelen:
            rope_factors.append(1)
        elif wavelen > low_freq_wavelen:
            rope_factors.append(factor)
        else:
            smooth = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
            rope_factors.append(1 / ((1 - smooth) / factor + smooth))
    return np.array(rope_factors, dtype=np.float32)


GGUF_NAMES = {
    "input_layernorm.weight": "attn_norm.weight", "post_attention_layernorm.weight": "ffn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight", "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight", "self_attn.o_proj.weight": "attn_output.weight",
    "self_attn.q_proj.bias": "attn_q.bias", "self_attn.k_proj.bias": "attn_k.bias", "self_attn.v_proj.bias": "attn_v.bias",
    "self_attn.q_norm.weight": "attn_q_norm.weight", "self_attn.k_norm.weight": "attn_k_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight", "mlp.down_proj.weight": "ffn_down.weight",
    # phi3 (gguf-py tensor_mapping: qkv_proj -> attn_qkv, gate_up_proj -> ffn_up)
    "self_attn.qkv_proj.weight": "attn_qkv.weight", "mlp.gate_up_proj.weight": "ffn_up.weight",
}


def write_gguf(path, family, cfg, state, tok):
    arch = {"llama3": "llama", "mistral": "llama", "qwen2": "qwen2", "qwen3": "qwen3", "phi3": "phi3"}[family]
    head_dim = cfg.get("head_dim") or HIDDEN // HEADS
    w = gguf.GGUFWriter(path, arch)
    w.add_name("tiny-" + family)
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(HIDDEN)
    w.add_block_count(LAYERS)
    w.add_feed_forward_length(INTER)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_rope_freq_base(cfg.get("rope_theta") or cfg["rope_parameters"]["rope_theta"])
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_rope_dimension_count(head_dim)
    if head_dim != HIDDEN // HEADS:
        w.add_key_length(head_dim)
        w.add_value_length(head_dim)
    w.add_vocab_size(cfg["vocab_size"])
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    rope = cfg.get("rope_scaling") or {}
    if family == "phi3":  # Phi3MiniModel.set_gguf_parameters / generate_extra_tensors
        orig = cfg["original_max_position_embeddings"]
        w.add_rope_scaling_orig_ctx_len(orig)
        w.add_sliding_window(cfg.get("sliding_window") or 0)
        scale = cfg["max_position_embeddings"] / orig
        w.add_rope_scaling_attn_factors(math.sqrt(1 + math.log(scale) / math.log(orig)) if scale > 1.0 else 1.0)
        w.add_tensor("rope_factors_long.weight", np.array(rope["long_factor"], dtype=np.float32))
        w.add_tensor("rope_factors_short.weight", np.array(rope["short_factor"], dtype=np.float32))
    elif rope.get("type") == "yarn":  # Qwen2Model.set_gguf_parameters
        w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
        w.add_rope_scaling_factor(rope["factor"])
        w.add_rope_scaling_orig_ctx_len(rope["original_max_position_embeddings"])
    # Tokenizer (byte-level BPE, as llama.cpp's gpt2 vocab).
    vocab = tok.get_vocab()
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types([gguf.TokenType.CONTROL if t in SPECIALS else gguf.TokenType.NORMAL for t in tokens])
    merges = json.loads(tok.to_str())["model"]["merges"]
    w.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in merges])
    w.add_eos_token_id(vocab["<|endoftext|>"])

    def add(name, t):
        w.add_tensor(name, np.ascontiguousarray(t.detach().numpy().astype(np.float32)))

    if family == "llama3":
        w.add_tensor("rope_freqs.weight", llama3_rope_factors(cfg["rope_parameters"], head_dim))
    add("token_embd.weight", state["model.embed_tokens.weight"])
    for i in range(LAYERS):
        for hf, gg in GGUF_NAMES.items():
            key = "model.layers.%d.%s" % (i, hf)
            if key not in state:
                continue
            t = state[key]
            if arch == "llama" and hf.startswith("self_attn.q_proj"):
                t = llama_permute(t, HEADS, HEADS)
            elif arch == "llama" and hf.startswith("self_attn.k_proj"):
                t = llama_permute(t, HEADS, KV_HEADS)
            add("blk.%d.%s" % (i, gg), t)
    add("output_norm.weight", state["model.norm.weight"])
    if "lm_head.weight" in state and not cfg["tie_word_embeddings"]:
        add("output.weight", state["lm_head.weight"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def rope_parameter_sets():
    """transformers' inv_freq and attention factor for RoPE settings the Swift RopeTable must match."""
    sets = [
        ("default", transformers.LlamaConfig, {"head_dim": 64, "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0}}),
        ("linear", transformers.LlamaConfig, {"head_dim": 64, "rope_parameters": {"rope_type": "linear", "rope_theta": 10000.0, "factor": 2.0}}),
        ("llama3.1-8b", transformers.LlamaConfig, {"head_dim": 128, "max_position_embeddings": 131072, "rope_parameters": {
            "rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
            "original_max_position_embeddings": 8192}}),
        ("llama3.2-1b", transformers.LlamaConfig, {"head_dim": 64, "max_position_embeddings": 131072, "rope_parameters": {
            "rope_type": "llama3", "rope_theta": 500000.0, "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
            "original_max_position_embeddings": 8192}}),
        ("yarn-qwen2.5", transformers.Qwen2Config, {"max_position_embeddings": 131072, "rope_parameters": {
            "rope_type": "yarn", "rope_theta": 1000000.0, "factor": 4.0, "original_max_position_embeddings": 32768}}),
        ("yarn-mscale", transformers.LlamaConfig, {"head_dim": 64, "max_position_embeddings": 16384, "rope_parameters": {
            "rope_type": "yarn", "rope_theta": 10000.0, "factor": 40.0, "original_max_position_embeddings": 4096,
            "mscale": 1.0, "mscale_all_dim": 0.707, "beta_fast": 32, "beta_slow": 1}}),
        ("yarn-attention-factor", transformers.LlamaConfig, {"head_dim": 32, "max_position_embeddings": 8192, "rope_parameters": {
            "rope_type": "yarn", "rope_theta": 10000.0, "factor": 8.0, "original_max_position_embeddings": 1024,
            "attention_factor": 1.25, "beta_fast": 16.0, "beta_slow": 2.0, "truncate": False}}),
    ]
    out = []
    for name, cls, extra in sets:
        kw = {"hidden_size": 1024, "num_attention_heads": 16, "num_hidden_layers": 1, "intermediate_size": 64, "vocab_size": 8}
        kw.update(extra)
        cfg = cls(**kw)
        rope_type = cfg.rope_parameters["rope_type"]
        fn = transformers.modeling_rope_utils.ROPE_INIT_FUNCTIONS.get(rope_type)
        if fn is None:
            from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding
            inv, att = LlamaRotaryEmbedding.compute_default_rope_parameters(cfg)
        else:
            inv, att = fn(cfg, "cpu")
        config_json = {k: v for k, v in kw.items()}
        out.append({"name": name, "model_type": cfg.model_type, "config": config_json,
                    "inv_freq": [float(x) for x in inv.tolist()], "attention_factor": float(att)})
    return out


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "Tests", "IFTTrainTests", "Fixtures", "families"))
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    tok = make_tokenizer(out)
    vocab = tok.get_vocab_size()
    write_json(os.path.join(out, "rope-parameters.json"), rope_parameter_sets())
    summary = []
    for family, (cfg_dict, cls) in family_configs(vocab).items():
        d = os.path.join(out, family)
        for sub in ("", "full", "lora", "reference"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        model = build(cfg_dict, cls)
        write_json(os.path.join(d, "config.json"), cfg_dict)
        state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
        if cfg_dict["tie_word_embeddings"]:
            state.pop("lm_head.weight", None)
        save_file(state, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
        for f in ("tokenizer.json", "tokenizer_config.json"):
            with open(os.path.join(out, f)) as src, open(os.path.join(d, f), "w") as dst:
                dst.write(src.read())
        write_gguf(os.path.join(d, "model.gguf"), family, cfg_dict, state, tok)
        batches = make_batches(vocab, 1)
        with open(os.path.join(d, "batches.json"), "w") as f:
            f.write('{"micro_batches": [\n' + ",\n".join(json.dumps(mb, separators=(",", ":")) for mb in batches) + "\n]}\n")

        # transformers must read the directory back to the same model (both config layouts).
        reloaded = transformers.AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager")
        reloaded.eval()
        with torch.no_grad():
            logits = reloaded(input_ids=torch.tensor(batches[0]["input_ids"])).logits.float().contiguous()
            model.eval()
            same = model(input_ids=torch.tensor(batches[0]["input_ids"])).logits.float()
        assert torch.equal(logits, same), family + ": reloaded model differs"
        save_file({"logits": logits}, os.path.join(d, "reference", "logits.safetensors"), metadata={"format": "pt"})

        # Full fine-tuning: every parameter (with biases and Q/K norms) trainable.
        named = [(n, p) for n, p in model.named_parameters()]
        loss_full = first_step(model, named, batches, vocab, os.path.join(d, "full", "step0_grads.safetensors"))

        # LoRA on the same initial weights.
        base = build(cfg_dict, cls)
        base.load_state_dict(model.state_dict())
        torch.manual_seed(10)
        lm = get_peft_model(base, LoraConfig(r=RANK, lora_alpha=ALPHA, lora_dropout=0.0, target_modules=lora_targets(family), bias="none"))
        g = torch.Generator().manual_seed(110)
        lnamed = []
        with torch.no_grad():
            for name, p in lm.named_parameters():
                if not p.requires_grad:
                    continue
                assert "lora_" in name, name
                if "lora_B" in name:
                    p.copy_(0.1 * torch.randn(p.shape, generator=g, dtype=torch.float32))
                lnamed.append((peft_name(name), p))
        save_file({n: p.detach().clone().contiguous() for n, p in lnamed}, os.path.join(d, "lora", "adapter_init.safetensors"),
                  metadata={"format": "pt"})
        loss_lora = first_step(lm, lnamed, batches, vocab, os.path.join(d, "lora", "step0_grads.safetensors"))
        write_json(os.path.join(d, "trace.json"), {"loss_full": loss_full, "loss_lora": loss_lora})
        summary.append("%-8s vocab %d, %d parameters, first-step loss full %.5f lora %.5f" % (
            family, vocab, sum(p.numel() for _, p in named), loss_full, loss_lora))

    versions = "torch %s, transformers %s, peft %s, gguf-py, tokenizers" % (torch.__version__, transformers.__version__, peft.__version__)
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write("# families\n\nMade by `python3 Tools/make-family-fixtures.py` (%s; CPU, fp32, one thread).\n"
                "See the script's docstring for what each file holds.\n\n" % versions)
        f.write("\n".join("- " + s for s in summary) + "\n")
    print(versions)
    print("\n".join(summary))
    total = sum(os.path.getsize(os.path.join(dd, ff)) for dd, _, fs in os.walk(out) for ff in fs)
    print("fixtures: %d bytes" % total)


if __name__ == "__main__":
    main()
