import IFTCore

/// Quantizers from f32 to the block formats. Q8_0, Q4_0, Q4_1 and Q4_K follow ggml's reference
/// `quantize_row_*_ref` operation for operation (fp32 throughout, no fused multiply-add), so the
/// blocks they write are the ones a GGUF file made by llama.cpp's reference path holds. NF4
/// follows QLoRA/bitsandbytes: absmax per block of 64, each value scaled by `1 / absmax` and
/// mapped to the nearest of the 16 `nf4Table` levels.
extension Reference {
    /// Quantizes `values` (a whole number of blocks of `dtype`) into `out`, which must hold exactly
    /// that many blocks. Throws on non-finite input (NaN or ±inf have no meaningful block).
    public static func quantize(_ dtype: DType, _ values: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawBufferPointer) throws {
        guard dtype.isQuantized else {
            throw IFTError.dtypeMismatch("quantize writes a quantized dtype, got \(dtype)")
        }
        let needed = try dtype.byteCount(elements: values.count)
        guard out.count == needed else {
            throw IFTError.shapeMismatch(
                "quantize: \(values.count) values are \(values.count / dtype.blockSize) \(dtype) blocks = \(needed) bytes, output has \(out.count)")
        }
        for (i, v) in values.enumerated() where !v.isFinite {
            throw IFTError.invalidArgument("quantize: value \(i) is \(v); only finite values can be quantized")
        }
        guard let src = values.baseAddress, let dst = out.baseAddress else { return }
        for blk in 0..<(values.count / dtype.blockSize) {
            let x = src + blk * dtype.blockSize
            let y = dst + blk * dtype.blockBytes
            switch dtype {
            case .q8_0: quantizeQ8_0(x, into: y)
            case .q4_0: quantizeQ4_0(x, into: y)
            case .q4_1: quantizeQ4_1(x, into: y)
            case .q4_k: quantizeQ4_K(x, into: y)
            case .nf4: quantizeNF4(x, into: y)
            case .f32, .f16, .bf16, .i32: break
            }
        }
    }

