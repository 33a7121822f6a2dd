import IFTCore

/// Fused projections (Phi-3's `qkv_proj`, `gate_up_proj`; see `Projection.parts`) are row-wise
/// concatenations of their parts' weights. `LlamaLayerWeights` holds the parts; training, export and
/// adapters that name the fused module stack or split rows with these helpers (any dtype: a row of
/// quantized blocks is contiguous bytes).
extension LlamaModel {
    /// The rows of `parts` (same width) stacked into one `[sum of rows, width]` tensor, in the
    /// parts' dtype when they share one, else in f32.
    public static func concatenatingRows(_ parts: [Tensor], _ backend: any Backend) throws -> Tensor {
        guard let first = parts.first, first.shape.count == 2, parts.allSatisfy({ $0.shape.count == 2 && $0.shape[1] == first.shape[1] }) else {
            throw IFTError.shapeMismatch("concatenating rows: \(parts.map(\.shape)) are not matrices of one width")
        }
        let shared = parts.allSatisfy { $0.dtype == first.dtype }
        let stored = shared ? parts : try parts.map { try asFloat($0, backend) }
        var bytes: [UInt8] = []
        for t in stored { bytes += try backend.bytes(t) }
        let out = try backend.makeTensor(shape: [parts.reduce(0) { $0 + $1.shape[0] }, first.shape[1]], dtype: stored[0].dtype)
        try bytes.withUnsafeBytes { try backend.write(out, from: $0) }
        return out
    }

    /// `t` split into consecutive blocks of `rows[i]` rows each, in its dtype.
    public static func splittingRows(_ t: Tensor, _ rows: [Int], _ backend: any Backend) throws -> [Tensor] {
        guard t.shape.count == 2, rows.reduce(0, +) == t.shape[0], rows.allSatisfy({ $0 > 0 }) else {
            throw IFTError.shapeMismatch("splitting rows: \(t.shape) does not split into blocks of \(rows) rows")
        }
        let bytes = try backend.bytes(t)
        let perRow = bytes.count / t.shape[0]
        var start = 0
        return try rows.map { r in
            defer { start += r }
            let part = try backend.makeTensor(shape: [r, t.shape[1]], dtype: t.dtype)
            try bytes[start * perRow..<(start + r) * perRow].withUnsafeBytes { try backend.write(part, from: $0) }
            return part
        }
    }
}

extension LoRAAdapterWeights {
    /// One layer's adapters on the projections `LlamaLayerWeights` holds: a fused projection's pair
    /// becomes one pair per part, each with the shared A and the part's rows of B (PEFT's
    /// `qkv_proj` adapter computes `B · A · x` and splits the rows, which is the same).
    /// `rows(p)` is part p's output width.
    func splitPairs(_ layer: [Projection: Pair], rows: (Projection) -> Int) -> [(Projection, Pair)] {
        var out: [(Projection, Pair)] = []
        for p in Projection.allCases {
            guard let pair = layer[p] else { continue }
            guard p.isFused else {
                out.append((p, pair))
                continue
            }
            var row = 0
            for part in p.parts {
                let n = rows(part)
                out.append((part, Pair(a: pair.a, b: Array(pair.b[row * rank..<(row + n) * rank]))))
                row += n
            }
        }
        return out
    }
}
