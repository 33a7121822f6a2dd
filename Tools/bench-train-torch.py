#!/usr/bin/env python3
"""The PyTorch side of `ift-gpu bench train`: training-step throughput of a random-weight Llama.

Builds a LlamaForCausalLM with SmolLM2-135M's architecture (random weights, nothing downloaded),
trains it on random token batches with AdamW (lr 1e-4) in full, LoRA or QLoRA mode, times the
steps after the warm-up ones and prints ONE JSON line:

  {"framework":"pytorch","mode":...,"batch":...,"seq":...,"tokens_per_s":...,"step_ms":...,
   "peak_mem_mb":...,"torch":...,"device":...}

peak_mem_mb is torch.cuda.max_memory_allocated on CUDA, the process's peak RSS on the CPU.
LoRA/QLoRA adapt all seven projections (q,k,v,o,gate,up,down). QLoRA needs CUDA and bitsandbytes
(NF4 base weights); without them the script says so and exits 2.

Usage: pip install /opt/wheels/torch-*.whl transformers peft   (CPU torch; CUDA torch for --device cuda)
       python3 Tools/bench-train-torch.py --mode lora --batch 4 --seq 256 --steps 5 --warmup 1
"""
import argparse
import json
import os
import resource
import sys
import tempfile
import time

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mode", choices=["full", "lora", "qlora"], default="lora")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--steps", type=int, default=5, help="timed steps")
    p.add_argument("--warmup", type=int, default=1, help="untimed steps before them")
    p.add_argument("--rank", type=int, default=16)
    p.add_argument("--alpha", type=float, default=32)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32", help="bf16 = autocast (weights stay fp32)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    p.add_argument("--lr", type=float, default=1e-4)
    # Architecture (defaults: SmolLM2-135M).
    p.add_argument("--layers", type=int, default=30)
    p.add_argument("--hidden", type=int, default=576)
    p.add_argument("--intermediate", type=int, default=1536)
    p.add_argument("--heads", type=int, default=9)
    p.add_argument("--kv-heads", type=int, default=3)
    p.add_argument("--vocab", type=int, default=49152)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if a.batch < 1 or a.seq < 2 or a.steps < 1 or a.warmup < 0 or a.rank < 1:
        p.error("--batch, --steps and --rank must be at least 1, --seq at least 2, --warmup at least 0")
    return a


def fail(msg, code=2):
    print("bench-train-torch: " + msg, file=sys.stderr)
    sys.exit(code)


def main():
    a = parse()
    try:
        import torch
        import transformers
        from transformers import LlamaConfig, LlamaForCausalLM
    except ImportError as e:
        fail("needs torch and transformers (%s); pip install /opt/wheels/torch-*.whl transformers peft" % e)
    if a.mode != "full":
        try:
            import peft
            from peft import LoraConfig, get_peft_model
        except ImportError:
            fail("--mode %s needs peft (pip install peft)" % a.mode)
    if a.device == "cuda" and not torch.cuda.is_available():
        fail("--device cuda: this torch (%s) has no usable CUDA device" % torch.__version__)
    if a.mode == "qlora":
        if a.device != "cuda" or not torch.cuda.is_available():
            fail("--mode qlora needs --device cuda with a CUDA build of torch (bitsandbytes NF4 runs on CUDA only)")
        try:
            import bitsandbytes  # noqa: F401
        except ImportError:
            fail("--mode qlora needs bitsandbytes (pip install bitsandbytes)")
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    device = torch.device(a.device)

    cfg = LlamaConfig(
        vocab_size=a.vocab, hidden_size=a.hidden, intermediate_size=a.intermediate,
        num_hidden_layers=a.layers, num_attention_heads=a.heads, num_key_value_heads=a.kv_heads,
        head_dim=a.hidden // a.heads, hidden_act="silu", max_position_embeddings=max(8192, a.seq),
        rms_norm_eps=1e-5, rope_theta=100000.0, tie_word_embeddings=True,
        attention_bias=False, mlp_bias=False, use_cache=False,
        bos_token_id=1, eos_token_id=2)
    attn = "sdpa"
    if a.mode == "qlora":
        from transformers import BitsAndBytesConfig
        compute = torch.bfloat16 if a.dtype == "bf16" else torch.float32
        with tempfile.TemporaryDirectory() as tmp:  # quantize on load: save the random model first
            LlamaForCausalLM(cfg).save_pretrained(tmp)
            q = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                   bnb_4bit_use_double_quant=False, bnb_4bit_compute_dtype=compute)
            model = LlamaForCausalLM.from_pretrained(tmp, quantization_config=q, dtype=torch.float32,
                                                     attn_implementation=attn, device_map={"": 0})
    else:
        cfg._attn_implementation = attn
        model = LlamaForCausalLM(cfg).to(device=device, dtype=torch.float32)

    if a.mode == "full":
        trainable = [p for p in model.parameters() if p.requires_grad]
    else:
        lc = LoraConfig(r=a.rank, lora_alpha=a.alpha, lora_dropout=0.0, target_modules=TARGETS, bias="none",
                        task_type="CAUSAL_LM")
        model = get_peft_model(model, lc)
        trainable = [p for p in model.parameters() if p.requires_grad]
    n_train = sum(p.numel() for p in trainable)
    opt = torch.optim.AdamW(trainable, lr=a.lr)
    model.train()

    gen = torch.Generator().manual_seed(a.seed + 1)
    batches = [torch.randint(0, a.vocab, (a.batch, a.seq), generator=gen).to(device) for _ in range(2)]
    use_autocast = a.dtype == "bf16"

    def sync():
        if a.device == "cuda":
            torch.cuda.synchronize()

    def step(i):
        ids = batches[i % len(batches)]
        with torch.autocast(device_type=a.device, dtype=torch.bfloat16, enabled=use_autocast):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    for i in range(a.warmup):
        step(i)
    sync()
    if a.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for i in range(a.steps):
        loss = step(a.warmup + i)
    sync()
    elapsed = time.perf_counter() - t0
    final_loss = float(loss.item())

    if a.device == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**20
        dev_name = "cuda:" + torch.cuda.get_device_name(0)
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
        dev_name = "cpu (%d threads, %s)" % (torch.get_num_threads(), torch.backends.cpu.get_cpu_capability())
    tokens = a.batch * a.seq * a.steps
    out = {
        "framework": "pytorch", "mode": a.mode, "batch": a.batch, "seq": a.seq,
        "tokens_per_s": round(tokens / elapsed, 2), "step_ms": round(elapsed / a.steps * 1000, 3),
        "peak_mem_mb": round(peak, 1), "torch": torch.__version__, "device": dev_name,
        "dtype": a.dtype, "steps": a.steps, "warmup": a.warmup, "rank": a.rank if a.mode != "full" else None,
        "trainable_params": n_train, "loss": round(final_loss, 4), "transformers": transformers.__version__,
    }
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
