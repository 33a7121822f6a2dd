/// Describes a `rope` call: `x` (and `out`, laid out the same way) viewed as `[tokens, heads,
/// headDim]`, element `(t, h, i)` at `offset + t * rowStride + h * headDim + i`.
///
/// Rotate-half (Hugging Face / NeoX) convention: for `i < headDim / 2`, with `x0 = x[i]`,
/// `x1 = x[i + headDim / 2]`, `c`/`s` the cos/sin of the token's position from the table (see
/// `RopeTable`): `out[i] = x0 * c - x1 * s`, `out[i + headDim / 2] = x1 * c + x0 * s`.
/// `inverse` rotates by the negative angle (`s` negated): the backward pass of rope.
public struct RopeDescriptor: Sendable, Equatable {
    public var heads: Int
    public var headDim: Int
    public var tokens: Int
    /// Elements between consecutive tokens (at least `heads * headDim`).
    public var rowStride: Int
    /// Element where token 0, head 0 starts (for example the K part of a fused QKV row).
    public var offset: Int
    public var inverse: Bool

    public init(heads: Int, headDim: Int, tokens: Int, rowStride: Int? = nil, offset: Int = 0, inverse: Bool = false) {
        self.heads = heads
        self.headDim = headDim
        self.tokens = tokens
        self.rowStride = rowStride ?? heads * headDim
        self.offset = offset
        self.inverse = inverse
    }

    /// One past the last element touched.
    public var extent: Int {
        tokens == 0 || heads == 0 || headDim == 0 ? offset : offset + (tokens - 1) * rowStride + heads * headDim
    }

    /// Throws a descriptive error unless the descriptor is consistent and fits an input of
    /// `inputCount` and an output of `outputCount` elements.
    public func validate(inputCount: Int, outputCount: Int) throws {
        guard heads >= 0, tokens >= 0, offset >= 0 else {
            throw IFTError.shapeMismatch("rope: heads (\(heads)), tokens (\(tokens)) and offset (\(offset)) must be non-negative")
        }
        guard headDim > 0, headDim % 2 == 0 else {
            throw IFTError.shapeMismatch("rope: headDim must be even and positive, got \(headDim)")
        }
        guard rowStride >= heads * headDim else {
            throw IFTError.shapeMismatch("rope: rowStride \(rowStride) is smaller than heads x headDim = \(heads * headDim)")
        }
        guard extent <= inputCount, extent <= outputCount else {
            throw IFTError.shapeMismatch(
                "rope: \(tokens) tokens x \(heads) heads x \(headDim) with rowStride \(rowStride) and offset \(offset) need \(extent) elements; input has \(inputCount), output \(outputCount)")
        }
    }
}

/// Describes a grouped-query scaled-dot-product `attention` call.
///
/// Layout (elements, row-major): query `t` of batch entry `b`, head `h`, component `d` is at
/// `qOffset + b * qBatchStride + t * qRowStride + h * headDim + d`; key/value `j` of kv head `g` at
/// `kOffset (vOffset) + b * kvBatchStride + j * kvRowStride + g * headDim + d`; the output like the
/// query with the `out*` strides. Query head `h` reads kv head `h / (heads / kvHeads)`.
///
/// Query `t` sits at key position `p = t + queryOffset`. With `causal` it attends keys `j <= p`
/// (and `j < keyLength`); otherwise all `keyLength` keys. With segment ids (i32 `[batch,
/// keyLength]`) it attends key `j` only if `segments[b, j] == segments[b, p]`. Scores are
/// `dot(q, k) * scale`; a query with no key to attend gets zeros (and log-sum-exp `-inf`).
public struct AttentionDescriptor: Sendable, Equatable {
    public var batch: Int
    /// T: queries per batch entry.
    public var queryLength: Int
    /// S: keys (and values) per batch entry that exist; a KV cache may hold more rows.
    public var keyLength: Int
    /// H: query heads.
    public var heads: Int
    /// Hkv: key/value heads (divides `heads`).
    public var kvHeads: Int
    public var headDim: Int
    public var scale: Float
    public var causal: Bool
    /// Key position of query 0 (default `keyLength - queryLength`: the queries are the last keys).
    public var queryOffset: Int
    public var qRowStride: Int, kvRowStride: Int, outRowStride: Int
    public var qBatchStride: Int, kvBatchStride: Int, outBatchStride: Int
    public var qOffset: Int, kOffset: Int, vOffset: Int, outOffset: Int

