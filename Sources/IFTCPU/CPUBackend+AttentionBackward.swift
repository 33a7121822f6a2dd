#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CBLAS
import IFTCore

/// `attentionBackward` on the `cpu` backend: normally `attentionBackwardBLAS` (score tiles and the
/// five products by sgemm). For degenerate shapes (no queries or keys), the per-row form:
/// `Reference.attentionBackward`'s formulas in two
/// parallel passes with SIMD dot products. Pass 1 splits queries (batch x heads x queryLength)
/// across cores: each computes its `D = dot(dout, out)` and its dq row over the allowed keys.
/// Pass 2 splits keys (batch x kvHeads x keyLength): each key sums dk and dv over the queries of
/// its group's heads that attend it (scores recomputed, as FlashAttention-2). No atomics; every
/// gradient element is written by one thread.
extension CPUBackend {
    public func attentionBackward(
        q: Tensor, k: Tensor, v: Tensor, out: Tensor, dout: Tensor, logSumExp: Tensor, segments: Tensor?,
        dq: Tensor, dk: Tensor, dv: Tensor, _ d: AttentionDescriptor
    ) throws {
        try OpChecks.backend([q, k, v, out, dout, logSumExp, dq, dk, dv] + [segments].compactMap { $0 }, name)
        try OpChecks.attentionBackward(
            q: q, k: k, v: v, out: out, dout: dout, logSumExp: logSumExp, segments: segments, dq: dq, dk: dk, dv: dv, d)
        let hd = d.headDim, S = d.keyLength, T = d.queryLength, H = d.heads, group = d.groupSize
        guard d.batch > 0, S > 0 || T > 0 else { return }
        let pq = try HostTensors.floatPointer(q, name)
        let pk = try HostTensors.floatPointer(k, name)
        let pv = try HostTensors.floatPointer(v, name)
        let po = try HostTensors.floatPointer(out, name)
        let pdo = try HostTensors.floatPointer(dout, name)
        let pl = try HostTensors.floatPointer(logSumExp, name)
        let pdq = try HostTensors.floatPointer(dq, name)
        let pdk = try HostTensors.floatPointer(dk, name)
        let pdv = try HostTensors.floatPointer(dv, name)
        let ps = try segments.map { try HostTensors.ints($0, name).baseAddress! }
        if T > 0, S > 0, hd > 0, max(T, S, hd, d.qRowStride, d.kvRowStride, d.outRowStride) <= Int(Int32.max) {
            Self.attentionBackwardBLAS(pq, pk, pv, po, pdo, pl, ps, pdq, pdk, pdv, d)
            return
        }
        let queries = d.batch * H * T
        let delta = UnsafeMutablePointer<Float>.allocate(capacity: max(1, queries))
        defer { delta.deallocate() }

        // Pass 1: D and dq, one query row at a time.
        Parallel.forChunks(queries, grain: max(1, (1 << 16) / max(1, S * hd))) { r in
            for index in r {
                let t = index % T, h = (index / T) % H, b = index / (T * H)
                let g = h / group
                let qRow = pq + d.qOffset + b * d.qBatchStride + t * d.qRowStride + h * hd
                let oRow = d.outOffset + b * d.outBatchStride + t * d.outRowStride + h * hd
                let dqRow = pdq + d.qOffset + b * d.qBatchStride + t * d.qRowStride + h * hd
                dqRow.update(repeating: 0, count: hd)
                let lse = pl[index]
                delta[index] = 0
                if lse == -.infinity { continue }
                let D = Self.dot(UnsafePointer(pdo + oRow), UnsafePointer(po + oRow), hd)
                delta[index] = D
                let p = t + d.queryOffset
                let keys = d.causal ? max(0, min(S, p + 1)) : S
                let kBase = pk + d.kOffset + b * d.kvBatchStride + g * hd
                let vBase = pv + d.vOffset + b * d.kvBatchStride + g * hd
                for j in 0..<keys {
                    if let ps, ps[b * S + j] != ps[b * S + p] { continue }
                    let kr = kBase + j * d.kvRowStride
                    let P = expf(Self.dot(UnsafePointer(qRow), UnsafePointer(kr), hd) * d.scale - lse)
                    let dS = P * (Self.dot(UnsafePointer(pdo + oRow), UnsafePointer(vBase + j * d.kvRowStride), hd) - D)
                    for e in 0..<hd { dqRow[e] += dS * kr[e] }
                }
                for e in 0..<hd { dqRow[e] *= d.scale }
            }
        }

        // Pass 2: dk and dv, one key row of one kv head at a time.
        let keyRows = d.batch * d.kvHeads * S
        Parallel.forChunks(keyRows, grain: max(1, (1 << 16) / max(1, group * T * hd))) { r in
            for index in r {
                let j = index % S, g = (index / S) % d.kvHeads, b = index / (S * d.kvHeads)
                let kr = pk + d.kOffset + b * d.kvBatchStride + j * d.kvRowStride + g * hd
                let vr = pv + d.vOffset + b * d.kvBatchStride + j * d.kvRowStride + g * hd
                let dkr = pdk + d.kOffset + b * d.kvBatchStride + j * d.kvRowStride + g * hd
                let dvr = pdv + d.vOffset + b * d.kvBatchStride + j * d.kvRowStride + g * hd
                dkr.update(repeating: 0, count: hd)
                dvr.update(repeating: 0, count: hd)
                // Causal: query t sees key j when j <= t + queryOffset.
                let first = d.causal ? max(0, j - d.queryOffset) : 0
                guard first < T else { continue }
                let mySeg = ps.map { $0[b * S + j] }
                for h in (g * group)..<((g + 1) * group) {
                    for t in first..<T {
                        if let ps, let mySeg, ps[b * S + t + d.queryOffset] != mySeg { continue }
                        let qi = (b * H + h) * T + t
                        let lse = pl[qi]
                        if lse == -.infinity { continue }
                        let qRow = pq + d.qOffset + b * d.qBatchStride + t * d.qRowStride + h * hd
                        let doRow = pdo + d.outOffset + b * d.outBatchStride + t * d.outRowStride + h * hd
                        let P = expf(Self.dot(UnsafePointer(qRow), UnsafePointer(kr), hd) * d.scale - lse)
                        let dS = P * (Self.dot(UnsafePointer(doRow), UnsafePointer(vr), hd) - delta[qi])
                        for e in 0..<hd {
                            dvr[e] += P * doRow[e]
                            dkr[e] += dS * qRow[e]
                        }
                    }
                }
                for e in 0..<hd { dkr[e] *= d.scale }
            }
        }
    }

