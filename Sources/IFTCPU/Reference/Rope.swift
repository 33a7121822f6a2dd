import IFTCore

extension Reference {
    /// Rotary position embedding, rotate-half (Hugging Face / NeoX) convention, on `x` laid out as
    /// `desc` says (see `RopeDescriptor`), with cos/sin from `table` (`[maxPositions, headDim]`,
    /// see `RopeTable`). For `i < half = headDim / 2`, `x0 = x[i]`, `x1 = x[i + half]`,
    /// `c = table[p, i]`, `s = table[p, half + i]`:
    /// `out[i] = x0 * c - x1 * s`, `out[i + half] = x1 * c + x0 * s` (inverse: `s` negated,
    /// written `x0 * c + x1 * s` and `x1 * c - x0 * s`). Elements outside the rotated heads are not
    /// touched. `out` may be `x` itself. Throws, before writing, when a position is outside the table.
    public static func rope(
        x: UnsafeBufferPointer<Float>, positions: UnsafeBufferPointer<Int32>, table: UnsafeBufferPointer<Float>,
        _ d: RopeDescriptor, out: UnsafeMutableBufferPointer<Float>
    ) throws {
        try d.validate(inputCount: x.count, outputCount: out.count)
        guard positions.count == d.tokens, table.count % d.headDim == 0 else {
            throw IFTError.shapeMismatch(
                "rope: \(positions.count) positions for \(d.tokens) tokens, a table of \(table.count) values for rows of \(d.headDim)")
        }
        let maxPositions = table.count / d.headDim
        try checkRopePositions(positions, maxPositions: maxPositions)
        let half = d.headDim / 2
        for t in 0..<d.tokens {
            let row = Int(positions[t]) * d.headDim
            for h in 0..<d.heads {
                let base = d.offset + t * d.rowStride + h * d.headDim
                for i in 0..<half {
                    let c = table[row + i], s = table[row + half + i]
                    let x0 = x[base + i], x1 = x[base + half + i]
                    if d.inverse {
                        out[base + i] = x0 * c + x1 * s
                        out[base + half + i] = x1 * c - x0 * s
                    } else {
                        out[base + i] = x0 * c - x1 * s
                        out[base + half + i] = x1 * c + x0 * s
                    }
                }
            }
        }
    }

    /// Throws `OpChecks.ropePositionOutOfRange` for the first position outside `0..<maxPositions`.
    public static func checkRopePositions(_ positions: UnsafeBufferPointer<Int32>, maxPositions: Int) throws {
        for (t, p) in positions.enumerated() where p < 0 || Int(p) >= maxPositions {
            throw OpChecks.ropePositionOutOfRange(token: t, position: p, maxPositions: maxPositions)
        }
    }
}
