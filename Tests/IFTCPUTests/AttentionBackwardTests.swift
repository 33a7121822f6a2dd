import Foundation
import IFTCPU
import IFTCore
import IFTTestSupport
import XCTest

/// An attention backward problem: the forward's inputs, `dout`, and the initial contents of the
/// gradient buffers (so elements the op must not touch are checked too).
struct AttentionBackwardProblem {
    var d: AttentionDescriptor
    var q: [Float], k: [Float], v: [Float], dout: [Float]
    var segments: [Int32]?
    var dq0: [Float], dk0: [Float], dv0: [Float]

    init(_ d: AttentionDescriptor, q: [Float], k: [Float], v: [Float], segments: [Int32]?, _ g: inout SeededGenerator, fill: Float? = nil) {
        self.d = d
        self.q = q
        self.k = k
        self.v = v
        self.segments = segments
        dout = g.uniformArray(d.outExtent)
        func initial(_ n: Int) -> [Float] { fill.map { [Float](repeating: $0, count: n) } ?? g.uniformArray(n, -9, 9) }
        dq0 = initial(q.count)
        dk0 = initial(k.count)
        dv0 = initial(v.count)
    }

    /// Runs the forward on `forward` (out and lse), then the backward on `be` with those values;
    /// returns the whole dq, dk, dv buffers.
    func run(_ be: any Backend, forward: any Backend) throws -> (dq: [Float], dk: [Float], dv: [Float]) {
        let fo = try forward.makeTensor(shape: [d.outExtent], dtype: .f32)
        let fl = try forward.makeTensor(shape: [d.batch, d.heads, d.queryLength], dtype: .f32)
        try forward.attention(
            q: try forward.tensor(q, shape: [q.count]), k: try forward.tensor(k, shape: [k.count]),
            v: try forward.tensor(v, shape: [v.count]), into: fo, logSumExp: fl,
            segments: try segments.map { try forward.tensor(ints: $0, shape: [d.batch, d.keyLength]) }, d)
        let out = try forward.floats(fo), lse = try forward.floats(fl)
        let dq = try be.tensor(dq0, shape: [dq0.count]), dk = try be.tensor(dk0, shape: [dk0.count])
        let dv = try be.tensor(dv0, shape: [dv0.count])
        try be.attentionBackward(
            q: try be.tensor(q, shape: [q.count]), k: try be.tensor(k, shape: [k.count]), v: try be.tensor(v, shape: [v.count]),
            out: try be.tensor(out, shape: [out.count]), dout: try be.tensor(dout, shape: [dout.count]),
            logSumExp: try be.tensor(lse, shape: [lse.count]),
            segments: try segments.map { try be.tensor(ints: $0, shape: [d.batch, d.keyLength]) }, dq: dq, dk: dk, dv: dv, d)
        return (try be.floats(dq), try be.floats(dk), try be.floats(dv))
    }

    /// `sum(out * dout)` of the attention forward computed in Double (the objective whose
    /// gradients attentionBackward returns).
    func objective(q: [Double], k: [Double], v: [Double]) -> Double {
        let hd = d.headDim, S = d.keyLength
        var total = 0.0
        for b in 0..<d.batch {
            for h in 0..<d.heads {
                let g = h / d.groupSize
                for t in 0..<d.queryLength {
                    let p = t + d.queryOffset
                    let qb = d.qOffset + b * d.qBatchStride + t * d.qRowStride + h * hd
                    var scores: [(Int, Double)] = []
                    for j in 0..<S where d.causallyAllowed(query: t, key: j) {
                        if let seg = segments, seg[b * S + j] != seg[b * S + p] { continue }
                        let kb = d.kOffset + b * d.kvBatchStride + j * d.kvRowStride + g * hd
                        var s = 0.0
                        for e in 0..<hd { s += q[qb + e] * k[kb + e] }
                        scores.append((j, s * Double(d.scale)))
                    }
                    guard let m = scores.map(\.1).max() else { continue }
                    let l = scores.reduce(0.0) { $0 + exp($1.1 - m) }
                    let ob = d.outOffset + b * d.outBatchStride + t * d.outRowStride + h * hd
                    for (j, s) in scores {
                        let w = exp(s - m) / l
                        let vb = d.vOffset + b * d.kvBatchStride + j * d.kvRowStride + g * hd
                        for e in 0..<hd { total += w * v[vb + e] * Double(dout[ob + e]) }
                    }
                }
            }
        }
        return total
    }

