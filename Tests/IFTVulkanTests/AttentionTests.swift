import IFTCPU
import IFTCore
import XCTest

extension SeededGenerator {
    fileprivate mutating func pick(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(next() % UInt64(r.count)) }
}

/// `Shaders/attention.comp` against `cpu-ref`: ragged lengths (not multiples of the query block or
/// key tile), GQA ratios 1, 3, 9/3, head dims 40/64/96/128 and odd ones, KV-cache strides and
/// capacity, decode steps (T = 1, queryOffset > 0), segments, non-causal, log-sum-exp.
final class AttentionTests: VulkanTestCase {
    struct Case {
        var d: AttentionDescriptor
        var segments: [Int32]? = nil
        var withLSE = true
        var capacity: Int? = nil  // KV rows allocated per batch entry (>= keyLength)
    }

    /// Runs `c` on both backends with the same random inputs; asserts out (the whole buffer) and lse.
    func check(_ c: Case, _ g: inout SeededGenerator, _ label: String) throws {
        var d = c.d
        if let cap = c.capacity { d.kvBatchStride = cap * d.kvRowStride }
        let unused = ((c.capacity ?? d.keyLength) - d.keyLength) * d.kvRowStride
        let q = g.uniformArray(d.qExtent, -2, 2), k = g.uniformArray(d.kExtent + unused, -2, 2)
        let v = g.uniformArray(d.vExtent + unused), out0 = g.uniformArray(d.outExtent)
        var outs: [[Float]] = [], lses: [[Float]] = []
        for be in [vk as any Backend, ref] {
            let out = try be.tensor(out0, shape: [out0.count])
            let lse = c.withLSE ? try be.makeTensor(shape: [d.batch, d.heads, d.queryLength], dtype: .f32) : nil
            let seg = try c.segments.map { try be.tensor(ints: $0, shape: [d.batch, d.keyLength]) }
            try be.attention(
                q: try be.tensor(q, shape: [q.count]), k: try be.tensor(k, shape: [k.count]), v: try be.tensor(v, shape: [v.count]),
                into: out, logSumExp: lse, segments: seg, d)
            outs.append(try be.floats(out))
            lses.append(try lse.map { try be.floats($0) } ?? [])
        }
        let what = "\(label): B=\(d.batch) T=\(d.queryLength) S=\(d.keyLength) H=\(d.heads)/\(d.kvHeads) hd=\(d.headDim) causal=\(d.causal) qo=\(d.queryOffset) seg=\(c.segments != nil)"
        XCTAssertLessThanOrEqual(nmse(outs[0], outs[1]), 1e-7, what)
        for i in lses[1].indices where lses[1][i].isInfinite {
            XCTAssertEqual(lses[0][i], lses[1][i], "\(what): lse \(i)")
            lses[0][i] = 0
            lses[1][i] = 0
        }
        XCTAssertLessThanOrEqual(nmse(lses[0], lses[1]), 1e-7, "\(what): lse")
    }

    func segments(_ g: inout SeededGenerator, batch: Int, length: Int) -> [Int32] {
        var s: [Int32] = []
        for _ in 0..<batch {
            var id = Int32(g.pick(0...3))
            for _ in 0..<length {
                if g.pick(0...6) == 0 { id += 1 }
                s.append(id)
            }
        }
        return s
    }

