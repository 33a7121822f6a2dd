import IFTCPU
import IFTCore

/// Bench cases of the Llama forward-pass ops on SmolLM2-135M shapes (d 576, 9 query heads over 3
/// kv heads of 64, MLP 1536, vocabulary 49152).
extension KernelBenchCase {
    static func forward(quick: Bool) -> [KernelBenchCase] {
        let t = quick ? 256 : 4096  // tokens
        let d = 576, f = 1536, heads = 9, kvHeads = 3, hd = 64
        let vocab = quick ? 4096 : 49152
        var cases: [KernelBenchCase] = []
        // Fused quantized linear: decoding (1 token) and a short prompt against a Q4_1 MLP weight.
        for m in [1, 16] {
            let desc = MatmulDescriptor(m: m, n: f, k: d, transposeB: true)
            cases.append(
                KernelBenchCase(
                    kernel: "matmul_q q4_1", shape: "\(m)x\(f)x\(d)", work: desc.flops, unit: "GFLOP/s",
                    setup: { b in
                        var g = SeededGenerator(seed: 10)
                        let x = try b.tensor(g.uniformArray(m * d), shape: [m, d])
                        let w = try b.tensor(bytes: try Reference.quantize(.q4_1, g.uniformArray(f * d)), shape: [f, d], dtype: .q4_1)
                        let y = try b.makeTensor(shape: [m, f], dtype: .f32)
                        return { try b.matmulQuantized(x, w, y, desc) }
                    }))
        }
        cases.append(
            KernelBenchCase(
                kernel: "embedding", shape: "\(t) of \(vocab)x\(d)", work: Double(t * d * 8), unit: "GB/s",
                setup: { b in
                    var g = SeededGenerator(seed: 11)
                    let table = try b.tensor(g.uniformArray(vocab * d), shape: [vocab, d])
                    let ids = try b.tensor(ints: (0..<t).map { _ in Int32(g.next() % UInt64(vocab)) }, shape: [t])
                    let o = try b.makeTensor(shape: [t, d], dtype: .f32)
                    return { try b.embedding(table, ids: ids, into: o) }
                }))
        cases.append(
            KernelBenchCase(
                kernel: "rms_norm", shape: "\(t)x\(d)", work: Double(t * d * 8), unit: "GB/s",
                setup: { b in
                    var g = SeededGenerator(seed: 12)
                    let x = try b.tensor(g.uniformArray(t * d), shape: [t, d])
                    let w = try b.tensor(g.uniformArray(d), shape: [d])
                    let o = try b.makeTensor(shape: [t, d], dtype: .f32)
                    return { try b.rmsNorm(x, weight: w, eps: 1e-5, into: o) }
                }))
        cases.append(
            KernelBenchCase(
                kernel: "rope", shape: "\(t)x\(heads)x\(hd)", work: Double(t * heads * hd * 8), unit: "GB/s",
                setup: { b in
                    var g = SeededGenerator(seed: 13)
                    let x = try b.tensor(g.uniformArray(t * heads * hd), shape: [t, heads * hd])
                    let table = try b.tensor(RopeTable.make(theta: 10000, headDim: hd, maxPositions: t), shape: [t, hd])
                    let pos = try b.tensor(ints: (0..<t).map { Int32($0) }, shape: [t])
                    let desc = RopeDescriptor(heads: heads, headDim: hd, tokens: t)
                    return { try b.rope(x, positions: pos, table: table, desc, into: x) }
                }))
        cases.append(
            KernelBenchCase(
                kernel: "swiglu", shape: "\(t)x\(f)", work: Double(t * f * 12), unit: "GB/s",
                setup: { b in
                    var g = SeededGenerator(seed: 14)
                    let gate = try b.tensor(g.uniformArray(t * f), shape: [t, f])
                    let up = try b.tensor(g.uniformArray(t * f), shape: [t, f])
                    let o = try b.makeTensor(shape: [t, f], dtype: .f32)
                    return { try b.swiglu(gate: gate, up: up, into: o) }
                }))
        cases.append(
            KernelBenchCase(
                kernel: "copy", shape: "\(t)x\(kvHeads * hd) to cache", work: Double(t * kvHeads * hd * 8), unit: "GB/s",
                setup: { b in
                    var g = SeededGenerator(seed: 15)
                    let k = try b.tensor(g.uniformArray(t * kvHeads * hd), shape: [t, kvHeads * hd])
                    let cache = try b.makeTensor(shape: [2 * t, kvHeads * hd], dtype: .f32)
                    let desc = CopyDescriptor(rows: t, cols: kvHeads * hd, dstOffset: t * kvHeads * hd)
                    return { try b.copy(k, into: cache, desc) }
                }))
        // Prefill: sequences of up to 1024 tokens, causal (half the score matrix is computed).
        let seq = min(t, 1024), batch = t / seq
        let prefill = AttentionDescriptor(batch: batch, queryLength: seq, keyLength: seq, heads: heads, kvHeads: kvHeads, headDim: hd)
        // Decode: one query against a KV cache of `t` keys.
        let decode = AttentionDescriptor(queryLength: 1, keyLength: t, heads: heads, kvHeads: kvHeads, headDim: hd)
        for (label, desc, flops) in [
            ("attention", prefill, 4.0 * Double(batch * heads * seq * (seq + 1) / 2 * hd)),
            ("attention 1q", decode, 4.0 * Double(heads * t * hd)),
        ] {
            cases.append(
                KernelBenchCase(
                    kernel: label, shape: "\(desc.batch)x\(desc.queryLength)x\(desc.keyLength) \(heads)/\(kvHeads)x\(hd)", work: flops,
                    unit: "GFLOP/s",
                    setup: { b in
                        var g = SeededGenerator(seed: 16)
                        let q = try b.tensor(g.uniformArray(desc.qExtent), shape: [desc.qExtent])
                        let k = try b.tensor(g.uniformArray(desc.kExtent), shape: [desc.kExtent])
                        let v = try b.tensor(g.uniformArray(desc.vExtent), shape: [desc.vExtent])
                        let o = try b.makeTensor(shape: [desc.outExtent], dtype: .f32)
                        return { try b.attention(q: q, k: k, v: v, into: o, logSumExp: nil, desc) }
                    }))
        }
        return cases
    }
}
