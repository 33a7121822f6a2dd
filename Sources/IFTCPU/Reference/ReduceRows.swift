import IFTCore

extension Reference {
    /// Reduces each row of `a`, viewed as `[out.count, a.count / out.count]`, to one value.
    /// `sum` adds the row's elements in order in fp32 (starting from 0); `max` returns the largest
    /// element (the first of equal ones; NaN elements are skipped unless they come first).
    public static func reduceRows(_ op: ReduceOp, a: UnsafeBufferPointer<Float>, out: UnsafeMutableBufferPointer<Float>) throws {
        let rows = out.count
        guard rows > 0, a.count > 0, a.count % rows == 0 else {
            throw IFTError.shapeMismatch(
                "reduceRows: output has \(rows) rows but the input's \(a.count) elements do not split into that many non-empty rows")
        }
        let cols = a.count / rows
        for r in 0..<rows {
            let base = r * cols
            switch op {
            case .sum:
                var acc: Float = 0
                for j in 0..<cols { acc += a[base + j] }
                out[r] = acc
            case .max:
                var m = a[base]
                for j in 1..<cols where a[base + j] > m { m = a[base + j] }
                out[r] = m
            }
        }
    }
}
