#!/usr/bin/env python3
"""Reference tokenizations for the SentencePiece-style (byte-fallback BPE) tokenizer tests.

    pip install sentencepiece gguf tokenizers
    python3 Tools/make-spm-tokenizer-fixture.py [OUT_DIR]

The Hub is not reachable from here, so the vocabulary is trained here: a SentencePiece BPE
model configured as Llama 2's and Mistral's are (byte_fallback, split_digits, identity
normalization, whitespace kept, a dummy prefix space, whitespace-only pieces allowed) and
trained on the same random texts as the byte-level fixture (Tools/make-tokenizer-fixture.py)
plus data/general/general-text.txt, with two user-defined symbols. Writes, into
Tests/IFTModelTests/Fixtures/ by default:

  spm-vocab.gguf        the vocabulary as llama.cpp stores it (tokenizer.ggml.model = "llama":
                        tokens, scores, token types, BOS/EOS/UNK ids, add_space_prefix), no tensors
  spm-tokenizer.json    {"tokenizers": {VARIANT: tokenizer.json}, "cases": [...], "notes": {...}}

Variants (each a complete tokenizer.json, as Hugging Face tokenizers saves it):
  legacy   Llama 2 / Mistral: normalizer Prepend("▁") + Replace(" ", "▁"), no pre-tokenizer,
           BPE with byte_fallback, decoder Replace + ByteFallback + Fuse + Strip(1 leading space)
  first    newer Llama-family exports: Metaspace pre-tokenizer, prepend_scheme "first", split off
  noprefix Gemma: normalizer Replace(" ", "▁") only (no dummy prefix), no Strip in the decoder

cases: {"text", "ids" (legacy, special tokens as plain text), "ids_special" (legacy, special
tokens recognised; only where different), "first" / "noprefix" (where different from "ids";
every text for noprefix is too large, so only the first 400 texts carry it)}. Both the GGUF
and the tokenizer.json paths are checked against Hugging Face tokenizers' legacy variant. The
script also encodes every text with the sentencepiece library itself: it agrees except around
the user-defined symbols, where sentencepiece puts no ▁ after the symbol and tokenizers and
llama.cpp (a GGUF's text after a special or user-defined token gets the prefix again) do; the
script checks that no other text differs and records the count in notes.
"""
import importlib.util
import json
import os
import sys
import tempfile

import gguf
import sentencepiece as spm
from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
DEFAULT_OUT = os.path.join(ROOT, "Tests", "IFTModelTests", "Fixtures")
VOCAB_SIZE = 2000
USER_SYMBOLS = ["<|im_start|>", "<|im_end|>"]
N_TEXTS = 2200
N_NOPREFIX = 400


def byte_level_fixture_texts():
    spec = importlib.util.spec_from_file_location("bytelevel", os.path.join(HERE, "make-tokenizer-fixture.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.texts()


def train(texts, workdir):
    corpus = os.path.join(workdir, "corpus.txt")
    with open(os.path.join(ROOT, "data", "general", "general-text.txt"), encoding="utf-8") as f:
        general = f.read()
    with open(corpus, "w", encoding="utf-8") as f:
        for t in texts + general.split("\n"):
            line = t.replace("\n", " ").replace("\r", " ").strip()
            if line:
                f.write(line + "\n")
    prefix = os.path.join(workdir, "spm")
    spm.SentencePieceTrainer.train(
        input=corpus, model_prefix=prefix, model_type="bpe", vocab_size=VOCAB_SIZE,
        byte_fallback=True, split_digits=True, normalization_rule_name="identity",
        remove_extra_whitespaces=False, add_dummy_prefix=True, allow_whitespace_only_pieces=True,
        character_coverage=0.98, user_defined_symbols=USER_SYMBOLS, unk_id=0, bos_id=1, eos_id=2,
        pad_id=-1, num_threads=2, minloglevel=2, max_sentence_length=100000)
    return spm.SentencePieceProcessor(model_file=prefix + ".model")


def pieces(sp):
    """(piece, score, llama.cpp token type) in id order."""
    out = []
    for i in range(sp.get_piece_size()):
        if sp.is_unknown(i):
            ty = 2
        elif sp.is_control(i):
            ty = 3
        elif sp.is_byte(i):
            ty = 6
        elif sp.is_unused(i):
            ty = 5
        elif sp.id_to_piece(i) in USER_SYMBOLS:
            ty = 4
        else:
            ty = 1
        out.append((sp.id_to_piece(i), sp.get_score(i), ty))
    return out


def merges_of(vocab_pieces):
    """BPE merges in the order transformers' SentencePiece conversion gives them: every split of
    a normal piece into two normal pieces, ordered by the merged piece's id (its score rank),
    then by the left piece's id."""
    normal = {p: i for i, (p, _, ty) in enumerate(vocab_pieces) if ty == 1}
    merges = []
    for p, i in normal.items():
        local = []
        for k in range(1, len(p)):
            a, b = p[:k], p[k:]
            if a in normal and b in normal:
                local.append((normal[a], normal[b], a, b))
        local.sort()
        merges += [(i, ia, a, b) for ia, _, a, b in local]
    merges.sort(key=lambda m: (m[0], m[1]))
    return [(a, b) for _, _, a, b in merges]


def hf_tokenizer(vocab_pieces, variant):
    vocab = {p: i for i, (p, _, _) in enumerate(vocab_pieces)}
    bpe = models.BPE(vocab=vocab, merges=merges_of(vocab_pieces), unk_token="<unk>", byte_fallback=True,
                     fuse_unk=True)
    tok = Tokenizer(bpe)
    if variant == "legacy":
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
        tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                         decoders.Strip(" ", 1, 0)])
    elif variant == "first":
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
        tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    elif variant == "noprefix":
        tok.normalizer = normalizers.Replace(" ", "▁")
        tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()])
    else:
        raise ValueError(variant)
    tok.add_special_tokens([AddedToken(p, special=True, normalized=False)
                            for p, _, ty in vocab_pieces if ty in (2, 3)])
    tok.add_tokens([AddedToken(p, special=False, normalized=False) for p in USER_SYMBOLS])
    return tok


