#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore

extension Reference {
    /// Grouped-query scaled-dot-product attention (see `AttentionDescriptor` for the layout and the
    /// masks), two passes per query in fp32:
    /// `s[j] = (sum_d q[d] * k[j, d]) * scale` (summed in order) for every allowed key `j`,
    /// `m = max_j s[j]`, `w[j] = expf(s[j] - m)`, `l = sum_j w[j]` (in key order),
    /// `out[d] = (sum_j w[j] * v[j, d]) / l` (in key order), `logSumExp = m + logf(l)`.
    /// A query with no allowed key gets `out = 0` and `logSumExp = -inf`.
    public static func attention(
        q: UnsafeBufferPointer<Float>, k: UnsafeBufferPointer<Float>, v: UnsafeBufferPointer<Float>,
        out: UnsafeMutableBufferPointer<Float>, logSumExp: UnsafeMutableBufferPointer<Float>?,
        segments: UnsafeBufferPointer<Int32>?, _ d: AttentionDescriptor
    ) throws {
        try d.validate(
            qCount: q.count, kCount: k.count, vCount: v.count, outCount: out.count, logSumExpCount: logSumExp?.count,
            segmentsCount: segments?.count)
        let hd = d.headDim, S = d.keyLength
        var scores = [Float](repeating: 0, count: S)
        var allowed = [Bool](repeating: false, count: S)
        var acc = [Float](repeating: 0, count: hd)
        for b in 0..<d.batch {
            for h in 0..<d.heads {
                let g = h / d.groupSize
                for t in 0..<d.queryLength {
                    let qBase = d.qOffset + b * d.qBatchStride + t * d.qRowStride + h * hd
                    let p = t + d.queryOffset
                    var m = -Float.infinity
                    var any = false
                    for j in 0..<S {
                        var ok = d.causallyAllowed(query: t, key: j)
                        if ok, let seg = segments { ok = seg[b * S + j] == seg[b * S + p] }
                        allowed[j] = ok
                        guard ok else { continue }
                        let kBase = d.kOffset + b * d.kvBatchStride + j * d.kvRowStride + g * hd
                        var dot: Float = 0
                        for e in 0..<hd { dot += q[qBase + e] * k[kBase + e] }
                        let s = dot * d.scale
                        scores[j] = s
                        if !any || s > m { m = s }
                        any = true
                    }
                    let oBase = d.outOffset + b * d.outBatchStride + t * d.outRowStride + h * hd
                    let lseIndex = (b * d.heads + h) * d.queryLength + t
                    guard any else {
                        for e in 0..<hd { out[oBase + e] = 0 }
                        logSumExp?[lseIndex] = -.infinity
                        continue
                    }
                    var l: Float = 0
                    for e in 0..<hd { acc[e] = 0 }
                    for j in 0..<S where allowed[j] {
                        let w = expf(scores[j] - m)
                        l += w
                        let vBase = d.vOffset + b * d.kvBatchStride + j * d.kvRowStride + g * hd
                        for e in 0..<hd { acc[e] += w * v[vBase + e] }
                    }
                    for e in 0..<hd { out[oBase + e] = acc[e] / l }
                    logSumExp?[lseIndex] = m + logf(l)
                }
            }
        }
    }
}
