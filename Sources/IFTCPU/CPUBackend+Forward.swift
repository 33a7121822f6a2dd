#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CBLAS
import IFTCore

/// The forward-pass ops of the `cpu` backend: `Reference`'s formulas, split across cores, with
/// SIMD sums where a row is reduced (so sums differ from `cpu-ref` by rounding only). Embedding
/// and copy are bit-identical to `cpu-ref`; so is rope (one rounding per product, no reductions).
extension CPUBackend {
    public func embedding(_ table: Tensor, ids: Tensor, into out: Tensor) throws {
        try OpChecks.backend([table, ids, out], name)
        let (vocab, dim) = try OpChecks.embedding(table, ids, out)
        let idBuffer = try HostTensors.ints(ids, name)
        try Reference.checkEmbeddingIDs(UnsafeBufferPointer(idBuffer), vocab: vocab)
        guard let idp = idBuffer.baseAddress, ids.count > 0, dim > 0 else { return }
        let src = UnsafeRawPointer(try HostTensors.storage(table, name).data)
        let dst = try HostTensors.floatPointer(out, name)
        let dtype = table.dtype
        let rowBytes = dim / dtype.blockSize * dtype.blockBytes
        Parallel.forChunks(ids.count, grain: Self.rowGrain(cols: dim)) { r in
            for i in r { Reference.embeddingRow(dtype, src + Int(idp[i]) * rowBytes, dim: dim, into: dst + i * dim) }
        }
    }

    /// Per row: a SIMD sum of squares, then `weight[j] * (x[j] * rstd)` as `cpu-ref`.
    public func rmsNorm(_ x: Tensor, weight: Tensor, eps: Float, into out: Tensor) throws {
        try OpChecks.backend([x, weight, out], name)
        let (rows, dim) = try OpChecks.rmsNorm(x, weight, eps, out)
        let px = try HostTensors.floatPointer(x, name)
        let pw = try HostTensors.floatPointer(weight, name)
        let po = try HostTensors.floatPointer(out, name)
        Parallel.forChunks(rows, grain: Self.rowGrain(cols: dim)) { r in
            for row in r {
                let xr = px + row * dim, o = po + row * dim
                let rstd = 1 / (Self.sumOfSquares(UnsafePointer(xr), dim) / Float(dim) + eps).squareRoot()
                for j in 0..<dim { o[j] = pw[j] * (xr[j] * rstd) }
            }
        }
    }

