import CVulkan
import IFTCore

#if canImport(Glibc)
import Glibc
#endif

/// The `vulkan` backend: every op is a compute dispatch recorded into the device's command buffer.
/// Nothing is submitted until a result is read (`read`) or `synchronize()` is called, so a sequence
/// of ops runs with no host round-trip between them.
public final class VulkanBackend: Backend {
    public let name = "vulkan"
    public let device: VulkanDevice

    /// Opens device `index` (default: `IFT_DEVICE`, else the preferred device).
    public convenience init(deviceIndex: Int? = nil, validation: Bool? = nil) throws {
        let instance = try VulkanInstance(validation: validation)
        let index = try instance.selectDevice(deviceIndex)
        try self.init(device: VulkanDevice(instance: instance, index: index))
    }

    public init(device: VulkanDevice) {
        self.device = device
    }

    var info: DeviceInfo { device.info }
    var recorder: Recorder { device.recorder }

    public func makeTensor(shape: [Int], dtype: DType) throws -> Tensor {
        try validateShape(shape, dtype)
        let bytes = shape.reduce(1, *) / dtype.blockSize * dtype.blockBytes
        let allocation = try device.memory.allocate(max(4, (bytes + 3) / 4 * 4))
        let storage = VulkanStorage(allocation: allocation, pool: device.memory)
        if let p = allocation.hostPointer {
            memset(p, 0, allocation.size)
        } else {
            try recorder.fill(BufferBinding(allocation: allocation, offset: 0, range: allocation.size, owner: storage))
        }
        return Tensor(shape: shape, dtype: dtype, storage: storage)
    }

    func storage(_ t: Tensor) throws -> VulkanStorage {
        guard let s = t.storage as? VulkanStorage else {
            throw IFTError.wrongBackend(expected: name, got: t.backendName)
        }
        return s
    }

    /// A binding of `byteCount` bytes of `t` from `byteOffset` (rounded up to whole 32-bit words).
    func binding(_ t: Tensor, byteOffset: Int = 0, byteCount: Int? = nil) throws -> BufferBinding {
        let s = try storage(t)
        let count = byteCount ?? (t.byteCount - byteOffset)
        let range = min(s.allocation.size - byteOffset, max(4, (count + 3) / 4 * 4))
        return BufferBinding(allocation: s.allocation, offset: byteOffset, range: range, owner: s)
    }

    public func write(_ tensor: Tensor, from bytes: UnsafeRawBufferPointer) throws {
        let s = try storage(tensor)
        guard bytes.count == tensor.byteCount else {
            throw IFTError.shapeMismatch("write: \(bytes.count) bytes given for \(tensor), which holds \(tensor.byteCount)")
        }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if let p = s.allocation.hostPointer {
            try synchronize()
            memcpy(p, base, bytes.count)
        } else {
            let staging = try device.memory.stagingBlock(bytes.count)
            guard let mapped = staging.mapped else { throw IFTError.vulkan(call: "vkMapMemory(staging)", result: 0) }
            memcpy(mapped, base, bytes.count)
            let src = BufferBinding(
                allocation: Allocation(block: staging, offset: 0, size: staging.size), offset: 0, range: bytes.count,
                owner: staging)
            try recorder.copy(from: src, to: BufferBinding(allocation: s.allocation, offset: 0, range: bytes.count, owner: s))
            recorder.releaseAfterSubmit(staging)
        }
    }

    public func read(_ tensor: Tensor, into bytes: UnsafeMutableRawBufferPointer) throws {
        let s = try storage(tensor)
        guard bytes.count == tensor.byteCount else {
            throw IFTError.shapeMismatch("read: buffer of \(bytes.count) bytes for \(tensor), which holds \(tensor.byteCount)")
        }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if let p = s.allocation.hostPointer {
            try synchronize()
            memcpy(base, p, bytes.count)
        } else {
            let staging = try device.memory.stagingBlock(bytes.count)
            defer { device.memory.releaseStaging(staging) }
            let dst = BufferBinding(
                allocation: Allocation(block: staging, offset: 0, size: staging.size), offset: 0, range: bytes.count,
                owner: staging)
            try recorder.copy(from: BufferBinding(allocation: s.allocation, offset: 0, range: bytes.count, owner: s), to: dst)
            try synchronize()
            guard let mapped = staging.mapped else { throw IFTError.vulkan(call: "vkMapMemory(staging)", result: 0) }
            memcpy(base, mapped, bytes.count)
        }
    }

    public func synchronize() throws {
        try recorder.submit()
        if device.instance.validationEnabled {
            let errors = device.drainValidationErrors()
            if !errors.isEmpty { throw IFTError.validation(errors) }
        }
    }

    /// Workgroups for a grid-stride loop over `n` items with `wg` invocations each.
    func gridGroups(_ n: Int, _ wg: Int) -> Int {
        max(1, min((n + wg - 1) / wg, info.maxWorkgroupCount[0], 65535))
    }

    /// Largest binding in bytes (lavapipe: 128 MiB); bigger tensors are processed in chunks.
    var maxBindingBytes: Int { info.maxStorageBufferRange }
}

extension Float {
    /// The bits of a float as a push-constant word.
    var word: UInt32 { bitPattern }
}