    /// Dense by default: rows of `heads * headDim` (`kvHeads * headDim` for keys and values), batch
    /// entries of `queryLength` (`keyLength`) rows. Pass `kvBatchStride` for a KV cache whose
    /// capacity exceeds `keyLength`.
    public init(
        batch: Int = 1, queryLength: Int, keyLength: Int, heads: Int, kvHeads: Int, headDim: Int,
        causal: Bool = true, scale: Float? = nil, queryOffset: Int? = nil,
        qRowStride: Int? = nil, kvRowStride: Int? = nil, outRowStride: Int? = nil,
        qBatchStride: Int? = nil, kvBatchStride: Int? = nil, outBatchStride: Int? = nil
    ) {
        self.batch = batch
        self.queryLength = queryLength
        self.keyLength = keyLength
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.causal = causal
        self.scale = scale ?? (headDim > 0 ? 1 / Float(headDim).squareRoot() : 1)
        self.queryOffset = queryOffset ?? (keyLength - queryLength)
        self.qRowStride = qRowStride ?? heads * headDim
        self.kvRowStride = kvRowStride ?? kvHeads * headDim
        self.outRowStride = outRowStride ?? heads * headDim
        self.qBatchStride = qBatchStride ?? queryLength * self.qRowStride
        self.kvBatchStride = kvBatchStride ?? keyLength * self.kvRowStride
        self.outBatchStride = outBatchStride ?? queryLength * self.outRowStride
        self.qOffset = 0
        self.kOffset = 0
        self.vOffset = 0
        self.outOffset = 0
    }

    /// Query heads per kv head.
    public var groupSize: Int { kvHeads > 0 ? heads / kvHeads : 0 }

    static func extent(offset: Int, batch: Int, batchStride: Int, rows: Int, rowStride: Int, width: Int) -> Int {
        batch == 0 || rows == 0 || width == 0 ? offset : offset + (batch - 1) * batchStride + (rows - 1) * rowStride + width
    }

    /// One past the last element read from q, k, v, or written to out.
    public var qExtent: Int {
        Self.extent(offset: qOffset, batch: batch, batchStride: qBatchStride, rows: queryLength, rowStride: qRowStride, width: heads * headDim)
    }
    public var kExtent: Int {
        Self.extent(offset: kOffset, batch: batch, batchStride: kvBatchStride, rows: keyLength, rowStride: kvRowStride, width: kvHeads * headDim)
    }
    public var vExtent: Int {
        Self.extent(offset: vOffset, batch: batch, batchStride: kvBatchStride, rows: keyLength, rowStride: kvRowStride, width: kvHeads * headDim)
    }
    public var outExtent: Int {
        Self.extent(offset: outOffset, batch: batch, batchStride: outBatchStride, rows: queryLength, rowStride: outRowStride, width: heads * headDim)
    }

    /// Throws a descriptive error unless the descriptor is consistent and fits operands of the
    /// given element counts (`nil`: the optional operand is absent).
    public func validate(qCount: Int, kCount: Int, vCount: Int, outCount: Int, logSumExpCount: Int?, segmentsCount: Int?) throws {
        guard batch >= 0, queryLength >= 0, keyLength >= 0 else {
            throw IFTError.shapeMismatch(
                "attention: batch (\(batch)), queryLength (\(queryLength)) and keyLength (\(keyLength)) must be non-negative")
        }
        guard heads > 0, kvHeads > 0, headDim > 0, heads % kvHeads == 0 else {
            throw IFTError.shapeMismatch(
                "attention: heads (\(heads)), kvHeads (\(kvHeads)) and headDim (\(headDim)) must be positive, with kvHeads dividing heads")
        }
        guard scale.isFinite else { throw IFTError.invalidArgument("attention: scale must be finite, got \(scale)") }
        guard qOffset >= 0, kOffset >= 0, vOffset >= 0, outOffset >= 0, qBatchStride >= 0, kvBatchStride >= 0, outBatchStride >= 0
        else {
            throw IFTError.shapeMismatch("attention: offsets and batch strides must be non-negative")
        }
        let qWidth = heads * headDim, kvWidth = kvHeads * headDim
        guard qRowStride >= qWidth, outRowStride >= qWidth, kvRowStride >= kvWidth else {
            throw IFTError.shapeMismatch(
                "attention: row strides too small: qRowStride \(qRowStride) and outRowStride \(outRowStride) need >= heads x headDim = \(qWidth), kvRowStride \(kvRowStride) needs >= kvHeads x headDim = \(kvWidth)")
        }
        let outBatchSpan = queryLength == 0 ? 0 : (queryLength - 1) * outRowStride + qWidth
        guard batch <= 1 || outBatchStride >= outBatchSpan else {
            throw IFTError.shapeMismatch(
                "attention: outBatchStride \(outBatchStride) makes batch entries overlap (each spans \(outBatchSpan) elements)")
        }
        let operands = [
            ("q", qCount, qExtent, queryLength), ("k", kCount, kExtent, keyLength), ("v", vCount, vExtent, keyLength),
            ("output", outCount, outExtent, queryLength),
        ]
        for (name, count, extent, rows) in operands where extent > count {
            throw IFTError.shapeMismatch(
                "attention \(name): \(batch) x \(rows) rows with the descriptor's strides and offset need \(extent) elements, \(name) has \(count)")
        }
        if let n = logSumExpCount, n != batch * heads * queryLength {
            throw IFTError.shapeMismatch(
                "attention: logSumExp must be [batch, heads, queryLength] = \(batch * heads * queryLength) elements, has \(n)")
        }
        if let n = segmentsCount {
            guard n == batch * keyLength else {
                throw IFTError.shapeMismatch("attention: segments must be [batch, keyLength] = \(batch * keyLength) elements, has \(n)")
            }
            guard queryLength == 0 || (queryOffset >= 0 && queryOffset + queryLength <= keyLength) else {
                throw IFTError.shapeMismatch(
                    "attention: with segments every query must be a key: queryOffset \(queryOffset) + queryLength \(queryLength) must lie within keyLength \(keyLength)")
            }
        }
    }

