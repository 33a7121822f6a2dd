#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore

extension Reference {
    /// `out[i] = (g / (1 + expf(-g))) * up[i]` with `g = gate[i]`: SiLU of the gate times the up
    /// projection (Llama's MLP). `out` may be `gate` or `up`.
    public static func swiglu(
        gate: UnsafeBufferPointer<Float>, up: UnsafeBufferPointer<Float>, out: UnsafeMutableBufferPointer<Float>
    ) throws {
        guard gate.count == up.count, out.count == gate.count else {
            throw IFTError.shapeMismatch("swiglu: gate (\(gate.count)), up (\(up.count)) and output (\(out.count)) must have equal counts")
        }
        for i in 0..<gate.count {
            let g = gate[i]
            out[i] = (g / (1 + expf(-g))) * up[i]
        }
    }
}
