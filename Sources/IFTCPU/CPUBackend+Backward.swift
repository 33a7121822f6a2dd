#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore

/// The loss and backward ops of the `cpu` backend: `Reference`'s formulas split across cores
/// (rows, elements, or columns for the accumulated gradients, so every accumulation keeps
/// `cpu-ref`'s order), with SIMD sums where a row is reduced.
extension CPUBackend {
    public func crossEntropy(logits: Tensor, targets: Tensor, losses: Tensor, dlogits: Tensor?, scale: Float) throws {
        try OpChecks.backend([logits, targets, losses] + [dlogits].compactMap { $0 }, name)
        let (rows, vocab) = try OpChecks.crossEntropy(logits, targets, losses, dlogits, scale)
        let tb = try HostTensors.ints(targets, name)
        try Reference.checkCrossEntropyTargets(UnsafeBufferPointer(tb), vocab: vocab)
        guard rows > 0, let pt = tb.baseAddress else { return }
        let px = try HostTensors.floatPointer(logits, name)
        let pl = try HostTensors.floatPointer(losses, name)
        let pd = try dlogits.map { try HostTensors.floatPointer($0, name) }
        Parallel.forChunks(rows, grain: max(1, Self.rowGrain(cols: vocab) / 4)) { r in
            for row in r {
                let x = px + row * vocab, t = pt[row]
                let d = pd.map { $0 + row * vocab }
                if t == OpChecks.ignoreIndex {
                    pl[row] = 0
                    d?.update(repeating: 0, count: vocab)
                    continue
                }
                var m = -Float.infinity
                for j in 0..<vocab { m = max(m, x[j]) }
                let xt = x[Int(t)]  // read before dlogits (which may be logits) is written
                var s: Float = 0
                if let d {
                    for j in 0..<vocab {
                        let e = expf(x[j] - m)
                        d[j] = e
                        s += e
                    }
                    let k = scale / s
                    for j in 0..<vocab { d[j] *= k }
                    d[Int(t)] -= scale
                } else {
                    for j in 0..<vocab { s += expf(x[j] - m) }
                }
                pl[row] = logf(s) - (xt - m)
            }
        }
    }

    /// dx per row (SIMD sums); dweight over column chunks, each adding the rows in order.
    public func rmsNormBackward(x: Tensor, weight: Tensor, dy: Tensor, eps: Float, dx: Tensor, dweight: Tensor?) throws {
        try OpChecks.backend([x, weight, dy, dx] + [dweight].compactMap { $0 }, name)
        let (rows, dim) = try OpChecks.rmsNormBackward(x, weight, dy, eps, dx, dweight)
        guard rows > 0 else { return }
        let px = try HostTensors.floatPointer(x, name)
        let pw = try HostTensors.floatPointer(weight, name)
        let pdy = try HostTensors.floatPointer(dy, name)
        let pdx = try HostTensors.floatPointer(dx, name)
        let rstd = UnsafeMutablePointer<Float>.allocate(capacity: rows)
        defer { rstd.deallocate() }
        Parallel.forChunks(rows, grain: Self.rowGrain(cols: dim)) { r in
            let g = UnsafeMutablePointer<Float>.allocate(capacity: dim)
            let xh = UnsafeMutablePointer<Float>.allocate(capacity: dim)
            defer {
                g.deallocate()
                xh.deallocate()
            }
            for row in r {
                let xr = px + row * dim, dyr = pdy + row * dim, o = pdx + row * dim
                let rs = 1 / (Self.sumOfSquares(UnsafePointer(xr), dim) / Float(dim) + eps).squareRoot()
                rstd[row] = rs
                for j in 0..<dim {
                    g[j] = pw[j] * dyr[j]
                    xh[j] = xr[j] * rs
                }
                let mean = Self.rowDot(UnsafePointer(g), UnsafePointer(xh), dim) / Float(dim)
                for j in 0..<dim { o[j] = rs * (g[j] - xh[j] * mean) }
            }
        }
        guard let dweight else { return }
        let pdw = try HostTensors.floatPointer(dweight, name)
        let cols = (dim + 15) / 16
        Parallel.forChunks(cols, grain: max(1, (Self.elementwiseGrain / 4) / max(1, rows * 16))) { r in
            let lo = r.lowerBound * 16, hi = min(dim, r.upperBound * 16)
            for row in 0..<rows {
                let xr = px + row * dim, dyr = pdy + row * dim, rs = rstd[row]
                for j in lo..<hi { pdw[j] += dyr[j] * (xr[j] * rs) }
            }
        }
    }

    public func swigluBackward(gate: Tensor, up: Tensor, dout: Tensor, dgate: Tensor, dup: Tensor) throws {
        try OpChecks.backend([gate, up, dout, dgate, dup], name)
        try OpChecks.swigluBackward(gate, up, dout, dgate, dup)
        let pg = try HostTensors.floatPointer(gate, name)
        let pu = try HostTensors.floatPointer(up, name)
        let pd = try HostTensors.floatPointer(dout, name)
        let pdg = try HostTensors.floatPointer(dgate, name)
        let pdu = try HostTensors.floatPointer(dup, name)
        Parallel.forChunks(gate.count, grain: Self.elementwiseGrain / 4) { r in
            for i in r {
                let g = pg[i], u = pu[i], d = pd[i]
                let s = 1 / (1 + expf(-g))
                pdu[i] = d * (g * s)
                pdg[i] = d * u * s * (1 + g * (1 - s))
            }
        }
    }