    /// Indices of the elements the descriptor addresses in q (dq), k (dk) and v (dv).
    var addressed: (q: [Int], k: [Int], v: [Int]) {
        var qi: [Int] = [], ki: [Int] = [], vi: [Int] = []
        for b in 0..<d.batch {
            for t in 0..<d.queryLength {
                let base = d.qOffset + b * d.qBatchStride + t * d.qRowStride
                qi += base..<(base + d.heads * d.headDim)
            }
            for j in 0..<d.keyLength {
                let kb = d.kOffset + b * d.kvBatchStride + j * d.kvRowStride
                let vb = d.vOffset + b * d.kvBatchStride + j * d.kvRowStride
                ki += kb..<(kb + d.kvHeads * d.headDim)
                vi += vb..<(vb + d.kvHeads * d.headDim)
            }
        }
        return (qi, ki, vi)
    }
}

/// `attentionBackward`: `cpu-ref` against finite differences of a Double forward, `cpu` against
/// `cpu-ref` on random ragged shapes, layouts (fused qkv) and malformed calls.
final class AttentionBackwardTests: XCTestCase {
    let ref = CPUReferenceBackend(), cpu = try! CPUBackend()

    func testReferenceMatchesFiniteDifferences() throws {
        var g = SeededGenerator(seed: 301)
        var cases: [(String, AttentionDescriptor, [Int32]?)] = []
        // Causal, GQA group 2.
        cases.append(("causal gqa 2", AttentionDescriptor(queryLength: 5, keyLength: 5, heads: 2, kvHeads: 1, headDim: 4), nil))
        // Packed segments, batch 2, GQA group 2.
        cases.append(
            ("segments", AttentionDescriptor(batch: 2, queryLength: 6, keyLength: 6, heads: 4, kvHeads: 2, headDim: 3),
                [0, 0, 0, 1, 1, 2, 5, 5, 6, 6, 6, 6]))
        // Queries 0 and 1 see no key (queryOffset -2): zero gradients from them; group 3.
        cases.append(("no key", AttentionDescriptor(queryLength: 4, keyLength: 5, heads: 3, kvHeads: 1, headDim: 4, queryOffset: -2), nil))
        // Not causal, padded strides and offsets, a chunk after cached keys.
        var strided = AttentionDescriptor(
            queryLength: 3, keyLength: 6, heads: 2, kvHeads: 2, headDim: 5, causal: false, qRowStride: 12, kvRowStride: 11,
            outRowStride: 13)
        strided.qOffset = 2
        strided.kOffset = 1
        strided.vOffset = 3
        strided.outOffset = 1
        cases.append(("strided full", strided, nil))
        cases.append(("chunk", AttentionDescriptor(batch: 2, queryLength: 3, keyLength: 7, heads: 2, kvHeads: 1, headDim: 3), nil))
        for (label, d, seg) in cases {
            let q = g.uniformArray(d.qExtent, -1.5, 1.5), k = g.uniformArray(d.kExtent, -1.5, 1.5), v = g.uniformArray(d.vExtent)
            let prob = AttentionBackwardProblem(d, q: q, k: k, v: v, segments: seg, &g)
            let (dq, dk, dv) = try prob.run(ref, forward: ref)
            let qd = q.map(Double.init), kd = k.map(Double.init), vd = v.map(Double.init)
            let idx = prob.addressed
            func fd(_ indices: [Int], _ f: (Int, Double) -> Double) -> [Double] {
                indices.map { i in (f(i, 1e-5) - f(i, -1e-5)) / 2e-5 }
            }
            let fq = fd(idx.q) { i, h in var x = qd; x[i] += h; return prob.objective(q: x, k: kd, v: vd) }
            let fk = fd(idx.k) { i, h in var x = kd; x[i] += h; return prob.objective(q: qd, k: x, v: vd) }
            let fv = fd(idx.v) { i, h in var x = vd; x[i] += h; return prob.objective(q: qd, k: kd, v: x) }
            let eq = maxRelativeError(idx.q.map { dq[$0] }, fq)
            let ek = maxRelativeError(idx.k.map { dk[$0] }, fk)
            let ev = maxRelativeError(idx.v.map { dv[$0] }, fv)
            print("attentionBackward finite differences, \(label): relative error dq \(eq), dk \(ek), dv \(ev)")
            XCTAssertLessThan(eq, 1e-4, "\(label): dq")
            XCTAssertLessThan(ek, 1e-4, "\(label): dk")
            XCTAssertLessThan(ev, 1e-4, "\(label): dv")
            // Elements the descriptor does not address keep their values.
            let sq = Set(idx.q), sk = Set(idx.k), sv = Set(idx.v)
            XCTAssertTrue(dq.indices.allSatisfy { sq.contains($0) || dq[$0] == prob.dq0[$0] }, "\(label): dq padding")
            XCTAssertTrue(dk.indices.allSatisfy { sk.contains($0) || dk[$0] == prob.dk0[$0] }, "\(label): dk padding")
            XCTAssertTrue(dv.indices.allSatisfy { sv.contains($0) || dv[$0] == prob.dv0[$0] }, "\(label): dv padding")
            if label == "no key" {
                // Queries 0 and 1 of each head: dq rows exactly 0.
                for h in 0..<3 { for t in 0..<2 { for e in 0..<4 { XCTAssertEqual(dq[t * 12 + h * 4 + e], 0) } } }
            }
        }
    }

