#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore

extension Reference {
    /// Numerically stable softmax over each row of `a` (rows of `cols` elements):
    /// `m = max(row)`, `e[j] = expf(a[j] - m)`, `s = sum(e)` (in order, fp32), `out[j] = e[j] / s`.
    /// `out` may be `a` itself.
    public static func softmaxRows(a: UnsafeBufferPointer<Float>, cols: Int, out: UnsafeMutableBufferPointer<Float>) throws {
        guard cols > 0, a.count % cols == 0, out.count == a.count else {
            throw IFTError.shapeMismatch(
                "softmaxRows: input of \(a.count) and output of \(out.count) elements must be equal whole rows of \(cols)")
        }
        for r in 0..<(a.count / cols) {
            let base = r * cols
            var m = a[base]
            for j in 1..<cols where a[base + j] > m { m = a[base + j] }
            var s: Float = 0
            for j in 0..<cols {
                let e = expf(a[base + j] - m)
                out[base + j] = e
                s += e
            }
            for j in 0..<cols {
                out[base + j] = out[base + j] / s
            }
        }
    }
}
