#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore

extension Reference {
    /// One AdamW step in place, elementwise, in the order documented on `AdamWConstants`
    /// (PyTorch's `torch.optim.AdamW`: decoupled weight decay applied before the Adam update).
    public static func adamw(
        params: UnsafeMutableBufferPointer<Float>, grads: UnsafeBufferPointer<Float>, m: UnsafeMutableBufferPointer<Float>,
        v: UnsafeMutableBufferPointer<Float>, _ c: AdamWConstants
    ) throws {
        let n = params.count
        guard grads.count == n, m.count == n, v.count == n else {
            throw IFTError.shapeMismatch(
                "adamw: params (\(n)), grads (\(grads.count)), m (\(m.count)) and v (\(v.count)) must have equal counts")
        }
        for i in 0..<n { adamwElement(&params[i], grads[i], &m[i], &v[i], c) }
    }

    /// The per-element AdamW update shared by `cpu-ref` and `cpu` (and mirrored by `adamw.comp`).
    @inline(__always)
    public static func adamwElement(_ p: inout Float, _ grad: Float, _ m: inout Float, _ v: inout Float, _ c: AdamWConstants) {
        let g = grad * c.gradScale
        m = c.beta1 * m + c.oneMinusBeta1 * g
        v = c.beta2 * v + c.oneMinusBeta2 * (g * g)
        p = p * c.decay
        p = p - c.lr * ((m / c.bias1) / (sqrtf(v / c.bias2) + c.eps))
    }
}