    func testCPUMatchesReferenceOnRandomShapes() throws {
        var g = SeededGenerator(seed: 302)
        var worst: [String: Double] = [:]
        for trial in 0..<24 {
            let c = RandomAttentionCase.random(&g, trial: trial, maxLength: trial % 8 == 7 ? 90 : 33)
            let prob = AttentionBackwardProblem(c.d, q: c.q, k: c.k, v: c.v, segments: c.segments, &g)
            let a = try prob.run(cpu, forward: ref), r = try prob.run(ref, forward: ref)
            for (name, x, y) in [("dq", a.dq, r.dq), ("dk", a.dk, r.dk), ("dv", a.dv, r.dv)] {
                let e = nmse(x, y)
                worst[name] = max(worst[name, default: 0], e)
                XCTAssertLessThanOrEqual(e, 1e-7, "trial \(trial) \(c.label): \(name)")
            }
        }
        for (k, v) in worst.sorted(by: { $0.key < $1.key }) { print("attentionBackward cpu vs cpu-ref: worst NMSE \(k) = \(v)") }
    }

    /// q, k, v columns of one fused tensor and dq, dk, dv columns of one fused gradient tensor (a
    /// qkv projection's layout) give the same gradients as separate tensors.
    func testFusedQKVLayout() throws {
        var g = SeededGenerator(seed: 303)
        let (T, H, Hkv, hd) = (7, 4, 2, 8)
        let width = (H + 2 * Hkv) * hd
        for be in [ref as any Backend, cpu] {
            var d = AttentionDescriptor(queryLength: T, keyLength: T, heads: H, kvHeads: Hkv, headDim: hd, qRowStride: width, kvRowStride: width)
            d.kOffset = H * hd
            d.vOffset = (H + Hkv) * hd
            let qkv = g.uniformArray(T * width, -2, 2)
            let fused = AttentionBackwardProblem(d, q: qkv, k: qkv, v: qkv, segments: nil, &g, fill: 0)
            let out = try be.makeTensor(shape: [T * H * hd], dtype: .f32), lse = try be.makeTensor(shape: [H * T], dtype: .f32)
            let tqkv = try be.tensor(qkv, shape: [T, width])
            try be.attention(q: tqkv, k: tqkv, v: tqkv, into: out, logSumExp: lse, d)
            let grads = try be.tensor([Float](repeating: 5, count: T * width), shape: [T, width])
            try be.attentionBackward(
                q: tqkv, k: tqkv, v: tqkv, out: out, dout: try be.tensor(fused.dout, shape: [fused.dout.count]), logSumExp: lse,
                segments: nil, dq: grads, dk: grads, dv: grads, d)
            let fusedGrads = try be.floats(grads)
            // The same problem with separate tensors.
            let dense = AttentionDescriptor(queryLength: T, keyLength: T, heads: H, kvHeads: Hkv, headDim: hd)
            func columns(_ x: [Float], _ off: Int, _ w: Int) -> [Float] { (0..<T).flatMap { x[($0 * width + off)..<($0 * width + off + w)] } }
            var sep = AttentionBackwardProblem(
                dense, q: columns(qkv, 0, H * hd), k: columns(qkv, H * hd, Hkv * hd), v: columns(qkv, (H + Hkv) * hd, Hkv * hd),
                segments: nil, &g, fill: 0)
            sep.dout = fused.dout
            let s = try sep.run(be, forward: be)
            XCTAssertEqual(columns(fusedGrads, 0, H * hd), s.dq, "\(be.name): dq")
            XCTAssertEqual(columns(fusedGrads, H * hd, Hkv * hd), s.dk, "\(be.name): dk")
            XCTAssertEqual(columns(fusedGrads, (H + Hkv) * hd, Hkv * hd), s.dv, "\(be.name): dv")
        }
    }

