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
    /// variants such as Llama 3's, computed by the caller in Double); cos and sin are multiplied by
    /// `attentionFactor` (YaRN's) before the one rounding to Float.
    public static func make(inverseFrequencies invFreq: [Double], maxPositions: Int, attentionFactor: Double = 1) -> [Float] {
        precondition(maxPositions >= 0, "RopeTable: maxPositions must be non-negative, got \(maxPositions)")
        let half = invFreq.count
        let headDim = 2 * half
        var table = [Float](repeating: 0, count: maxPositions * headDim)
        for p in 0..<maxPositions {
            let base = p * headDim
            for i in 0..<half {
                let angle = Double(p) * invFreq[i]
                table[base + i] = Float(cos(angle) * attentionFactor)
                table[base + half + i] = Float(sin(angle) * attentionFactor)
            }
        }
        return table
    }
}

// MARK: - Scaled RoPE (Llama 3.x, linear, YaRN), as transformers' `modeling_rope_utils` computes it

extension RopeTable {
    /// How the inverse frequencies of plain RoPE are changed for a longer context.
    public enum Scaling: Equatable, Sendable {
        /// Position interpolation: every inverse frequency divided by `factor`.
        case linear(factor: Double)
        /// Llama 3.1/3.2: low frequencies (wavelength above `originalMaxPositions / lowFreqFactor`)
        /// divided by `factor`, high ones (below `originalMaxPositions / highFreqFactor`) kept, and
        /// the band between interpolated smoothly.
        case llama3(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositions: Double)
        /// YaRN: interpolated (`/ factor`) and extrapolated frequencies blended by a linear ramp
        /// over the dimensions between the correction range of `betaFast` and `betaSlow`
        /// rotations within `originalMaxPositions` (floored / ceiled when `truncate`); cos and sin
        /// are multiplied by `attentionFactor`.
        case yarn(
            factor: Double, originalMaxPositions: Double, betaFast: Double, betaSlow: Double, attentionFactor: Double,
            truncate: Bool)
        /// llama.cpp's `rope_freqs` tensor (how its converter stores Llama 3's scaling): inverse
        /// frequency `i` divided by `factors[i]`.
        case frequencyFactors([Double])
        /// LongRoPE (Phi-3): inverse frequency `i` divided by `factors[i]` (the short factors, used
        /// up to the original context), cos and sin multiplied by `attentionFactor`.
        case longrope(factors: [Double], attentionFactor: Double)

        /// LongRoPE's default attention factor `sqrt(1 + ln(factor) / ln(original))` (1 for factor <= 1).
        public static func longropeAttentionFactor(_ factor: Double, originalMaxPositions original: Double) -> Double {
            factor <= 1 ? 1 : (1 + log(factor) / log(original)).squareRoot()
        }

        /// YaRN's default attention factor `0.1 * mscale * ln(factor) + 1` (1 for factor <= 1).
        public static func yarnMscale(_ factor: Double, _ mscale: Double = 1) -> Double {
            factor <= 1 ? 1 : 0.1 * mscale * log(factor) + 1
        }
    }

    /// The inverse frequencies (Double) and the factor on cos/sin of `theta` and `headDim` under
    /// `scaling` (nil: plain RoPE).
    public static func inverseFrequencies(theta: Double, headDim: Int, scaling: Scaling?) -> (invFreq: [Double], attentionFactor: Double) {
        let base = inverseFrequencies(theta: theta, headDim: headDim)
        guard let scaling else { return (base, 1) }
        switch scaling {
        case .linear(let factor):
            return (base.map { $0 / factor }, 1)
        case .llama3(let factor, let low, let high, let original):
            let lowWavelength = original / low, highWavelength = original / high
            let f = base.map { inv -> Double in
                let wavelength = 2 * Double.pi / inv
                if wavelength < highWavelength { return inv }
                if wavelength > lowWavelength { return inv / factor }
                let smooth = (original / wavelength - low) / (high - low)
                return (1 - smooth) * inv / factor + smooth * inv
            }
            return (f, 1)
        case .yarn(let factor, let original, let betaFast, let betaSlow, let attentionFactor, let truncate):
            let dim = Double(headDim)
            func correctionDim(_ rotations: Double) -> Double {
                dim * log(original / (rotations * 2 * Double.pi)) / (2 * log(theta))
            }
            var low = correctionDim(betaFast), high = correctionDim(betaSlow)
            if truncate {
                low = low.rounded(.down)
                high = high.rounded(.up)
            }
            low = max(low, 0)
            high = min(high, dim - 1)
            if low == high { high += 0.001 }  // as transformers: no division by zero
            let f = base.enumerated().map { i, inv -> Double in
                let ramp = min(max((Double(i) - low) / (high - low), 0), 1)
                let extrapolation = 1 - ramp
                return inv / factor * (1 - extrapolation) + inv * extrapolation
            }
            return (f, attentionFactor)
        case .frequencyFactors(let factors):
            precondition(factors.count == base.count, "RopeTable: \(factors.count) frequency factors for \(base.count) frequencies")
            return (zip(base, factors).map { $0 / $1 }, 1)
        case .longrope(let factors, let attentionFactor):
            precondition(factors.count == base.count, "RopeTable: \(factors.count) LongRoPE factors for \(base.count) frequencies")
            return (zip(base, factors).map { $0 / $1 }, attentionFactor)
        }
    }

    /// A `[maxPositions, headDim]` table for `theta` under `scaling`.
    public static func make(theta: Double, headDim: Int, maxPositions: Int, scaling: Scaling?) -> [Float] {
        let (invFreq, attentionFactor) = inverseFrequencies(theta: theta, headDim: headDim, scaling: scaling)
        return make(inverseFrequencies: invFreq, maxPositions: maxPositions, attentionFactor: attentionFactor)
    }
}