    /// The matmul form (FlashAttention's backward with the whole score tile in memory), per
    /// (batch, head): `S = Q Kᵀ` and `dP = dO Vᵀ` by sgemm; per row `P = exp(scale S - lse)` on the
    /// allowed keys (0 elsewhere), `dS = P (dP - D)`; then `dQ = scale dS K`, and over the heads of a
    /// kv group `dK (+)= scale dSᵀ Q`, `dV (+)= Pᵀ dO` by sgemm.
    static func attentionBackwardBLAS(
        _ pq: UnsafeMutablePointer<Float>, _ pk: UnsafeMutablePointer<Float>, _ pv: UnsafeMutablePointer<Float>,
        _ po: UnsafeMutablePointer<Float>, _ pdo: UnsafeMutablePointer<Float>, _ pl: UnsafeMutablePointer<Float>,
        _ ps: UnsafeMutablePointer<Int32>?, _ pdq: UnsafeMutablePointer<Float>, _ pdk: UnsafeMutablePointer<Float>,
        _ pdv: UnsafeMutablePointer<Float>, _ d: AttentionDescriptor
    ) {
        let hd = d.headDim, S = d.keyLength, T = d.queryLength, H = d.heads, group = d.groupSize
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: 2 * T * S)
        defer { tile.deallocate() }
        let P = tile, dS = tile + T * S
        let bT = Int32(T), bS = Int32(S), bH = Int32(hd)
        let ldq = Int32(d.qRowStride), ldkv = Int32(d.kvRowStride), ldo = Int32(d.outRowStride)
        for b in 0..<d.batch {
            for h in 0..<H {
                let g = h / group
                let q = pq + d.qOffset + b * d.qBatchStride + h * hd
                let k = pk + d.kOffset + b * d.kvBatchStride + g * hd
                let v = pv + d.vOffset + b * d.kvBatchStride + g * hd
                let o = po + d.outOffset + b * d.outBatchStride + h * hd
                let dO = pdo + d.outOffset + b * d.outBatchStride + h * hd
                let dq = pdq + d.qOffset + b * d.qBatchStride + h * hd
                let dk = pdk + d.kOffset + b * d.kvBatchStride + g * hd
                let dv = pdv + d.vOffset + b * d.kvBatchStride + g * hd
                ift_sgemm(0, 1, bT, bS, bH, 1, q, ldq, k, ldkv, 0, P, bS)
                ift_sgemm(0, 1, bT, bS, bH, 1, dO, ldo, v, ldkv, 0, dS, bS)
                let lseBase = pl + (b * H + h) * T
                let seg = ps.map { $0 + b * S }
                Parallel.forChunks(T, grain: max(1, (1 << 14) / S)) { r in
                    for t in r {
                        let pr = P + t * S, dr = dS + t * S
                        let lse = lseBase[t]
                        if lse == -.infinity {
                            pr.update(repeating: 0, count: S)
                            dr.update(repeating: 0, count: S)
                            continue
                        }
                        let row = t * d.outRowStride
                        let D = Self.dot(UnsafePointer(dO + row), UnsafePointer(o + row), hd)
                        let p = t + d.queryOffset
                        let keys = d.causal ? max(0, min(S, p + 1)) : S
                        if let seg {
                            let mine = seg[p]
                            for j in 0..<keys {
                                if seg[j] == mine {
                                    let w = expf(pr[j] * d.scale - lse)
                                    pr[j] = w
                                    dr[j] = w * (dr[j] - D)
                                } else {
                                    pr[j] = 0
                                    dr[j] = 0
                                }
                            }
                        } else {
                            for j in 0..<keys {
                                let w = expf(pr[j] * d.scale - lse)
                                pr[j] = w
                                dr[j] = w * (dr[j] - D)
                            }
                        }
                        if keys < S {
                            (pr + keys).update(repeating: 0, count: S - keys)
                            (dr + keys).update(repeating: 0, count: S - keys)
                        }
                    }
                }
                let beta: Float = h % group == 0 ? 0 : 1
                ift_sgemm(0, 0, bT, bH, bS, d.scale, dS, bS, k, ldkv, 0, dq, ldq)
                ift_sgemm(1, 0, bS, bH, bT, d.scale, dS, bS, q, ldq, beta, dk, ldkv)
                ift_sgemm(1, 0, bS, bH, bT, 1, P, bS, dO, ldo, beta, dv, ldkv)
            }
        }
    }
}
