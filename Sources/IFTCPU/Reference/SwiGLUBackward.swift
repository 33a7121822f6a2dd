#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore

extension Reference {
    /// Gradients of `out = silu(gate) * up`: with `s = 1 / (1 + expf(-gate))` and
    /// `silu = gate * s`, `dup = dout * silu` and `dgate = dout * up * s * (1 + gate * (1 - s))`,
    /// elementwise. `dgate` may be `gate` or `dout`, `dup` may be `up` (each element is read
    /// before it is written).
    public static func swigluBackward(
        gate: UnsafeBufferPointer<Float>, up: UnsafeBufferPointer<Float>, dout: UnsafeBufferPointer<Float>,
        dgate: UnsafeMutableBufferPointer<Float>, dup: UnsafeMutableBufferPointer<Float>
    ) throws {
        let n = gate.count
        guard up.count == n, dout.count == n, dgate.count == n, dup.count == n else {
            throw IFTError.shapeMismatch(
                "swigluBackward: gate (\(n)), up (\(up.count)), dout (\(dout.count)), dgate (\(dgate.count)) and dup (\(dup.count)) must have equal counts")
        }
        for i in 0..<n {
            let g = gate[i], u = up[i], d = dout[i]
            let s = 1 / (1 + expf(-g))
            dup[i] = d * (g * s)
            dgate[i] = d * u * s * (1 + g * (1 - s))
        }
    }
}
