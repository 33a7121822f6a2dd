/// Element types the engine stores. Float types hold one value per element; quantized types hold
/// fixed-size blocks of `blockSize` values in `blockBytes` bytes, laid out exactly as in GGUF
/// (Q8_0, Q4_0, Q4_1, Q4_K) or as QLoRA's NormalFloat-4 (NF4, ours: see `NF4`). `i32` holds
/// little-endian signed 32-bit integers (token ids, positions, segment ids); no op does float
/// math on it, and `cast` rejects it.
public enum DType: String, Sendable, CaseIterable, CustomStringConvertible {
    case f32, f16, bf16
    case q8_0, q4_0, q4_1, q4_k, nf4
    case i32

    /// Values per block (1 for float types).
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16, .i32: return 1
        case .q8_0, .q4_0, .q4_1: return 32
        case .q4_k: return 256
        case .nf4: return 64
        }
    }

    /// Bytes per block (per element for float types).
    public var blockBytes: Int {
        switch self {
        case .f32, .i32: return 4
        case .f16, .bf16: return 2
        case .q8_0: return 34  // f16 d, 32 x int8
        case .q4_0: return 18  // f16 d, 16 bytes of nibbles
        case .q4_1: return 20  // f16 d, f16 m, 16 bytes of nibbles
        case .q4_k: return 144  // f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles
        case .nf4: return 36  // f32 absmax, 32 bytes of nibbles
        }
    }

    public var isQuantized: Bool { blockSize > 1 }

    /// f32, f16 or bf16: one floating-point value per element.
    public var isFloat: Bool { self == .f32 || self == .f16 || self == .bf16 }

    public var description: String { rawValue }

    /// Bytes needed for `count` elements; throws when `count` is not a whole number of blocks.
    public func byteCount(elements count: Int) throws -> Int {
        guard count >= 0, count % blockSize == 0 else {
            throw IFTError.invalidArgument(
                "\(count) elements is not a whole number of \(self) blocks (block size \(blockSize))")
        }
        return count / blockSize * blockBytes
    }
}