    /// Columns are split across cores; each adds the ids' rows in order (bit-identical to `cpu-ref`).
    public func embeddingBackward(ids: Tensor, dout: Tensor, dtable: Tensor) throws {
        try OpChecks.backend([ids, dout, dtable], name)
        let (vocab, dim) = try OpChecks.embeddingBackward(ids, dout, dtable)
        let ib = try HostTensors.ints(ids, name)
        try Reference.checkEmbeddingIDs(UnsafeBufferPointer(ib), vocab: vocab)
        guard let pi = ib.baseAddress, ids.count > 0, dim > 0 else { return }
        let pd = try HostTensors.floatPointer(dout, name)
        let pt = try HostTensors.floatPointer(dtable, name)
        let n = ids.count
        let cols = (dim + 15) / 16
        Parallel.forChunks(cols, grain: max(1, (Self.elementwiseGrain / 4) / max(1, n * 16))) { r in
            let lo = r.lowerBound * 16, hi = min(dim, r.upperBound * 16)
            for i in 0..<n {
                let src = pd + i * dim, dst = pt + Int(pi[i]) * dim
                for j in lo..<hi { dst[j] += src[j] }
            }
        }
    }

    /// A SIMD dot product of `n` floats (8 lanes, then the tail in order).
    @inline(__always)
    static func rowDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var j = 0
        while j + 8 <= n {
            acc += UnsafeRawPointer(a + j).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + j).loadUnaligned(as: SIMD8<Float>.self)
            j += 8
        }
        var s = acc.sum()
        while j < n {
            s += a[j] * b[j]
            j += 1
        }
        return s
    }
}

/// The optimizer ops of `cpu`: `cpu-ref`'s per-element AdamW split across cores and 8 SIMD lanes
/// (bit-identical), and a sum of squares as pairwise sums (SIMD leaves) of fixed blocks added
/// pairwise (deterministic).
extension CPUBackend {
    public func adamw(params: Tensor, grads: Tensor, m: Tensor, v: Tensor, _ h: AdamWParameters) throws {
        try OpChecks.backend([params, grads, m, v], name)
        try OpChecks.adamw(params, grads, m, v, h)
        let c = h.constants
        let pp = try HostTensors.floatPointer(params, name)
        let pg = try HostTensors.floatPointer(grads, name)
        let pm = try HostTensors.floatPointer(m, name)
        let pv = try HostTensors.floatPointer(v, name)
        Parallel.forChunks(params.count, grain: Self.elementwiseGrain) { r in
            // 8 lanes at a time with the same IEEE operations in the same order as
            // `Reference.adamwElement` (no FMA contraction), so bit-identical; the tail per element.
            typealias V = SIMD8<Float>
            let lr = V(repeating: c.lr), b1 = V(repeating: c.beta1), omb1 = V(repeating: c.oneMinusBeta1)
            let b2 = V(repeating: c.beta2), omb2 = V(repeating: c.oneMinusBeta2), eps = V(repeating: c.eps)
            let decay = V(repeating: c.decay), bias1 = V(repeating: c.bias1), bias2 = V(repeating: c.bias2)
            let gs = V(repeating: c.gradScale)
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                let rp = UnsafeMutableRawPointer(pp + i), rm = UnsafeMutableRawPointer(pm + i), rv = UnsafeMutableRawPointer(pv + i)
                let g = UnsafeRawPointer(pg + i).loadUnaligned(as: V.self) * gs
                let m = b1 * rm.loadUnaligned(as: V.self) + omb1 * g
                let v = b2 * rv.loadUnaligned(as: V.self) + omb2 * (g * g)
                var p = rp.loadUnaligned(as: V.self) * decay
                p = p - lr * ((m / bias1) / ((v / bias2).squareRoot() + eps))
                rm.storeBytes(of: m, as: V.self)
                rv.storeBytes(of: v, as: V.self)
                rp.storeBytes(of: p, as: V.self)
                i += 8
            }
            while i < r.upperBound {
                Reference.adamwElement(&pp[i], pg[i], &pm[i], &pv[i], c)
                i += 1
            }
        }
    }

    public func sumOfSquares(_ x: Tensor, into out: Tensor, accumulate: Bool) throws {
        try OpChecks.backend([x, out], name)
        try OpChecks.sumOfSquares(x, out)
        let n = x.count
        let px = try HostTensors.floatPointer(x, name)
        let block = 1 << 16
        let blocks = (n + block - 1) / block
        var partials = [Float](repeating: 0, count: blocks)
        partials.withUnsafeMutableBufferPointer { parts in
            Parallel.forChunks(blocks, grain: 1) { r in
                for b in r {
                    let lo = b * block
                    parts[b] = Self.pairwiseSumOfSquares(px + lo, min(block, n - lo))
                }
            }
        }
        let s = partials.withUnsafeBufferPointer { Self.pairwiseSum($0) }
        let o = try HostTensors.floatPointer(out, name)
        o[0] = (accumulate ? o[0] : 0) + s
    }

    /// Pairwise halves down to leaves of at most 256 elements, each an 8-lane SIMD sum of squares
    /// (a fixed order for a given `n`: deterministic).
    static func pairwiseSumOfSquares(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        if n <= 256 { return Self.sumOfSquares(p, n) }
        let h = (n / 2 + 7) & ~7
        return pairwiseSumOfSquares(p, h) + pairwiseSumOfSquares(p + h, n - h)
    }

    static func pairwiseSum(_ p: UnsafeBufferPointer<Float>) -> Float {
        if p.count <= 16 { return p.reduce(0, +) }
        let h = p.count / 2
        return pairwiseSum(UnsafeBufferPointer(rebasing: p[0..<h])) + pairwiseSum(UnsafeBufferPointer(rebasing: p[h...]))
    }
}
