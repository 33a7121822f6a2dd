#!/usr/bin/env python3
"""Tokenizes llama.cpp's own tokenizer test vectors with ift-gpu and compares the ids.

llama.cpp ships vocabulary-only GGUFs of many models (models/ggml-vocab-*.gguf) with test
texts (.inp, separated by "__ggml_vocab_test__" lines) and the ids its test-tokenizer-0 expects
(.out, one line per text; no BOS, special tokens not parsed). The vendored llama.cpp inside the
llama-cpp-python source package has them (PyPI; no C++ build needed):

    curl -sLO $(python3 -c "import json,urllib.request as u; d=json.load(u.urlopen('https://pypi.org/pypi/llama-cpp-python/json')); print([x['url'] for x in d['urls'] if x['packagetype']=='sdist'][0])")
    tar xzf llama_cpp_python-*.tar.gz --wildcards '*/vendor/llama.cpp/models/ggml-vocab-*'
    python3 Tools/check-llama-cpp-vocabs.py llama_cpp_python-*/vendor/llama.cpp/models [ift-gpu binary]

Prints, per vocabulary, how many texts give exactly llama.cpp's ids, or why it cannot be loaded.
"""
import glob
import os
import subprocess
import sys

SEP = "\n__ggml_vocab_test__\n"


def main():
    models = sys.argv[1]
    binary = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", ".build", "release", "ift-gpu")
    total_ok = total = 0
    for inp in sorted(glob.glob(os.path.join(models, "ggml-vocab-*.gguf.inp"))):
        gguf = inp[: -len(".inp")]
        name = os.path.basename(gguf)[len("ggml-vocab-"):-len(".gguf")]
        with open(inp, encoding="utf-8") as f:
            texts = f.read().split(SEP)
        with open(gguf + ".out", encoding="utf-8") as f:
            wants = f.read().split("\n")
        if texts and texts[-1].endswith("\n__ggml_vocab_test__"):
            texts[-1] = texts[-1][: -len("\n__ggml_vocab_test__")]
        ok = 0
        problem = None
        for text, want in zip(texts, wants):
            r = subprocess.run([binary, "tokenize", "--ids-only", "--model", gguf, "--", text],
                               capture_output=True, text=True)
            if r.returncode != 0:
                problem = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}"
                break
            if r.stdout.split() == want.split():
                ok += 1
            elif problem is None:
                problem = f"first difference: {text[:40]!r}: got {r.stdout.split()[:12]}, want {want.split()[:12]}"
        n = min(len(texts), len(wants))
        total += n
        total_ok += ok
        print(f"{name:20s} {ok:3d}/{n:3d}" + (f"   {problem}" if problem and ok < n else ""))
    print(f"all: {total_ok}/{total}")


if __name__ == "__main__":
    main()
