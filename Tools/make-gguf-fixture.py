#!/usr/bin/env python3
"""GGUF cross-checks against the independent Python `gguf` package (llama.cpp's gguf-py).

    pip install gguf numpy

    # Write Tests/IFTModelTests/Fixtures/gguf-py-fixture.gguf with gguf-py (our reader must parse it):
    python3 Tools/make-gguf-fixture.py write [OUT]

    # Read a GGUF that OUR writer wrote (Tests/IFTModelTests/Fixtures/ift-writer.gguf, produced by
    # GGUFWriterFixtureTests with IFT_REGENERATE_FIXTURES=1) with gguf.GGUFReader and check
    # every value:
    python3 Tools/make-gguf-fixture.py check [PATH]

The fixture holds: metadata of every GGUF value type (incl. arrays of strings and a nested
array), a few llama.* hyperparameters, F32/F16/BF16/Q8_0/Q4_0/Q4_1 tensors (quantized by
gguf-py), Q4_K/Q6_K tensors (random blocks with sane scales; gguf-py has no k-quant
quantizer), and for every non-F32 tensor X an F32 tensor "X.expected" holding gguf-py's
dequantization of X, so the Swift tests compare against gguf-py's numbers without Python.
It also stores llama.cpp's Q/K permutation (convert_hf_to_gguf.py, LlamaModel.permute) of a
small matrix, computed with numpy exactly as in llama.cpp.
"""
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q, GGUFValueType as V

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "Tests", "IFTModelTests", "Fixtures")