def encode(tok, text, special):
    tok.encode_special_tokens = not special
    return tok.encode(text, add_special_tokens=False).ids


def write_gguf(vocab_pieces, path):
    w = gguf.GGUFWriter(path, "llama")
    w.add_name("spm-fixture")
    w.add_tokenizer_model("llama")
    w.add_token_list([p for p, _, _ in vocab_pieces])
    w.add_token_scores([s for _, s, _ in vocab_pieces])
    w.add_token_types([ty for _, _, ty in vocab_pieces])
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_add_space_prefix(True)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    all_texts = byte_level_fixture_texts()
    with tempfile.TemporaryDirectory() as d:
        sp = train(all_texts[:1500], d)
    vocab_pieces = pieces(sp)
    texts = all_texts[:N_TEXTS - 5] + all_texts[-5:]
    texts += ["<s>Hello</s>", "a <s> b", "<|im_start|>user\nhi<|im_end|>", " <|im_end|> x", "x<unk>y"]
    toks = {v: hf_tokenizer(vocab_pieces, v) for v in ("legacy", "first", "noprefix")}

    cases = []
    notes = {"texts": len(texts), "vocabulary": len(vocab_pieces), "spm_differs": 0, "spm_differs_only_around_user_symbols": True, "first_differs": 0,
             "noprefix_checked": N_NOPREFIX, "special_differs": 0, "decode_differs": 0}
    for n, s in enumerate(texts):
        ids = encode(toks["legacy"], s, special=False)
        case = {"text": s, "ids": ids}
        special = encode(toks["legacy"], s, special=True)
        if special != ids:
            case["ids_special"] = special
            notes["special_differs"] += 1
        first = encode(toks["first"], s, special=True)
        if first != special:
            case["first"] = first
            notes["first_differs"] += 1
        if n < N_NOPREFIX:
            case["noprefix"] = encode(toks["noprefix"], s, special=True)
        if sp.encode(s) != ids:
            assert any(u in s for u in USER_SYMBOLS), f"sentencepiece and tokenizers differ on {s!r}"
            notes["spm_differs"] += 1
        decoded = toks["legacy"].decode(ids, skip_special_tokens=False)
        if decoded != s:
            case["decoded"] = decoded
            notes["decode_differs"] += 1
        cases.append(case)

    fixture = {
        "reference": "HF tokenizers (tokenizer.json variants) and sentencepiece "
                     f"{spm.__version__} (the GGUF path); vocabulary trained by this script",
        "tokenizers": {v: json.loads(t.to_str()) for v, t in toks.items()},
        "cases": cases,
        "notes": notes,
    }
    gguf_path = os.path.join(out_dir, "spm-vocab.gguf")
    write_gguf(vocab_pieces, gguf_path)
    path = os.path.join(out_dir, "spm-tokenizer.json")
    text = json.dumps(fixture, ensure_ascii=False, separators=(",", ":"))
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {gguf_path} ({os.path.getsize(gguf_path)} bytes) and {path} ({len(text.encode()) / 1e6:.2f} MB)")
    print(json.dumps(notes))


if __name__ == "__main__":
    main()