    @inline(__always)
    static func sumOfSquares(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var j = 0
        while j + 8 <= n {
            let v = UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self)
            acc += v * v
            j += 8
        }
        var s = acc.sum()
        while j < n {
            s += x[j] * x[j]
            j += 1
        }
        return s
    }

    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var j = 0
        while j + 8 <= n {
            acc += UnsafeRawPointer(a + j).loadUnaligned(as: SIMD8<Float>.self)
                * UnsafeRawPointer(b + j).loadUnaligned(as: SIMD8<Float>.self)
            j += 8
        }
        var s = acc.sum()
        while j < n {
            s += a[j] * b[j]
            j += 1
        }
        return s
    }

    public func rope(_ x: Tensor, positions: Tensor, table: Tensor, _ d: RopeDescriptor, into out: Tensor) throws {
        try OpChecks.backend([x, positions, table, out], name)
        let maxPositions = try OpChecks.rope(x, positions, table, d, out)
        let pos = try HostTensors.ints(positions, name)
        try Reference.checkRopePositions(UnsafeBufferPointer(pos), maxPositions: maxPositions)
        guard let pp = pos.baseAddress, d.tokens > 0, d.heads > 0 else { return }
        let px = try HostTensors.floatPointer(x, name)
        let pt = try HostTensors.floatPointer(table, name)
        let po = try HostTensors.floatPointer(out, name)
        let half = d.headDim / 2
        Parallel.forChunks(d.tokens, grain: Self.rowGrain(cols: d.heads * d.headDim)) { r in
            for t in r {
                let c = pt + Int(pp[t]) * d.headDim, s = c + half
                for h in 0..<d.heads {
                    let base = d.offset + t * d.rowStride + h * d.headDim
                    let x0 = px + base, x1 = x0 + half, o0 = po + base, o1 = o0 + half
                    if d.inverse {
                        for i in 0..<half {
                            let a = x0[i], b = x1[i]
                            o0[i] = a * c[i] + b * s[i]
                            o1[i] = b * c[i] - a * s[i]
                        }
                    } else {
                        for i in 0..<half {
                            let a = x0[i], b = x1[i]
                            o0[i] = a * c[i] - b * s[i]
                            o1[i] = b * c[i] + a * s[i]
                        }
                    }
                }
            }
        }
    }

    public func swiglu(gate: Tensor, up: Tensor, into out: Tensor) throws {
        try OpChecks.backend([gate, up, out], name)
        try OpChecks.swiglu(gate, up, out)
        let pg = try HostTensors.floatPointer(gate, name)
        let pu = try HostTensors.floatPointer(up, name)
        let po = try HostTensors.floatPointer(out, name)
        Parallel.forChunks(gate.count, grain: Self.elementwiseGrain / 4) { r in
            for i in r {
                let g = pg[i]
                po[i] = (g / (1 + expf(-g))) * pu[i]
            }
        }
    }

    /// Per (batch, head) the score tile by sgemm, the masked max-subtracted softmax per row across
    /// cores, the output by sgemm (`attentionBLAS`); the per-query loops with SIMD dot products
    /// remain for the degenerate shapes (no keys) and 32-bit overflow.
    public func attention(
        q: Tensor, k: Tensor, v: Tensor, into out: Tensor, logSumExp: Tensor?, segments: Tensor?, _ d: AttentionDescriptor
    ) throws {
        try OpChecks.backend([q, k, v, out] + [logSumExp, segments].compactMap { $0 }, name)
        try OpChecks.attention(q, k, v, out, logSumExp, segments, d)
        let queries = d.batch * d.heads * d.queryLength
        guard queries > 0 else { return }
        let pq = try HostTensors.floatPointer(q, name)
        let pk = try HostTensors.floatPointer(k, name)
        let pv = try HostTensors.floatPointer(v, name)
        let po = try HostTensors.floatPointer(out, name)
        let pl = try logSumExp.map { try HostTensors.floatPointer($0, name) }
        let ps = try segments.map { try HostTensors.ints($0, name).baseAddress! }
        let hd = d.headDim, S = d.keyLength, T = d.queryLength
        if S > 0, hd > 0, max(T, S, hd, d.qRowStride, d.kvRowStride, d.outRowStride) <= Int(Int32.max) {
            Self.attentionBLAS(pq, pk, pv, po, pl, ps, d)
            return
        }
        Parallel.forChunks(queries, grain: max(1, (1 << 16) / max(1, S * hd))) { r in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: max(1, S))
            let allowed = UnsafeMutablePointer<Bool>.allocate(capacity: max(1, S))
            let acc = UnsafeMutablePointer<Float>.allocate(capacity: hd)
            defer {
                scores.deallocate()
                allowed.deallocate()
                acc.deallocate()
            }
            for index in r {
                let t = index % T, h = (index / T) % d.heads, b = index / (T * d.heads)
                let g = h / d.groupSize
                let qRow = UnsafePointer(pq + d.qOffset + b * d.qBatchStride + t * d.qRowStride + h * hd)
                let kBase = pk + d.kOffset + b * d.kvBatchStride + g * hd
                let vBase = pv + d.vOffset + b * d.kvBatchStride + g * hd
                let p = t + d.queryOffset
                let keys = d.causal ? max(0, min(S, p + 1)) : S
                var m = -Float.infinity
                var any = false
                for j in 0..<keys {
                    var ok = true
                    if let ps { ok = ps[b * S + j] == ps[b * S + p] }
                    allowed[j] = ok
                    guard ok else { continue }
                    let s = Self.dot(qRow, UnsafePointer(kBase + j * d.kvRowStride), hd) * d.scale
                    scores[j] = s
                    if !any || s > m { m = s }
                    any = true
                }
                let o = po + d.outOffset + b * d.outBatchStride + t * d.outRowStride + h * hd
                let lseIndex = (b * d.heads + h) * T + t
                guard any else {
                    o.update(repeating: 0, count: hd)
                    pl?[lseIndex] = -.infinity
                    continue
                }
                acc.update(repeating: 0, count: hd)
                var l: Float = 0
                for j in 0..<keys where allowed[j] {
                    let w = expf(scores[j] - m)
                    l += w
                    let vr = vBase + j * d.kvRowStride
                    for e in 0..<hd { acc[e] += w * vr[e] }
                }
                for e in 0..<hd { o[e] = acc[e] / l }
                pl?[lseIndex] = m + logf(l)
            }
        }
    }

    /// Per (batch, head): `S = Q Kᵀ` by sgemm; per row the masked softmax of `scale S` (max
    /// subtracted as `cpu-ref`; rows with no allowed key get weights 0 and lse -inf); `O = W V` by
    /// sgemm, each row then divided by its weight sum.
    static func attentionBLAS(
        _ pq: UnsafeMutablePointer<Float>, _ pk: UnsafeMutablePointer<Float>, _ pv: UnsafeMutablePointer<Float>,
        _ po: UnsafeMutablePointer<Float>, _ pl: UnsafeMutablePointer<Float>?, _ ps: UnsafeMutablePointer<Int32>?,
        _ d: AttentionDescriptor
    ) {
        let hd = d.headDim, S = d.keyLength, T = d.queryLength, H = d.heads, group = d.groupSize
        let P = UnsafeMutablePointer<Float>.allocate(capacity: T * S + T)
        defer { P.deallocate() }
        let sums = P + T * S
        let bT = Int32(T), bS = Int32(S), bH = Int32(hd)
        let ldq = Int32(d.qRowStride), ldkv = Int32(d.kvRowStride), ldo = Int32(d.outRowStride)
        for b in 0..<d.batch {
            for h in 0..<H {
                let g = h / group
                let q = pq + d.qOffset + b * d.qBatchStride + h * hd
                let k = pk + d.kOffset + b * d.kvBatchStride + g * hd
                let v = pv + d.vOffset + b * d.kvBatchStride + g * hd
                let o = po + d.outOffset + b * d.outBatchStride + h * hd
                ift_sgemm(0, 1, bT, bS, bH, 1, q, ldq, k, ldkv, 0, P, bS)
                let seg = ps.map { $0 + b * S }
                let lseBase = pl.map { $0 + (b * H + h) * T }
                Parallel.forChunks(T, grain: max(1, (1 << 14) / S)) { r in
                    for t in r {
                        let pr = P + t * S
                        let p = t + d.queryOffset
                        let keys = d.causal ? max(0, min(S, p + 1)) : S
                        var m = -Float.infinity
                        var any = false
                        let mine = seg.map { $0[p] }
                        for j in 0..<keys {
                            if let seg, let mine, seg[j] != mine { continue }
                            let s = pr[j] * d.scale
                            pr[j] = s
                            if !any || s > m { m = s }
                            any = true
                        }
                        guard any else {
                            pr.update(repeating: 0, count: S)
                            sums[t] = 0
                            lseBase?[t] = -.infinity
                            continue
                        }
                        var l: Float = 0
                        for j in 0..<keys {
                            if let seg, let mine, seg[j] != mine {
                                pr[j] = 0
                                continue
                            }
                            let w = expf(pr[j] - m)
                            pr[j] = w
                            l += w
                        }
                        if keys < S { (pr + keys).update(repeating: 0, count: S - keys) }
                        sums[t] = l
                        lseBase?[t] = m + logf(l)
                    }
                }
                ift_sgemm(0, 0, bT, bH, bS, 1, P, bS, v, ldkv, 0, o, ldo)
                // Divide by the weight sum after the weighted sum, as `cpu-ref`.
                for t in 0..<T where sums[t] > 0 {
                    let l = sums[t], orow = o + t * d.outRowStride
                    for e in 0..<hd { orow[e] = orow[e] / l }
                }
            }
        }
    }

    public func copy(_ src: Tensor, into dst: Tensor, _ d: CopyDescriptor) throws {
        try OpChecks.backend([src, dst], name)
        try OpChecks.copy(src, dst, d)
        guard d.rows > 0, d.cols > 0 else { return }
        let ps = try HostTensors.floatPointer(src, name)
        let pd = try HostTensors.floatPointer(dst, name)
        Parallel.forChunks(d.rows, grain: Self.rowGrain(cols: d.cols)) { r in
            for row in r {
                (pd + d.dstOffset + row * d.dstRowStride).update(from: ps + d.srcOffset + row * d.srcRowStride, count: d.cols)
            }
        }
    }
}