def llama_permute(weights: np.ndarray, n_head: int, n_head_kv: int | None) -> np.ndarray:
    """Verbatim from llama.cpp convert_hf_to_gguf.py, LlamaModel.permute."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2)
            .reshape(weights.shape))


def random_kquant_blocks(rng: np.random.Generator, qtype: Q, n_blocks: int) -> np.ndarray:
    """Random k-quant blocks whose f16 scale fields are small finite numbers."""
    size = gguf.GGML_QUANT_SIZES[qtype][1]
    b = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    d = rng.uniform(0.001, 0.05, size=n_blocks).astype(np.float16).view(np.uint8).reshape(n_blocks, 2)
    if qtype == Q.Q4_K:  # d at 0, dmin at 2
        b[:, 0:2] = d
        b[:, 2:4] = rng.uniform(0.001, 0.05, size=n_blocks).astype(np.float16).view(np.uint8).reshape(n_blocks, 2)
    elif qtype == Q.Q6_K:  # d at 208
        b[:, 208:210] = d
    return b


def write(out: str) -> None:
    rng = np.random.default_rng(1234)
    w = gguf.GGUFWriter(out, arch="llama")  # adds general.architecture = "llama"
    # One key of every scalar type.
    w.add_uint8("test.uint8", 200)
    w.add_int8("test.int8", -100)
    w.add_uint16("test.uint16", 60000)
    w.add_int16("test.int16", -30000)
    w.add_uint32("test.uint32", 4000000000)
    w.add_int32("test.int32", -2000000000)
    w.add_float32("test.float32", 1.5)
    w.add_uint64("test.uint64", 18000000000000000000)
    w.add_int64("test.int64", -9000000000000000000)
    w.add_float64("test.float64", 0.1)
    w.add_bool("test.bool", True)
    w.add_string("test.string", "héllo, GGUF ✓")
    # Arrays.
    w.add_array("test.array.strings", ["<s>", "</s>", "▁the", "", "日本"])
    w.add_array("test.array.int32", [1, -2, 3])
    w.add_array("test.array.float32", [0.5, -1.25, 3.0])
    w.add_key_value("test.array.uint64", [1, 2, 2**63], V.ARRAY, sub_type=V.UINT64)
    w.add_array("test.array.bool", [True, False, True])
    w.add_array("test.array.nested", [[1, 2], [3]])
    # A few Llama hyperparameters (LlamaConfig(gguf:) is tested on this file too).
    w.add_context_length(256)
    w.add_embedding_length(64)
    w.add_block_count(2)
    w.add_feed_forward_length(128)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(32)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)

    def add_with_expected(name: str, data: np.ndarray, qtype: Q, shape: tuple[int, ...]) -> None:
        w.add_tensor(name, data, raw_dtype=qtype)
        expected = gguf.quants.dequantize(data, qtype).astype(np.float32).reshape(shape)
        w.add_tensor(name + ".expected", expected)

    f32 = np.arange(12, dtype=np.float32).reshape(3, 4) / 4 - 1  # row-major [3, 4]: ne = [4, 3]
    w.add_tensor("t.f32", f32)
    f16 = rng.standard_normal((2, 8)).astype(np.float16)
    w.add_tensor("t.f16", f16)
    w.add_tensor("t.f16.expected", f16.astype(np.float32))
    bf16 = gguf.quants.quantize(rng.standard_normal((2, 8)).astype(np.float32), Q.BF16)
    add_with_expected("t.bf16", bf16, Q.BF16, (2, 8))
    for name, qt in [("t.q8_0", Q.Q8_0), ("t.q4_0", Q.Q4_0), ("t.q4_1", Q.Q4_1)]:
        x = rng.standard_normal((2, 64)).astype(np.float32)
        add_with_expected(name, gguf.quants.quantize(x, qt), qt, (2, 64))
    for name, qt in [("t.q4_k", Q.Q4_K), ("t.q6_k", Q.Q6_K)]:
        blocks = random_kquant_blocks(rng, qt, 2).reshape(2, -1)  # 2 rows of one block: [2, 256]
        add_with_expected(name, blocks, qt, (2, 256))
    # 3-D and 1-D tensors, to check the dimension order.
    w.add_tensor("t.3d", np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    w.add_tensor("t.1d", np.array([7, 8, 9], dtype=np.float32))
    # llama.cpp's Q/K permutation of an 8 x 3 matrix: Q with 2 heads (head width 4), and K with
    # n_head = 4, n_head_kv = 1 (one kv head of width 8).
    perm_in = np.arange(24, dtype=np.float32).reshape(8, 3)
    w.add_tensor("perm.input", perm_in)
    w.add_tensor("perm.q_heads2", llama_permute(perm_in, 2, 2))
    w.add_tensor("perm.k_heads4_kv1", llama_permute(perm_in, 4, 1))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")


def check(path: str) -> None:
    """Checks the file GGUFWriterFixtureTests.recipe() builds (keep the two in sync)."""
    r = gguf.GGUFReader(path)
    fails = []

    def expect(cond: bool, what: str) -> None:
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            fails.append(what)

    f = r.fields
    def scalar(key):
        return f[key].contents()

    expect(r.data_offset % 64 == 0, f"data offset {r.data_offset} aligned to 64")
    expect(scalar("general.alignment") == 64, "general.alignment = 64")
    expect(scalar("general.architecture") == "llama", "general.architecture")
    exp = {
        "w.uint8": (V.UINT8, 255), "w.int8": (V.INT8, -128), "w.uint16": (V.UINT16, 65535),
        "w.int16": (V.INT16, -32768), "w.uint32": (V.UINT32, 4294967295), "w.int32": (V.INT32, -2147483648),
        "w.uint64": (V.UINT64, 2**64 - 1), "w.int64": (V.INT64, -2**63), "w.bool": (V.BOOL, False),
        "w.string": (V.STRING, "Grüße ✓"),
    }
    for k, (t, v) in exp.items():
        expect(f[k].types == [t] and scalar(k) == v, f"{k} = {v!r} ({t.name}); got {scalar(k)!r} {f[k].types}")
    expect(f["w.float32"].types == [V.FLOAT32] and scalar("w.float32") == np.float32(-2.5), "w.float32")
    expect(f["w.float64"].types == [V.FLOAT64] and scalar("w.float64") == 1e-300, "w.float64")
    expect(scalar("w.strings") == ["a", "", "ü"], f"w.strings = {scalar('w.strings')!r}")
    expect(f["w.int64s"].types == [V.ARRAY, V.INT64] and scalar("w.int64s") == [-1, 0, 2**62], "w.int64s")
    expect(scalar("w.float32s") == [0.25, -8.0], "w.float32s")
    expect(f["w.empty"].types[0] == V.ARRAY and scalar("w.empty") == [], f"w.empty = {scalar('w.empty')!r}")
    # gguf-py's ReaderField.contents() flattens nested arrays; the types and the flattened
    # values (and every field after this one parsing correctly) show the layout is right.
    expect(f["w.nested"].types == [V.ARRAY, V.ARRAY, V.STRING] and scalar("w.nested") == ["x", "y", "z"],
           f"w.nested = {scalar('w.nested')!r} (flattened by gguf-py) {f['w.nested'].types}")

    tensors = {t.name: t for t in r.tensors}
    base = np.arange(2 * 64, dtype=np.float32).reshape(2, 64) / 16 - 4
    for name, qt in [("f32", Q.F32), ("f16", Q.F16), ("bf16", Q.BF16), ("q8_0", Q.Q8_0),
                     ("q4_0", Q.Q4_0), ("q4_1", Q.Q4_1), ("q4_k", Q.Q4_K), ("q6_k", Q.Q6_K)]:
        t = tensors["w." + name]
        expect(t.tensor_type == qt, f"w.{name} type {t.tensor_type.name}")
        expect(list(t.shape) == ([64, 2] if qt.name not in ("Q4_K", "Q6_K") else [256, 1]),
               f"w.{name} ne = {list(t.shape)}")
        if qt in (Q.F32, Q.F16, Q.BF16):
            got = gguf.quants.dequantize(np.asarray(t.data).view(np.uint8), qt).reshape(2, 64)
            tol = {Q.F32: 0, Q.F16: 2e-3, Q.BF16: 2e-2}[qt]
            expect(np.allclose(got, base, atol=tol * 4), f"w.{name} values (max err {np.abs(got - base).max()})")
        else:
            got = gguf.quants.dequantize(np.asarray(t.data).view(np.uint8), qt).reshape(-1)
            ref = tensors["w." + name + ".expected"]
            expect(np.array_equal(got, np.asarray(ref.data).reshape(-1)),
                   f"w.{name}: gguf-py's dequantization equals our dequantization stored beside it")
    t3 = tensors["w.3d"]
    expect(list(t3.shape) == [4, 3, 2], f"w.3d ne = {list(t3.shape)} (row-major [2, 3, 4] reversed)")
    expect(np.array_equal(np.asarray(t3.data).reshape(-1), np.arange(24, dtype=np.float32)), "w.3d values")
    print("ALL OK" if not fails else f"{len(fails)} FAILURES")
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "write"
    if cmd == "write":
        write(sys.argv[2] if len(sys.argv) > 2 else os.path.join(FIXTURES, "gguf-py-fixture.gguf"))
    elif cmd == "check":
        check(sys.argv[2] if len(sys.argv) > 2 else os.path.join(FIXTURES, "ift-writer.gguf"))
    else:
        sys.exit(__doc__)