    /// Quantizes `values` (a whole number of blocks of `dtype`) into new bytes.
    public static func quantize(_ dtype: DType, _ values: [Float]) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: try dtype.byteCount(elements: values.count))
        try values.withUnsafeBufferPointer { v in
            try out.withUnsafeMutableBytes { try quantize(dtype, v, into: $0) }
        }
        return out
    }

    /// ggml's `quantize_row_q8_0_ref` for one block: `amax = max |x|`, `d = amax / 127`,
    /// `id = d != 0 ? 1 / d : 0`, `q[j] = roundf(x[j] * id)` (half away from zero); stores f16(d).
    public static func quantizeQ8_0(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) {
        var amax: Float = 0
        for j in 0..<32 {
            let a = abs(x[j])
            amax = amax > a ? amax : a
        }
        let d = amax / 127
        let id: Float = d != 0 ? 1 / d : 0
        storeU16(y, 0, HalfFloat.floatToF16(d))
        for j in 0..<32 {
            let q = (x[j] * id).rounded(.toNearestOrAwayFromZero)
            y.storeBytes(of: Int8(clamping: saturatingInt(q)), toByteOffset: 2 + j, as: Int8.self)
        }
    }

    /// ggml's `quantize_row_q4_0_ref` for one block: `max` = the value of largest magnitude (the
    /// first one), `d = max / -8`, `id = d != 0 ? 1 / d : 0`,
    /// `q[j] = min(15, trunc(x[j] * id + 8.5))`; stores f16(d) and the nibbles.
    public static func quantizeQ4_0(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) {
        var amax: Float = 0
        var mx: Float = 0
        for j in 0..<32 where amax < abs(x[j]) {
            amax = abs(x[j])
            mx = x[j]
        }
        let d = mx / -8
        let id: Float = d != 0 ? 1 / d : 0
        storeU16(y, 0, HalfFloat.floatToF16(d))
        for j in 0..<16 {
            let x0 = x[j] * id
            let x1 = x[16 + j] * id
            let q0 = nibble(x0 + 8.5)
            let q1 = nibble(x1 + 8.5)
            y.storeBytes(of: q0 | (q1 << 4), toByteOffset: 2 + j, as: UInt8.self)
        }
    }

    /// ggml's `quantize_row_q4_1_ref` for one block: `d = (max - min) / 15`,
    /// `id = d != 0 ? 1 / d : 0`, `q[j] = min(15, trunc((x[j] - min) * id + 0.5))`; stores f16(d),
    /// f16(min) and the nibbles.
    public static func quantizeQ4_1(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) {
        var mn = Float.greatestFiniteMagnitude
        var mx = -Float.greatestFiniteMagnitude
        for j in 0..<32 {
            if x[j] < mn { mn = x[j] }
            if x[j] > mx { mx = x[j] }
        }
        let d = (mx - mn) / 15
        let id: Float = d != 0 ? 1 / d : 0
        storeU16(y, 0, HalfFloat.floatToF16(d))
        storeU16(y, 2, HalfFloat.floatToF16(mn))
        for j in 0..<16 {
            let x0 = (x[j] - mn) * id
            let x1 = (x[16 + j] - mn) * id
            y.storeBytes(of: nibble(x0 + 0.5) | (nibble(x1 + 0.5) << 4), toByteOffset: 4 + j, as: UInt8.self)
        }
    }

    /// `Int(v)` (truncating) that cannot trap: NaN gives 0, huge values saturate. (A finite block
    /// whose scale underflows can make `1 / d` infinite; C leaves that undefined, we must not trap.)
    @inline(__always)
    static func saturatingInt(_ v: Float) -> Int {
        if v.isNaN { return 0 }
        if v >= 1e9 { return 1_000_000_000 }
        if v <= -1e9 { return -1_000_000_000 }
        return Int(v)
    }

    /// C's `MIN(15, (int8_t)v)` for the non-negative `v` of Q4_0/Q4_1 (truncation toward zero),
    /// clamped to 0...15 so no input can trap.
    @inline(__always)
    static func nibble(_ v: Float) -> UInt8 {
        guard v > 0 else { return 0 }
        return v >= 15 ? 15 : UInt8(v)
    }

    /// ggml's `nearest_int`: rounds to nearest, ties to even, by adding 1.5 * 2^23
    /// (valid for |f| <= 4194303, which every call here satisfies for finite input).
    @inline(__always)
    static func nearestInt(_ f: Float) -> Int {
        let val = f + 12582912
        let i = Int32(bitPattern: val.bitPattern)
        return Int((i & 0x007f_ffff) - 0x0040_0000)
    }

    /// ggml's `make_qkx2_quants` (nmax levels above a min, weighted least squares over `nstep + 1`
    /// trial scales). Returns the scale and writes `-min` to `theMin` and the levels to `L`.
    static func makeQKX2Quants(
        _ n: Int, _ nmax: Int, _ x: UnsafePointer<Float>, _ weights: UnsafePointer<Float>,
        _ L: UnsafeMutablePointer<UInt8>, _ theMin: inout Float, _ Laux: UnsafeMutablePointer<UInt8>,
        rmin: Float, rdelta: Float, nstep: Int, useMad: Bool
    ) -> Float {
        var mn = x[0]
        var mx = x[0]
        var sumW = weights[0]
        var sumX = sumW * x[0]
        for i in 1..<n {
            if x[i] < mn { mn = x[i] }
            if x[i] > mx { mx = x[i] }
            let w = weights[i]
            sumW += w
            sumX += w * x[i]
        }
        if mn > 0 { mn = 0 }
        if mx == mn {
            for i in 0..<n { L[i] = 0 }
            theMin = -mn
            return 0
        }
        var iscale = Float(nmax) / (mx - mn)
        var scale = 1 / iscale
        var bestError: Float = 0
        for i in 0..<n {
            let l = nearestInt(iscale * (x[i] - mn))
            L[i] = UInt8(max(0, min(nmax, l)))
            var diff = scale * Float(L[i]) + mn - x[i]
            diff = useMad ? abs(diff) : diff * diff
            bestError += weights[i] * diff
        }
        if nstep < 1 {
            theMin = -mn
            return scale
        }
        for step in 0...nstep {
            iscale = (rmin + rdelta * Float(step) + Float(nmax)) / (mx - mn)
            var sumL: Float = 0, sumL2: Float = 0, sumXL: Float = 0
            for i in 0..<n {
                let l = max(0, min(nmax, nearestInt(iscale * (x[i] - mn))))
                Laux[i] = UInt8(l)
                let w = weights[i]
                let fl = Float(l)
                sumL += w * fl
                sumL2 += w * fl * fl
                sumXL += w * fl * x[i]
            }
            let D = sumW * sumL2 - sumL * sumL
            if D > 0 {
                var thisScale = (sumW * sumXL - sumX * sumL) / D
                var thisMin = (sumL2 * sumX - sumL * sumXL) / D
                if thisMin > 0 {
                    thisMin = 0
                    thisScale = sumXL / sumL2
                }
                var curError: Float = 0
                for i in 0..<n {
                    var diff = thisScale * Float(Laux[i]) + thisMin - x[i]
                    diff = useMad ? abs(diff) : diff * diff
                    curError += weights[i] * diff
                }
                if curError < bestError {
                    for i in 0..<n { L[i] = Laux[i] }
                    bestError = curError
                    scale = thisScale
                    mn = thisMin
                }
            }
        }
        theMin = -mn
        return scale
    }

    /// ggml's `quantize_row_q4_K_ref` for one block of 256: per sub-block of 32, weights
    /// `av_x + |x|` (`av_x = sqrt(sum x² / 32)`) and `make_qkx2_quants(32, 15, rmin: -1,
    /// rdelta: 0.1, nstep: 20)` give a scale and min; those are quantized to 6 bits against
    /// `d = max_scale / 63` and `dmin = max_min / 63` (stored as f16), and each value is requantized
    /// as `clamp(nearest_int((x + dm) / d), 0, 15)` with the stored `d = f16(d) * sc`,
    /// `dm = f16(dmin) * m` (sub-blocks whose `d` is 0 keep the levels from `make_qkx2_quants`).
    public static func quantizeQ4_K(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) {
        // Scratch: levels L[256], Laux[32] and packed scales[12]; weights[32], mins[8], scales[8].
        let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: 256 + 32 + 12)
        let floats = UnsafeMutablePointer<Float>.allocate(capacity: 32 + 8 + 8)
        defer {
            bytes.deallocate()
            floats.deallocate()
        }
        bytes.initialize(repeating: 0, count: 256 + 32 + 12)
        floats.initialize(repeating: 0, count: 32 + 8 + 8)
        let L = bytes, Laux = bytes + 256, packed = bytes + 288
        let weights = floats, mins = floats + 32, scales = floats + 40

        var maxScale: Float = 0
        var maxMin: Float = 0
        for j in 0..<8 {
            let xs = x + 32 * j
            var sumX2: Float = 0
            for l in 0..<32 { sumX2 += xs[l] * xs[l] }
            let avX = (sumX2 / 32).squareRoot()
            for l in 0..<32 { weights[l] = avX + abs(xs[l]) }
            var theMin: Float = 0
            scales[j] = makeQKX2Quants(
                32, 15, xs, weights, L + 32 * j, &theMin, Laux, rmin: -1, rdelta: 0.1, nstep: 20, useMad: false)
            mins[j] = theMin
            if scales[j] > maxScale { maxScale = scales[j] }
            if mins[j] > maxMin { maxMin = mins[j] }
        }

        let invScale: Float = maxScale > 0 ? 63 / maxScale : 0
        let invMin: Float = maxMin > 0 ? 63 / maxMin : 0
        for j in 0..<8 {
            let ls = min(63, UInt8(truncatingIfNeeded: nearestInt(invScale * scales[j])))
            let lm = min(63, UInt8(truncatingIfNeeded: nearestInt(invMin * mins[j])))
            if j < 4 {
                packed[j] = ls
                packed[j + 4] = lm
            } else {
                packed[j + 4] = (ls & 0xF) | ((lm & 0xF) << 4)
                packed[j - 4] |= (ls >> 4) << 6
                packed[j] |= (lm >> 4) << 6
            }
        }
        let dBits = HalfFloat.floatToF16(maxScale / 63)
        let dminBits = HalfFloat.floatToF16(maxMin / 63)
        storeU16(y, 0, dBits)
        storeU16(y, 2, dminBits)
        for i in 0..<12 { y.storeBytes(of: packed[i], toByteOffset: 4 + i, as: UInt8.self) }

        for j in 0..<8 {
            let (sc, m) = q4KScaleMin(j, UnsafeRawPointer(packed))
            let d = HalfFloat.f16ToFloat(dBits) * Float(sc)
            if d == 0 { continue }
            let dm = HalfFloat.f16ToFloat(dminBits) * Float(m)
            for ii in 0..<32 {
                let l = nearestInt((x[32 * j + ii] + dm) / d)
                L[32 * j + ii] = UInt8(max(0, min(15, l)))
            }
        }
        for j in stride(from: 0, to: 256, by: 64) {
            for l in 0..<32 {
                y.storeBytes(of: L[j + l] | (L[j + l + 32] << 4), toByteOffset: 16 + j / 2 + l, as: UInt8.self)
            }
        }
    }

    /// Decision thresholds between adjacent NF4 levels: the midpoints, computed in Double and
    /// rounded to Float.
    public static let nf4Midpoints: [Float] = (0..<15).map {
        Float((Double(nf4Table[$0]) + Double(nf4Table[$0 + 1])) / 2)
    }

    /// The NF4 code of a value already scaled into [-1, 1]: the nearest `nf4Table` level (the
    /// number of midpoints strictly below `v`, so a value exactly on a midpoint takes the lower).
    @inline(__always)
    public static func nf4Code(_ v: Float) -> UInt8 {
        var q: UInt8 = 0
        for m in nf4Midpoints where v > m { q += 1 }
        return q
    }

    /// NF4 (QLoRA-style) for one block of 64: `absmax = max |x|` (stored as f32),
    /// `inv = absmax != 0 ? 1 / absmax : 0`, `q[j] = nf4Code(x[j] * inv)`.
    public static func quantizeNF4(_ x: UnsafePointer<Float>, into y: UnsafeMutableRawPointer) {
        var absmax: Float = 0
        for j in 0..<64 {
            let a = abs(x[j])
            if a > absmax { absmax = a }
        }
        let inv: Float = absmax != 0 ? 1 / absmax : 0
        storeU32(y, 0, absmax.bitPattern)
        for i in 0..<32 {
            let lo = nf4Code(x[2 * i] * inv)
            let hi = nf4Code(x[2 * i + 1] * inv)
            y.storeBytes(of: lo | (hi << 4), toByteOffset: 4 + i, as: UInt8.self)
        }
    }
}
