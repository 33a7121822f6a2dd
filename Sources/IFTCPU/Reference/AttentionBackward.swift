#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore

extension Reference {
    /// Gradients of `attention` (see `Backend.attentionBackward`), in fp32, sums in order:
    /// dq, dk and dv are zeroed (only the elements the descriptor addresses), then for every
    /// (batch entry, head, query t) with `lse = logSumExp[t] != -inf`, `D = sum_e dout[e] * out[e]`,
    /// and for every allowed key j in order: `s = (sum_e q[e] * k[j, e]) * scale`,
    /// `P = expf(s - lse)`, `dv[j] += P * dout`, `dp = sum_e dout[e] * v[j, e]`, `dS = P * (dp - D)`,
    /// `dq[t] += dS * k[j]`, `dk[j] += dS * q[t]`. Finally dq and dk are multiplied by `scale`.
    /// Keys are visited in order and queries in (head, query) order, so a kv head's gradient sums
    /// over its query heads in head order.
    public static func attentionBackward(
        q: UnsafeBufferPointer<Float>, k: UnsafeBufferPointer<Float>, v: UnsafeBufferPointer<Float>,
        out: UnsafeBufferPointer<Float>, dout: UnsafeBufferPointer<Float>, logSumExp: UnsafeBufferPointer<Float>,
        segments: UnsafeBufferPointer<Int32>?,
        dq: UnsafeMutableBufferPointer<Float>, dk: UnsafeMutableBufferPointer<Float>, dv: UnsafeMutableBufferPointer<Float>,
        _ d: AttentionDescriptor
    ) throws {
        try d.validate(
            qCount: q.count, kCount: k.count, vCount: v.count, outCount: out.count, logSumExpCount: logSumExp.count,
            segmentsCount: segments?.count)
        let hd = d.headDim, S = d.keyLength, T = d.queryLength
        guard dout.count >= d.outExtent, dq.count >= d.qExtent, dk.count >= d.kExtent, dv.count >= d.vExtent else {
            throw IFTError.shapeMismatch("attentionBackward: dout, dq, dk or dv is too small for the descriptor")
        }
        // Zero the gradients.
        for b in 0..<d.batch {
            for t in 0..<T {
                let base = d.qOffset + b * d.qBatchStride + t * d.qRowStride
                for e in 0..<(d.heads * hd) { dq[base + e] = 0 }
            }
            for j in 0..<S {
                let kb = d.kOffset + b * d.kvBatchStride + j * d.kvRowStride
                let vb = d.vOffset + b * d.kvBatchStride + j * d.kvRowStride
                for e in 0..<(d.kvHeads * hd) {
                    dk[kb + e] = 0
                    dv[vb + e] = 0
                }
            }
        }
        for b in 0..<d.batch {
            for h in 0..<d.heads {
                let g = h / d.groupSize
                for t in 0..<T {
                    let lse = logSumExp[(b * d.heads + h) * T + t]
                    if lse == -.infinity { continue }
                    let qBase = d.qOffset + b * d.qBatchStride + t * d.qRowStride + h * hd
                    let oBase = d.outOffset + b * d.outBatchStride + t * d.outRowStride + h * hd
                    var D: Float = 0
                    for e in 0..<hd { D += dout[oBase + e] * out[oBase + e] }
                    let p = t + d.queryOffset
                    for j in 0..<S {
                        var ok = d.causallyAllowed(query: t, key: j)
                        if ok, let seg = segments { ok = seg[b * S + j] == seg[b * S + p] }
                        guard ok else { continue }
                        let kBase = d.kOffset + b * d.kvBatchStride + j * d.kvRowStride + g * hd
                        let vBase = d.vOffset + b * d.kvBatchStride + j * d.kvRowStride + g * hd
                        var dot: Float = 0
                        for e in 0..<hd { dot += q[qBase + e] * k[kBase + e] }
                        let P = expf(dot * d.scale - lse)
                        var dp: Float = 0
                        for e in 0..<hd { dp += dout[oBase + e] * v[vBase + e] }
                        let dS = P * (dp - D)
                        for e in 0..<hd {
                            dv[vBase + e] += P * dout[oBase + e]
                            dq[qBase + e] += dS * k[kBase + e]
                            dk[kBase + e] += dS * q[qBase + e]
                        }
                    }
                }
            }
        }
        for b in 0..<d.batch {
            for t in 0..<T {
                let base = d.qOffset + b * d.qBatchStride + t * d.qRowStride
                for e in 0..<(d.heads * hd) { dq[base + e] *= d.scale }
            }
            for j in 0..<S {
                let kb = d.kOffset + b * d.kvBatchStride + j * d.kvRowStride
                for e in 0..<(d.kvHeads * hd) { dk[kb + e] *= d.scale }
            }
        }
    }
}
