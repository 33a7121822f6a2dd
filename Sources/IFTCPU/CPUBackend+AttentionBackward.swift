#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore

/// `attentionBackward` on the `cpu` backend: `Reference.attentionBackward`'s formulas in two
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
}
