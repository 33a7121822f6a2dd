#!/usr/bin/env python3
"""A tiny random Llama for the CLI's bad-input catalogue and the crash soak (Tools/soak-resume.sh).

    pip install gguf numpy
    python3 Tools/make-cli-fixture.py [OUT_DIR]      # default Tests/CLITests/Fixtures

Writes the same model twice, so that both loaders can be fed good and broken files:

  tiny.gguf                 GGUF v3, F32 tensors, byte-level vocabulary (256 byte tokens and one merge)
                            plus <|endoftext|>, <|im_start|>, <|im_end|> and a ChatML template
  tiny-hf/config.json       the same model as a Hugging Face directory
  tiny-hf/model.safetensors
  tiny-hf/tokenizer.json
  tiny-other.gguf           another model (other widths), for checkpoints of the wrong model

1 layer, hidden 32, 4 heads / 2 kv heads (head_dim 8), intermediate 64, vocab 260, context 512,
tied embeddings (tiny-other.gguf: hidden 16, intermediate 24, the same vocabulary); weights ~ U(-0.5, 0.5) from numpy's default_rng(15), norms 1. It trains in a few
milliseconds per step on cpu-ref, which keeps the catalogue fast and lets the soak aim its kills.
"""
import json
import os
import struct
import sys

import numpy as np
import gguf

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "Tests", "CLITests", "Fixtures")

VOCAB_BYTES = 256
# One merge ("Ġ" + "t" -> "Ġt", token 256): GGUF readers require a non-empty merges array.
MERGES = ["Ġ t"]
BASE = VOCAB_BYTES + len(MERGES)
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
VOCAB = BASE + len(SPECIALS)
D, F, LAYERS, HEADS, KV_HEADS, CTX = 32, 64, 1, 4, 2, 512
HEAD_DIM = D // HEADS
TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def byte_level_alphabet() -> list[str]:
    """GPT-2's bytes_to_unicode: byte b -> the printable character standing for it."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = dict(zip(bs, cs))
    return [chr(table[b]) for b in range(256)]


def weights(D=D, F=F, KV_HEADS=KV_HEADS, HEAD_DIM=HEAD_DIM) -> dict[str, np.ndarray]:
    """Hugging Face names and shapes ([out, in])."""
    rng = np.random.default_rng(15)
    u = lambda *shape: rng.uniform(-0.5, 0.5, size=shape).astype(np.float32)
    w = {"model.embed_tokens.weight": u(VOCAB, D)}
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = np.ones(D, np.float32)
        w[p + "self_attn.q_proj.weight"] = u(D, D)
        w[p + "self_attn.k_proj.weight"] = u(KV_HEADS * HEAD_DIM, D)
        w[p + "self_attn.v_proj.weight"] = u(KV_HEADS * HEAD_DIM, D)
        w[p + "self_attn.o_proj.weight"] = u(D, D)
        w[p + "post_attention_layernorm.weight"] = np.ones(D, np.float32)
        w[p + "mlp.gate_proj.weight"] = u(F, D)
        w[p + "mlp.up_proj.weight"] = u(F, D)
        w[p + "mlp.down_proj.weight"] = u(D, F)
    w["model.norm.weight"] = np.ones(D, np.float32)
    return w


GGUF_NAMES = {
    "input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output", "post_attention_layernorm": "ffn_norm",
    "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
}


def llama_permute(x: np.ndarray, heads: int) -> np.ndarray:
    """llama.cpp's convert_hf_to_gguf.py LlamaModel.permute (Q/K rows into GGUF's interleaved order)."""
    return x.reshape(heads, 2, x.shape[0] // heads // 2, *x.shape[1:]).swapaxes(1, 2).reshape(x.shape)


def write_gguf(path: str, w: dict[str, np.ndarray], tokens: list[str], D=D, F=F) -> None:
    g = gguf.GGUFWriter(path, "llama")
    g.add_name("ift-gpu tiny CLI fixture")
    g.add_context_length(CTX)
    g.add_embedding_length(D)
    g.add_block_count(LAYERS)
    g.add_feed_forward_length(F)
    g.add_head_count(HEADS)
    g.add_head_count_kv(KV_HEADS)
    g.add_rope_freq_base(10000.0)
    g.add_layer_norm_rms_eps(1e-5)
    g.add_vocab_size(VOCAB)
    g.add_tokenizer_model("gpt2")
    g.add_tokenizer_pre("gpt2")
    g.add_token_list(tokens)
    g.add_token_types([1] * BASE + [3] * len(SPECIALS))
    g.add_token_merges(MERGES)
    g.add_bos_token_id(BASE)
    g.add_eos_token_id(BASE + 2)
    g.add_add_bos_token(False)
    g.add_chat_template(TEMPLATE)
    for name, t in w.items():
        if name == "model.embed_tokens.weight":
            out = "token_embd.weight"
        elif name == "model.norm.weight":
            out = "output_norm.weight"
        else:
            layer, rest = name[len("model.layers."):].split(".", 1)
            out = f"blk.{layer}.{GGUF_NAMES[rest.rsplit('.', 1)[0]]}.weight"
            if rest.startswith("self_attn.q_proj"):
                t = llama_permute(t, HEADS)
            elif rest.startswith("self_attn.k_proj"):
                t = llama_permute(t, KV_HEADS)
        g.add_tensor(out, np.ascontiguousarray(t))
    g.write_header_to_file()
    g.write_kv_data_to_file()
    g.write_tensors_to_file()
    g.close()


def write_safetensors(path: str, w: dict[str, np.ndarray]) -> None:
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name, t in w.items():
        data = t.astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def write_hf(directory: str, w: dict[str, np.ndarray], tokens: list[str]) -> None:
    os.makedirs(directory, exist_ok=True)
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": VOCAB, "hidden_size": D,
        "intermediate_size": F, "num_hidden_layers": LAYERS, "num_attention_heads": HEADS,
        "num_key_value_heads": KV_HEADS, "head_dim": HEAD_DIM, "hidden_act": "silu", "max_position_embeddings": CTX,
        "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": True, "bos_token_id": BASE,
        "eos_token_id": BASE + 2, "torch_dtype": "float32",
    }
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
        f.write("\n")
    tokenizer = {
        "version": "1.0",
        "added_tokens": [
            {"id": BASE + i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True}
            for i, s in enumerate(SPECIALS)
        ],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {t: i for i, t in enumerate(tokens)}, "merges": MERGES},
    }
    with open(os.path.join(directory, "tokenizer.json"), "w") as f:
        json.dump(tokenizer, f, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(directory, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": SPECIALS[0], "eos_token": SPECIALS[2], "chat_template": TEMPLATE}, f, indent=1)
        f.write("\n")
    write_safetensors(os.path.join(directory, "model.safetensors"), w)


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    w = weights()
    tokens = byte_level_alphabet() + [m.replace(' ', '') for m in MERGES] + SPECIALS
    write_gguf(os.path.join(OUT, "tiny.gguf"), w, tokens)
    write_hf(os.path.join(OUT, "tiny-hf"), w, tokens)
    # Another model (hidden 16, intermediate 24): its checkpoints and adapters must not fit tiny's.
    write_gguf(os.path.join(OUT, "tiny-other.gguf"), weights(D=16, F=24, KV_HEADS=2, HEAD_DIM=4), tokens, D=16, F=24)
    for name in ["tiny.gguf", "tiny-other.gguf", "tiny-hf/model.safetensors", "tiny-hf/tokenizer.json"]:
        print(f"wrote {name}: {os.path.getsize(os.path.join(OUT, name))} bytes")


if __name__ == "__main__":
    main()
