import IFTCore
import IFTModel

/// LoRA hyperparameters (PEFT's names and defaults where they exist).
public struct LoRAConfig: Sendable, Equatable {
    public var rank: Int
    public var alpha: Float
    /// Dropout on the adapter's input (training only).
    public var dropout: Float
    public var targets: [Projection]
    /// rsLoRA: scale `alpha / sqrt(rank)` instead of `alpha / rank`.
    public var rsLoRA: Bool

    public init(rank: Int = 16, alpha: Float = 32, dropout: Float = 0, targets: [Projection] = Projection.allCases, rsLoRA: Bool = false) {
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.targets = targets
        self.rsLoRA = rsLoRA
    }

    /// The factor on `B · A`.
    public var scale: Float { rsLoRA ? alpha / Float(rank).squareRoot() : alpha / Float(rank) }

    public func validate() throws {
        guard rank >= 1 else { throw IFTError.invalidArgument("LoRA rank must be >= 1, got \(rank)") }
        guard alpha.isFinite, alpha > 0 else { throw IFTError.invalidArgument("LoRA alpha must be > 0, got \(alpha)") }
        guard dropout >= 0, dropout < 1 else { throw IFTError.invalidArgument("LoRA dropout must be in [0, 1), got \(dropout)") }
        guard !targets.isEmpty else { throw IFTError.invalidArgument("LoRA needs at least one target module") }
    }
}

/// How the model is trained.
public enum TrainingMode: String, Sendable, CaseIterable {
    /// Every weight trainable, in fp32.
    case full
    /// Frozen fp32 base + LoRA adapters.
    case lora
    /// Frozen 4-bit base (kept as quantized blocks, dequantized inside the kernels) + LoRA adapters.
    case qlora
}

/// One trainable tensor with its gradient and AdamW moments (all f32, on the model's backend).
public final class Parameter {
    /// Hugging Face / PEFT name (e.g. `model.layers.0.self_attn.q_proj.lora_A.weight`).
    public let name: String
    public let value: Tensor
    public let grad: Tensor
    public let m: Tensor
    public let v: Tensor
    /// Whether AdamW's weight decay applies (not to norm weights).
    public let decays: Bool

    init(name: String, value: Tensor, decays: Bool, backend: any Backend) throws {
        self.name = name
        self.value = value
        self.decays = decays
        grad = try backend.makeTensor(shape: value.shape, dtype: .f32)
        m = try backend.makeTensor(shape: value.shape, dtype: .f32)
        v = try backend.makeTensor(shape: value.shape, dtype: .f32)
    }
}

/// The LoRA adapter of one projection: `y += scale * (dropout(x) · Aᵀ) · Bᵀ`, A `[r, in]`, B `[out, r]`.
public struct LoRAAdapter {
    public let a: Parameter
    public let b: Parameter
}
