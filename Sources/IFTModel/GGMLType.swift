import IFTCore

/// The GGML tensor types this engine reads from and writes to GGUF files, with their GGML type
/// ids (the `type` field of a GGUF tensor info). Quantized types store fixed-size blocks of
/// `blockSize` values in `blockBytes` bytes, laid out as in ggml.
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q4_1 = 3
    case q8_0 = 8
    case q4_k = 12
    case q6_k = 14
    case bf16 = 30

    /// Values per block (1 for float types).
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q4_0, .q4_1, .q8_0: return 32
        case .q4_k, .q6_k: return 256
        }
    }

    /// Bytes per block (per element for float types).
    public var blockBytes: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q4_0: return 18  // f16 d, 16 bytes of nibbles
        case .q4_1: return 20  // f16 d, f16 m, 16 bytes of nibbles
        case .q8_0: return 34  // f16 d, 32 x int8
        case .q4_k: return 144  // f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles
        case .q6_k: return 210  // 128 bytes low nibbles, 64 bytes high 2 bits, 16 x int8 scales, f16 d
        }
    }

    public var isQuantized: Bool { blockSize > 1 }

    /// The engine's `DType` for this type, or nil when it has none (Q6_K: dequantize it instead).
    public var dtype: DType? {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        case .q4_0: return .q4_0
        case .q4_1: return .q4_1
        case .q8_0: return .q8_0
        case .q4_k: return .q4_k
        case .q6_k: return nil
        }
    }

    /// The GGML type of a `DType`, or nil for types GGUF has no id for (NF4).
    public init?(_ dtype: DType) {
        switch dtype {
        case .f32: self = .f32
        case .f16: self = .f16
        case .bf16: self = .bf16
        case .q4_0: self = .q4_0
        case .q4_1: self = .q4_1
        case .q8_0: self = .q8_0
        case .q4_k: self = .q4_k
        case .nf4, .i32: return nil
        }
    }

    /// ggml's name (`F32`, `Q4_K`, ...).
    public var name: String { Self.ggmlName(rawValue) }

    public var description: String { name }

    /// Bytes for `count` elements, or nil when `count` is negative or not a whole number of
    /// blocks.
    public func byteCount(elements count: Int) -> Int? {
        guard count >= 0, count % blockSize == 0 else { return nil }
        let (bytes, overflow) = (count / blockSize).multipliedReportingOverflow(by: blockBytes)
        return overflow ? nil : bytes
    }

    /// ggml's name for any type id, including the ones this engine does not support, so that an
    /// error can say "Q5_K (13) is not supported" rather than just a number.
    public static func ggmlName(_ id: UInt32) -> String {
        let names: [UInt32: String] = [
            0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
            10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS",
            17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S",
            23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M",
            30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4",
        ]
        return names[id] ?? "type \(id)"
    }
}