    func testNamedShapes() throws {
        var g = SeededGenerator(seed: 51)
        // SmolLM2-135M prefill: 9 query heads over 3 kv heads, headDim 64; more queries than a block.
        try check(Case(d: AttentionDescriptor(queryLength: 37, keyLength: 37, heads: 9, kvHeads: 3, headDim: 64)), &g, "prefill 9/3")
        // Decode step into a KV cache of capacity 64 holding 50 keys: T = 1, queryOffset 49.
        try check(
            Case(d: AttentionDescriptor(queryLength: 1, keyLength: 50, heads: 9, kvHeads: 3, headDim: 64), capacity: 64), &g, "decode")
        // A chunk of 5 new tokens after 20 cached ones (queryOffset 20), batch 2.
        try check(
            Case(d: AttentionDescriptor(batch: 2, queryLength: 5, keyLength: 25, heads: 4, kvHeads: 2, headDim: 40), capacity: 32), &g,
            "chunk")
        // GQA ratio 3 with headDim 96; no GQA with headDim 128; headDim 256 (the kernel's maximum).
        try check(Case(d: AttentionDescriptor(queryLength: 19, keyLength: 19, heads: 3, kvHeads: 1, headDim: 96)), &g, "gqa 3")
        try check(Case(d: AttentionDescriptor(queryLength: 33, keyLength: 40, heads: 2, kvHeads: 2, headDim: 128)), &g, "hd 128")
        try check(Case(d: AttentionDescriptor(queryLength: 9, keyLength: 9, heads: 2, kvHeads: 1, headDim: 256), withLSE: false), &g, "hd 256")
        // Packed sequences (segments), batch 2, with log-sum-exp.
        try check(
            Case(
                d: AttentionDescriptor(batch: 2, queryLength: 30, keyLength: 30, heads: 6, kvHeads: 2, headDim: 16),
                segments: segments(&g, batch: 2, length: 30)), &g, "segments")
        // Not causal; and causal with queries before every key (queryOffset < 0: zeros, lse -inf).
        try check(Case(d: AttentionDescriptor(queryLength: 7, keyLength: 21, heads: 2, kvHeads: 1, headDim: 8, causal: false)), &g, "full")
        try check(Case(d: AttentionDescriptor(queryLength: 6, keyLength: 4, heads: 1, kvHeads: 1, headDim: 8, queryOffset: -3)), &g, "early")
    }

    func testRandomShapes() throws {
        var g = SeededGenerator(seed: 52)
        let heads: [(Int, Int)] = [(1, 1), (2, 2), (3, 1), (9, 3), (4, 2), (6, 3), (2, 1)]
        for trial in 0..<24 {
            let (H, Hkv) = heads[trial % heads.count]
            let hd = [8, 16, 40, 64, 96, 128, 6, 24][(trial / 2) % 8]
            let batch = trial % 3 == 1 ? 2 : 1
            let S = g.pick(1...45)
            let T = trial % 5 == 0 ? 1 : g.pick(1...S)
            let segmented = trial % 6 == 2, causal = trial % 7 != 3
            let qo: Int? = !segmented && causal && trial % 4 == 1 ? g.pick(-2...(S + 1)) : nil
            var d = AttentionDescriptor(
                batch: batch, queryLength: T, keyLength: S, heads: H, kvHeads: Hkv, headDim: hd, causal: causal, queryOffset: qo,
                qRowStride: H * hd + (trial % 3 == 0 ? g.pick(1...5) : 0), kvRowStride: Hkv * hd + (trial % 4 == 2 ? g.pick(1...5) : 0),
                outRowStride: H * hd + (trial % 5 == 3 ? 3 : 0))
            d.qOffset = trial % 4 == 3 ? g.pick(1...4) : 0
            d.kOffset = trial % 3 == 2 ? g.pick(1...4) : 0
            d.vOffset = trial % 5 == 4 ? g.pick(1...4) : 0
            d.outOffset = trial % 6 == 5 ? g.pick(1...4) : 0
            let c = Case(
                d: d, segments: segmented ? segments(&g, batch: batch, length: S) : nil, withLSE: trial % 2 == 0,
                capacity: trial % 2 == 0 ? S + g.pick(0...7) : nil)
            try check(c, &g, "trial \(trial)")
        }
    }

    func testVulkanLimitsAreClearErrors() throws {
        let d = AttentionDescriptor(queryLength: 1, keyLength: 1, heads: 1, kvHeads: 1, headDim: 300)
        let t = try vk.makeTensor(shape: [300], dtype: .f32), out = try vk.makeTensor(shape: [300], dtype: .f32)
        XCTAssertThrowsError(try vk.attention(q: t, k: t, v: t, into: out, logSumExp: nil, d)) {
            XCTAssertTrue("\($0)".contains("headDim up to 256, got 300"), "\($0)")
        }
        let bad = AttentionDescriptor(queryLength: 1, keyLength: 2, heads: 1, kvHeads: 1, headDim: 300)
        XCTAssertThrowsError(try vk.attention(q: t, k: t, v: t, into: out, logSumExp: nil, bad)) {
            XCTAssertTrue("\($0)".contains("attention k"), "\($0)")
        }
    }
}
