import IFTCPU
import IFTCore
import IFTVulkan
import XCTest

extension SeededGenerator {
    fileprivate mutating func pick(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(next() % UInt64(r.count)) }
}

/// `Shaders/attention_backward_{stats,dq,dkv}.comp` against `cpu-ref`: ragged lengths (not multiples
/// of the blocks or tiles), batch 2, GQA ratios 1, 2, 3, head dims 64, 24 and others, segments,
/// non-causal, queries without keys, decode steps, padded strides, offsets and KV-cache capacity.
/// Both backends get the same forward values (out, lse from `cpu-ref`); whole gradient buffers are
/// compared, so elements the op must not touch are checked too.
final class AttentionBackwardTests: VulkanTestCase {
    struct Case {
        var d: AttentionDescriptor
        var segments: [Int32]? = nil
        var capacity: Int? = nil  // KV rows per batch entry (>= keyLength)
    }

    @discardableResult
    func check(_ c: Case, _ g: inout SeededGenerator, _ label: String) throws -> [String: Double] {
        var d = c.d
        if let cap = c.capacity { d.kvBatchStride = cap * d.kvRowStride }
        let unused = ((c.capacity ?? d.keyLength) - d.keyLength) * d.kvRowStride
        let q = g.uniformArray(d.qExtent, -2, 2), k = g.uniformArray(d.kExtent + unused, -2, 2)
        let v = g.uniformArray(d.vExtent + unused), dout = g.uniformArray(d.outExtent)
        let dq0 = g.uniformArray(q.count, -9, 9), dk0 = g.uniformArray(k.count, -9, 9), dv0 = g.uniformArray(v.count, -9, 9)
        // The forward on cpu-ref.
        let fo = try ref.makeTensor(shape: [d.outExtent], dtype: .f32)
        let fl = try ref.makeTensor(shape: [d.batch, d.heads, d.queryLength], dtype: .f32)
        try ref.attention(
            q: try ref.tensor(q, shape: [q.count]), k: try ref.tensor(k, shape: [k.count]), v: try ref.tensor(v, shape: [v.count]),
            into: fo, logSumExp: fl, segments: try c.segments.map { try ref.tensor(ints: $0, shape: [d.batch, d.keyLength]) }, d)
        let out = try ref.floats(fo), lse = try ref.floats(fl)
        var results: [[[Float]]] = []
        for be in [vk as any Backend, ref] {
            let dq = try be.tensor(dq0, shape: [dq0.count]), dk = try be.tensor(dk0, shape: [dk0.count])
            let dv = try be.tensor(dv0, shape: [dv0.count])
            try be.attentionBackward(
                q: try be.tensor(q, shape: [q.count]), k: try be.tensor(k, shape: [k.count]), v: try be.tensor(v, shape: [v.count]),
                out: try be.tensor(out, shape: [out.count]), dout: try be.tensor(dout, shape: [dout.count]),
                logSumExp: try be.tensor(lse, shape: [lse.count]),
                segments: try c.segments.map { try be.tensor(ints: $0, shape: [d.batch, d.keyLength]) }, dq: dq, dk: dk, dv: dv, d)
            results.append([try be.floats(dq), try be.floats(dk), try be.floats(dv)])
        }
        let what = "\(label): B=\(d.batch) T=\(d.queryLength) S=\(d.keyLength) H=\(d.heads)/\(d.kvHeads) hd=\(d.headDim) causal=\(d.causal) qo=\(d.queryOffset) seg=\(c.segments != nil)"
        var errors: [String: Double] = [:]
        for (i, name) in ["dq", "dk", "dv"].enumerated() {
            let e = nmse(results[0][i], results[1][i])
            errors[name] = e
            XCTAssertLessThanOrEqual(e, 1e-7, "\(what): \(name)")
        }
        return errors
    }

