#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Hyperparameters of one AdamW step (PyTorch's `torch.optim.AdamW`, decoupled weight decay).
public struct AdamWParameters: Sendable, Equatable {
    public var lr: Float
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    public var weightDecay: Float
    /// 1-based step number, for the bias corrections.
    public var step: Int
    /// Multiplies the gradient first (e.g. the global-norm clipping factor).
    public var gradScale: Float

    public init(lr: Float, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0.01, step: Int, gradScale: Float = 1) {
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        self.step = step
        self.gradScale = gradScale
    }

    /// The per-step constants every backend uses, computed here in Double and rounded to Float once,
    /// so that all backends run the same fp32 arithmetic per element.
    public var constants: AdamWConstants {
        let s = Double(step)
        return AdamWConstants(
            lr: lr, beta1: beta1, oneMinusBeta1: Float(1 - Double(beta1)), beta2: beta2, oneMinusBeta2: Float(1 - Double(beta2)),
            eps: eps, decay: Float(1 - Double(lr) * Double(weightDecay)),
            bias1: Float(1 - pow(Double(beta1), s)), bias2: Float(1 - pow(Double(beta2), s)), gradScale: gradScale)
    }
}

/// Host-computed constants of one AdamW step. Per element, in fp32 and in this order:
/// ```
/// g = grad * gradScale
/// m = beta1 * m + oneMinusBeta1 * g
/// v = beta2 * v + oneMinusBeta2 * (g * g)
/// p = p * decay                                  // decay = 1 - lr * weightDecay (PyTorch: p.mul_(1 - lr*wd))
/// p = p - lr * ((m / bias1) / (sqrt(v / bias2) + eps))   // bias_k = 1 - beta_k^step
/// ```
public struct AdamWConstants: Sendable, Equatable {
    public var lr, beta1, oneMinusBeta1, beta2, oneMinusBeta2, eps, decay, bias1, bias2, gradScale: Float

    /// The push-constant / argument order of `Shaders/adamw.comp` (after n).
    public var words: [Float] { [lr, beta1, oneMinusBeta1, beta2, oneMinusBeta2, eps, decay, bias1, bias2, gradScale] }
}

extension OpChecks {
    /// Checks an `adamw` call: four f32 tensors of equal count, all different, and valid
    /// hyperparameters (step >= 1, betas in [0, 1), eps >= 0, everything finite).
    public static func adamw(_ params: Tensor, _ grads: Tensor, _ m: Tensor, _ v: Tensor, _ h: AdamWParameters) throws {
        for (t, n) in [(params, "params"), (grads, "grads"), (m, "m"), (v, "v")] {
            try dtype(t, .f32, "adamw \(n)")
            guard t.count == params.count else {
                throw IFTError.shapeMismatch(
                    "adamw: \(n) has \(t.count) elements, params \(params.count); params, grads, m and v must have equal counts")
            }
        }
        let ts = [params, grads, m, v]
        for i in 0..<ts.count {
            for j in (i + 1)..<ts.count where ts[i].storage === ts[j].storage {
                throw IFTError.invalidArgument("adamw: params, grads, m and v must be four different tensors")
            }
        }
        guard h.step >= 1 else {
            throw IFTError.invalidArgument("adamw: step must be >= 1 (1-based, for the bias corrections), got \(h.step)")
        }
        guard h.lr.isFinite, h.eps.isFinite, h.eps >= 0, h.weightDecay.isFinite, h.gradScale.isFinite else {
            throw IFTError.invalidArgument(
                "adamw: lr (\(h.lr)), eps (\(h.eps)), weightDecay (\(h.weightDecay)) and gradScale (\(h.gradScale)) must be finite, eps >= 0")
        }
        guard h.beta1 >= 0, h.beta1 < 1, h.beta2 >= 0, h.beta2 < 1 else {
            throw IFTError.invalidArgument("adamw: beta1 (\(h.beta1)) and beta2 (\(h.beta2)) must be in [0, 1)")
        }
    }

    /// Checks a `sumOfSquares` call: `x` f32, `out` f32 with one element, not `x`.
    public static func sumOfSquares(_ x: Tensor, _ out: Tensor) throws {
        try dtype(x, .f32, "sumOfSquares input")
        try dtype(out, .f32, "sumOfSquares out")
        guard out.count == 1 else {
            throw IFTError.shapeMismatch("sumOfSquares: out must hold one element (f32 [1]), got shape \(out.shape)")
        }
        if out.storage === x.storage {
            throw IFTError.invalidArgument("sumOfSquares: out must not be the input")
        }
    }
}
