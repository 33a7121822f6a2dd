#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore

/// The learning-rate schedule: linear warmup from 0, then cosine decay to `minRatio * peak`
/// (Hugging Face's `get_cosine_schedule_with_warmup` when `minRatio` is 0: the first step, 0, has lr 0
/// when there is warmup), or constant after warmup.
public struct LearningRateSchedule: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case cosine, linear, constant }
    public var peak: Double
    public var warmupSteps: Int
    public var totalSteps: Int
    public var kind: Kind
    public var minRatio: Double

    public init(peak: Double, warmupSteps: Int, totalSteps: Int, kind: Kind = .cosine, minRatio: Double = 0) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.kind = kind
        self.minRatio = minRatio
    }

    /// The learning rate of optimizer step `step` (0-based).
    public func lr(at step: Int) -> Double {
        if step < warmupSteps { return peak * Double(step) / Double(max(1, warmupSteps)) }
        let progress = Double(step - warmupSteps) / Double(max(1, totalSteps - warmupSteps))
        let factor: Double
        switch kind {
        case .constant: factor = 1
        case .linear: factor = max(0, 1 - progress)
        case .cosine: factor = max(0, 0.5 * (1 + cos(Double.pi * progress)))
        }
        return peak * (minRatio + (1 - minRatio) * factor)
    }
}

/// AdamW over a model's parameters, with global-norm gradient clipping (PyTorch's
/// `clip_grad_norm_`: factor `maxNorm / (norm + 1e-6)` when below 1).
public final class AdamW {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var eps: Float = 1e-8
    public var weightDecay: Float
    /// Clip the global gradient norm to this (nil: no clipping).
    public var maxGradNorm: Float?
    /// Optimizer steps taken so far.
    public internal(set) var stepCount = 0
    let normScratch: Tensor
    let backend: any Backend

    public init(backend: any Backend, weightDecay: Float = 0.01, maxGradNorm: Float? = 1.0) throws {
        self.backend = backend
        self.weightDecay = weightDecay
        self.maxGradNorm = maxGradNorm
        normScratch = try backend.makeTensor(shape: [1], dtype: .f32)
    }

    /// The global L2 norm of the gradients (one host round-trip).
    public func gradientNorm(_ parameters: [Parameter]) throws -> Float {
        for (i, p) in parameters.enumerated() { try backend.sumOfSquares(p.grad, into: normScratch, accumulate: i > 0) }
        return try backend.floats(normScratch)[0].squareRoot()
    }

    /// Clips (when set) and applies one AdamW step with learning rate `lr`; returns the pre-clip
    /// global gradient norm. Norm weights get no weight decay.
    @discardableResult
    public func step(_ parameters: [Parameter], lr: Float) throws -> Float {
        let norm = try gradientNorm(parameters)
        try apply(parameters, lr: lr, norm: norm)
        return norm
    }

    /// Clips with the already computed global `norm` and applies one AdamW step.
    public func apply(_ parameters: [Parameter], lr: Float, norm: Float) throws {
        var scale: Float = 1
        if let maxNorm = maxGradNorm, norm.isFinite {
            let coef = maxNorm / (norm + 1e-6)
            if coef < 1 { scale = coef }
        }
        stepCount += 1
        for p in parameters {
            let h = AdamWParameters(
                lr: lr, beta1: beta1, beta2: beta2, eps: eps, weightDecay: p.decays ? weightDecay : 0, step: stepCount, gradScale: scale)
            try backend.adamw(params: p.value, grads: p.grad, m: p.m, v: p.v, h)
        }
    }
}