    func segments(_ g: inout SeededGenerator, batch: Int, length: Int) -> [Int32] {
        var s: [Int32] = []
        for _ in 0..<batch {
            var id = Int32(g.pick(0...3))
            for _ in 0..<length {
                if g.pick(0...5) == 0 { id += 1 }
                s.append(id)
            }
        }
        return s
    }

    func testNamedShapes() throws {
        var g = SeededGenerator(seed: 61)
        // SmolLM2-135M-like: 9 query heads over 3 kv heads, headDim 64, more queries than a block.
        try check(Case(d: AttentionDescriptor(queryLength: 37, keyLength: 37, heads: 9, kvHeads: 3, headDim: 64)), &g, "prefill 9/3")
        // Packed sequences, batch 2, GQA 2, odd headDim 24.
        try check(
            Case(
                d: AttentionDescriptor(batch: 2, queryLength: 29, keyLength: 29, heads: 4, kvHeads: 2, headDim: 24),
                segments: segments(&g, batch: 2, length: 29)), &g, "segments")
        // Not causal, queries fewer than keys.
        try check(Case(d: AttentionDescriptor(queryLength: 7, keyLength: 21, heads: 2, kvHeads: 1, headDim: 8, causal: false)), &g, "full")
        // Queries before every key (queryOffset < 0): zero dq rows, keys seen by few queries.
        try check(Case(d: AttentionDescriptor(queryLength: 6, keyLength: 5, heads: 2, kvHeads: 2, headDim: 16, queryOffset: -3)), &g, "early")
        // A chunk of new tokens after cached ones in a KV cache of larger capacity, batch 2.
        try check(
            Case(d: AttentionDescriptor(batch: 2, queryLength: 5, keyLength: 25, heads: 4, kvHeads: 2, headDim: 40), capacity: 32), &g,
            "chunk")
        // The largest head dimension (256) and a decode step (T = 1).
        try check(Case(d: AttentionDescriptor(queryLength: 9, keyLength: 9, heads: 2, kvHeads: 1, headDim: 256)), &g, "hd 256")
        try check(Case(d: AttentionDescriptor(queryLength: 1, keyLength: 19, heads: 3, kvHeads: 1, headDim: 64), capacity: 24), &g, "decode")
    }

    func testRandomShapes() throws {
        var g = SeededGenerator(seed: 62)
        let heads: [(Int, Int)] = [(1, 1), (2, 1), (3, 1), (4, 2), (6, 3), (2, 2)]
        var worst: [String: Double] = [:]
        for trial in 0..<14 {
            let (H, Hkv) = heads[trial % heads.count]
            let hd = [64, 24, 8, 40, 6, 16, 96][trial % 7]
            let batch = trial % 3 == 1 ? 2 : 1
            let S = g.pick(1...34)
            let T = trial % 5 == 0 ? 1 : g.pick(1...S)
            let segmented = trial % 4 == 2, causal = trial % 5 != 3
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
                d: d, segments: segmented ? segments(&g, batch: batch, length: S) : nil,
                capacity: trial % 2 == 0 ? S + g.pick(0...7) : nil)
            for (k, e) in try check(c, &g, "trial \(trial)") { worst[k] = max(worst[k, default: 0], e) }
        }
        for (k, e) in worst.sorted(by: { $0.key < $1.key }) { print("attentionBackward vulkan vs cpu-ref: worst NMSE \(k) = \(e)") }
    }

    func testVulkanLimitsAreClearErrors() throws {
        let d = AttentionDescriptor(queryLength: 1, keyLength: 1, heads: 1, kvHeads: 1, headDim: 300)
        func t(_ n: Int) throws -> Tensor { try vk.makeTensor(shape: [n], dtype: .f32) }
        XCTAssertThrowsError(
            try vk.attentionBackward(
                q: try t(300), k: try t(300), v: try t(300), out: try t(300), dout: try t(300), logSumExp: try t(1), segments: nil,
                dq: try t(300), dk: try t(300), dv: try t(300), d)
        ) {
            XCTAssertTrue("\($0)".contains("headDim up to 256, got 300"), "\($0)")
        }
    }
}
