#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The cos/sin table every backend's `rope` reads, built once on the host so that all backends
/// rotate by bit-identical angles.
///
/// Row `p` (a position) holds `headDim` floats: `cos(p * invFreq[i])` for `i < headDim / 2`, then
/// `sin(p * invFreq[i])` for `i < headDim / 2`, with `invFreq[i] = theta^(-2i / headDim)` — Hugging
/// Face's rotate-half (NeoX) convention. Angles, cosines and sines are computed in Double and each
/// result is rounded once to Float.
public enum RopeTable {
    /// `theta^(-2i / headDim)` for `i` in `0..<headDim / 2`, in Double.
    public static func inverseFrequencies(theta: Double, headDim: Int) -> [Double] {
        precondition(headDim > 0 && headDim % 2 == 0, "RopeTable: headDim must be even and positive, got \(headDim)")
        precondition(theta > 0 && theta.isFinite, "RopeTable: theta must be finite and positive, got \(theta)")
        return (0..<headDim / 2).map { i in pow(theta, -Double(2 * i) / Double(headDim)) }
    }

    /// A `[maxPositions, headDim]` table (row-major) for `theta` (Llama: 10000 or 500000).
    public static func make(theta: Double, headDim: Int, maxPositions: Int) -> [Float] {
        make(inverseFrequencies: inverseFrequencies(theta: theta, headDim: headDim), maxPositions: maxPositions)
    }

    /// A `[maxPositions, 2 * invFreq.count]` table from explicit inverse frequencies (for scaled
    /// variants such as Llama 3's, computed by the caller in Double).
    public static func make(inverseFrequencies invFreq: [Double], maxPositions: Int) -> [Float] {
        precondition(maxPositions >= 0, "RopeTable: maxPositions must be non-negative, got \(maxPositions)")
        let half = invFreq.count
        let headDim = 2 * half
        var table = [Float](repeating: 0, count: maxPositions * headDim)
        for p in 0..<maxPositions {
            let base = p * headDim
            for i in 0..<half {
                let angle = Double(p) * invFreq[i]
                table[base + i] = Float(cos(angle))
                table[base + half + i] = Float(sin(angle))
            }
        }
        return table
    }
}