    func testMalformedCallsAreRejected() throws {
        for be in [ref as any Backend, cpu] {
            let d = AttentionDescriptor(queryLength: 3, keyLength: 3, heads: 2, kvHeads: 1, headDim: 4)
            func t(_ n: Int) throws -> Tensor { try be.makeTensor(shape: [n], dtype: .f32) }
            let q = try t(24), k = try t(12), v = try t(12), out = try t(24), dout = try t(24), lse = try t(6)
            assertThrowsIFT(["attentionBackward: dv overlaps dk"]) {
                let g = try t(12)
                try be.attentionBackward(
                    q: q, k: k, v: v, out: out, dout: dout, logSumExp: lse, segments: nil, dq: try t(24), dk: g, dv: g, d)
            }
            assertThrowsIFT(["attentionBackward: dq overlaps q"]) {
                try be.attentionBackward(
                    q: q, k: k, v: v, out: out, dout: dout, logSumExp: lse, segments: nil, dq: q, dk: try t(12), dv: try t(12), d)
            }
            assertThrowsIFT(["logSumExp must be [batch, heads, queryLength] = 6"]) {
                try be.attentionBackward(
                    q: q, k: k, v: v, out: out, dout: dout, logSumExp: try t(5), segments: nil, dq: try t(24), dk: try t(12),
                    dv: try t(12), d)
            }
            assertThrowsIFT(["attentionBackward dk", "need 12 elements, dk has 11"]) {
                try be.attentionBackward(
                    q: q, k: k, v: v, out: out, dout: dout, logSumExp: lse, segments: nil, dq: try t(24), dk: try t(11), dv: try t(12), d)
            }
            var shared = AttentionDescriptor(batch: 2, queryLength: 3, keyLength: 3, heads: 2, kvHeads: 1, headDim: 4)
            shared.kvBatchStride = 0  // one KV for both batch entries: gradients would collide
            assertThrowsIFT(["batch entries overlap"]) {
                try be.attentionBackward(
                    q: try t(48), k: k, v: v, out: try t(48), dout: try t(48), logSumExp: try t(12), segments: nil, dq: try t(48),
                    dk: try t(12), dv: try t(12), shared)
            }
        }
    }
}
