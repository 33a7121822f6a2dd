/// Backend-owned memory behind a tensor. Each backend defines its own (host memory for the CPU
/// backends, a sub-allocation of a device buffer for Vulkan).
public protocol TensorStorage: AnyObject {
    /// Name of the backend that owns this storage.
    var backendName: String { get }
}

/// A dense, row-major tensor on one backend. Quantized tensors are row-major in blocks: the last
/// dimension must be a multiple of the block size.
public final class Tensor {
    public let shape: [Int]
    public let dtype: DType
    public let storage: any TensorStorage

    public init(shape: [Int], dtype: DType, storage: any TensorStorage) {
        self.shape = shape
        self.dtype = dtype
        self.storage = storage
    }

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// Bytes occupied (quantized: whole blocks).
    public var byteCount: Int { count / dtype.blockSize * dtype.blockBytes }

    public var backendName: String { storage.backendName }
}

extension Tensor: CustomStringConvertible {
    public var description: String { "Tensor(\(shape.map(String.init).joined(separator: "x")), \(dtype))" }
}

/// Checks a shape for a new tensor: non-negative dimensions, whole blocks along the last one.
public func validateShape(_ shape: [Int], _ dtype: DType) throws {
    guard shape.allSatisfy({ $0 >= 0 }) else {
        throw IFTError.shapeMismatch("negative dimension in shape \(shape)")
    }
    if dtype.isQuantized {
        guard let last = shape.last, last % dtype.blockSize == 0 else {
            throw IFTError.shapeMismatch(
                "\(dtype) tensor needs its last dimension to be a multiple of \(dtype.blockSize); got shape \(shape)")
        }
    }
}