    /// Whether query `t` (key position `t + queryOffset`) may attend key `j`, causality only.
    @inline(__always)
    public func causallyAllowed(query t: Int, key j: Int) -> Bool { !causal || j <= t + queryOffset }
}

/// Describes a 2-D strided `copy` of f32 elements: `dst[dstOffset + r * dstRowStride + c] =
/// src[srcOffset + r * srcRowStride + c]` for `r < rows`, `c < cols`.
public struct CopyDescriptor: Sendable, Equatable {
    public var rows: Int, cols: Int
    public var srcOffset: Int, srcRowStride: Int
    public var dstOffset: Int, dstRowStride: Int

    public init(rows: Int, cols: Int, srcOffset: Int = 0, srcRowStride: Int? = nil, dstOffset: Int = 0, dstRowStride: Int? = nil) {
        self.rows = rows
        self.cols = cols
        self.srcOffset = srcOffset
        self.srcRowStride = srcRowStride ?? cols
        self.dstOffset = dstOffset
        self.dstRowStride = dstRowStride ?? cols
    }

    public var srcExtent: Int { rows == 0 || cols == 0 ? srcOffset : srcOffset + (rows - 1) * srcRowStride + cols }
    public var dstExtent: Int { rows == 0 || cols == 0 ? dstOffset : dstOffset + (rows - 1) * dstRowStride + cols }

    /// Throws a descriptive error unless the copy fits a source of `srcCount` and a destination
    /// of `dstCount` elements.
    public func validate(srcCount: Int, dstCount: Int) throws {
        guard rows >= 0, cols >= 0, srcOffset >= 0, dstOffset >= 0 else {
            throw IFTError.shapeMismatch("copy: rows (\(rows)), cols (\(cols)) and offsets must be non-negative")
        }
        guard srcRowStride >= cols, dstRowStride >= cols else {
            throw IFTError.shapeMismatch(
                "copy: row strides (source \(srcRowStride), destination \(dstRowStride)) must be >= cols (\(cols))")
        }
        guard srcExtent <= srcCount else {
            throw IFTError.shapeMismatch("copy: \(rows) x \(cols) source rows need \(srcExtent) elements, source has \(srcCount)")
        }
        guard dstExtent <= dstCount else {
            throw IFTError.shapeMismatch(
                "copy: \(rows) x \(cols) destination rows need \(dstExtent) elements, destination has \(dstCount)")
        }
    }

    /// Whether some element is both read and written (for a copy within one tensor). Exact: each
    /// source row is tested against the destination rows whose start could reach it.
    public var sourceOverlapsDestination: Bool {
        guard rows > 0, cols > 0 else { return false }
        for r in 0..<rows {
            let s0 = srcOffset + r * srcRowStride
            let s1 = s0 + cols
            // Destination row k covers [d0 + k * ds, d0 + k * ds + cols): it meets [s0, s1) when
            // d0 + k * ds < s1 and d0 + k * ds + cols > s0.
            let ds = max(1, dstRowStride)
            let lo = floorDiv(s0 - cols - dstOffset, ds) + 1
            let hi = floorDiv(s1 - 1 - dstOffset, ds)
            if max(lo, 0) <= min(hi, rows - 1) { return true }
        }
        return false
    }

    private func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
}
