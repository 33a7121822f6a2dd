import CVulkan
import IFTCore

#if canImport(Glibc)
import Glibc
#endif

/// One large device allocation with one buffer over all of it; tensors are sub-ranges.
public final class MemoryBlock {
    let id: Int
    let memory: VkDeviceMemory
    let buffer: VkBuffer
    let size: Int
    /// Persistently mapped pointer when the memory is host-visible.
    let mapped: UnsafeMutableRawPointer?
    /// Free ranges, sorted by offset, never adjacent (coalesced on free).
    var free: [(offset: Int, size: Int)]

    init(id: Int, memory: VkDeviceMemory, buffer: VkBuffer, size: Int, mapped: UnsafeMutableRawPointer?) {
        self.id = id
        self.memory = memory
        self.buffer = buffer
        self.size = size
        self.mapped = mapped
        free = [(0, size)]
    }
}

/// A range of a memory block.
public struct Allocation {
    let block: MemoryBlock
    let offset: Int
    let size: Int

    var buffer: VkBuffer { block.buffer }
    /// Host pointer to the range's first byte, when the memory is mapped.
    var hostPointer: UnsafeMutableRawPointer? { block.mapped.map { $0 + offset } }
}

/// Sub-allocates tensors from a few large blocks (never one allocation per tensor). First fit
/// with coalescing; offsets aligned to 256 bytes, which satisfies every device's storage-buffer
/// offset alignment.
public final class MemoryPool {
    static let alignment = 256
    /// Default block size; larger requests get a block of their own size.
    static let defaultBlockSize = 256 << 20

    private let ctx: DeviceContext
    private var blocks: [MemoryBlock] = []
    private var nextID = 0
    /// Bytes in use by live allocations, and the most ever in use.
    public private(set) var bytesInUse = 0
    public private(set) var peakBytesInUse = 0
    /// Bytes allocated from the driver.
    public var bytesReserved: Int { blocks.reduce(0) { $0 + $1.size } }
    /// The most device memory the pool reserves (`IFT_VULKAN_MEMORY_LIMIT`); nil: the device's.
    let limit: Int?

    init(_ ctx: DeviceContext, limit: Int? = nil) {
        self.ctx = ctx
        self.limit = limit
    }

    /// `IFT_VULKAN_MEMORY_LIMIT` of this process, checked.
    static func memoryLimitFromEnvironment() throws -> Int? {
        try memoryLimit(getenv("IFT_VULKAN_MEMORY_LIMIT").map { String(cString: $0) })
    }

    /// Bytes from `IFT_VULKAN_MEMORY_LIMIT`: a number with an optional K, M or G suffix (powers of
    /// 1024); nil when unset or empty.
    static func memoryLimit(_ text: String?) throws -> Int? {
        guard let text, !text.isEmpty else { return nil }
        var digits = Substring(text.uppercased())
        var scale = 1
        if let last = digits.last, let s = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30][String(last)] {
            scale = s
            digits = digits.dropLast()
        }
        guard let n = Int(digits), n > 0, n <= Int.max / scale else {
            throw IFTError.invalidArgument("IFT_VULKAN_MEMORY_LIMIT must be a size in bytes such as 4096, 512M or 8G, got '\(text)'")
        }
        return n * scale
    }

    /// Sizes and what to do, for a failed allocation of `bytes`.
    private func exhausted(_ bytes: Int, _ why: String) -> IFTError {
        let mb = { (b: Int) in "\(ProgressBar.fixed(Double(b) / Double(1 << 20), 1)) MiB" }
        return IFTError.outOfDeviceMemory(
            "\(why) (a tensor of \(mb(bytes)); \(mb(bytesInUse)) in use, \(mb(bytesReserved)) reserved from the device). "
                + "Use a smaller --batch-size or --max-length, --mode qlora (a 4-bit frozen base), another --device, "
                + "or --backend cpu")
    }

    func destroy() {
        for b in blocks { release(b) }
        blocks.removeAll()
    }

    private func release(_ b: MemoryBlock) {
        ctx.fn.destroyBuffer(ctx.handle, b.buffer, nil)
        ctx.fn.freeMemory(ctx.handle, b.memory, nil)
    }

    /// A range of at least `bytes` bytes of tensor memory.
    func allocate(_ bytes: Int) throws -> Allocation {
        let size = max(Self.alignment, (bytes + Self.alignment - 1) / Self.alignment * Self.alignment)
        for block in blocks {
            if let a = take(size, from: block) { return a }
        }
        let limit = ctx.info.maxMemoryAllocationSize > 0 ? ctx.info.maxMemoryAllocationSize : Int.max
        guard size <= limit else {
            throw exhausted(bytes, "the device's largest allocation is \(limit) bytes")
        }
        var blockSize = min(limit, max(Self.defaultBlockSize, size))
        if let cap = self.limit {
            guard bytesReserved + size <= cap else {
                throw exhausted(bytes, "IFT_VULKAN_MEMORY_LIMIT allows \(cap) bytes")
            }
            blockSize = min(blockSize, cap - bytesReserved)
        }
        let block: MemoryBlock
        do {
            block = try newBlock(blockSize)
        } catch IFTError.outOfDeviceMemory(let why) {
            throw exhausted(bytes, why)
        }
        blocks.append(block)
        guard let a = take(size, from: block) else {
            throw IFTError.outOfDeviceMemory("a new block of \(block.size) bytes could not hold \(size) bytes")
        }
        return a
    }

    func free(_ a: Allocation) {
        let b = a.block
        var i = b.free.firstIndex { $0.offset > a.offset } ?? b.free.count
        b.free.insert((a.offset, a.size), at: i)
        // Coalesce with the next and previous ranges.
        if i + 1 < b.free.count, b.free[i].offset + b.free[i].size == b.free[i + 1].offset {
            b.free[i].size += b.free[i + 1].size
            b.free.remove(at: i + 1)
        }
        if i > 0, b.free[i - 1].offset + b.free[i - 1].size == b.free[i].offset {
            b.free[i - 1].size += b.free[i].size
            b.free.remove(at: i)
            i -= 1
        }
        bytesInUse -= a.size
    }

    private func take(_ size: Int, from block: MemoryBlock) -> Allocation? {
        guard let i = block.free.firstIndex(where: { $0.size >= size }) else { return nil }
        let r = block.free[i]
        if r.size == size {
            block.free.remove(at: i)
        } else {
            block.free[i] = (r.offset + size, r.size - size)
        }
        bytesInUse += size
        peakBytesInUse = max(peakBytesInUse, bytesInUse)
        return Allocation(block: block, offset: r.offset, size: size)
    }

    /// A host-visible buffer for staging copies on devices without unified memory.
    func stagingBlock(_ size: Int) throws -> MemoryBlock {
        try newBlock(size, memoryType: ctx.stagingMemoryType, mapAlways: true)
    }

    func releaseStaging(_ b: MemoryBlock) { release(b) }

    private func newBlock(_ size: Int, memoryType: UInt32? = nil, mapAlways: Bool = false) throws -> MemoryBlock {
        let type = memoryType ?? ctx.deviceMemoryType
        var bi = VkBufferCreateInfo()
        bi.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO
        bi.size = VkDeviceSize(size)
        bi.usage =
            VK_BUFFER_USAGE_STORAGE_BUFFER_BIT.rawValue | VK_BUFFER_USAGE_TRANSFER_SRC_BIT.rawValue
            | VK_BUFFER_USAGE_TRANSFER_DST_BIT.rawValue
        bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE
        var buffer: VkBuffer?
        try check(ctx.fn.createBuffer(ctx.handle, &bi, nil, &buffer), "vkCreateBuffer(\(size) bytes)")
        guard let buffer else { throw IFTError.vulkan(call: "vkCreateBuffer", result: 0) }
        var req = VkMemoryRequirements()
        ctx.fn.getBufferMemoryRequirements(ctx.handle, buffer, &req)
        var ai = VkMemoryAllocateInfo()
        ai.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO
        ai.allocationSize = req.size
        ai.memoryTypeIndex = type
        var memory: VkDeviceMemory?
        let r = ctx.fn.allocateMemory(ctx.handle, &ai, nil, &memory)
        guard r == VK_SUCCESS, let memory else {
            ctx.fn.destroyBuffer(ctx.handle, buffer, nil)
            throw IFTError.outOfDeviceMemory(
                "allocating a block of \(size) bytes failed (VkResult \(r.rawValue)); \(bytesReserved) bytes already reserved")
        }
        try check(ctx.fn.bindBufferMemory(ctx.handle, buffer, memory, 0), "vkBindBufferMemory")
        var mapped: UnsafeMutableRawPointer?
        if ctx.unifiedMemory || mapAlways {
            try check(ctx.fn.mapMemory(ctx.handle, memory, 0, VkDeviceSize(VK_WHOLE_SIZE), 0, &mapped), "vkMapMemory")
        }
        nextID += 1
        return MemoryBlock(id: nextID, memory: memory, buffer: buffer, size: size, mapped: mapped)
    }
}

/// Tensor storage on the Vulkan backend: an allocation returned to its pool when the tensor dies.
/// The recorder retains the storage of every tensor a pending command uses, so memory is never
/// reused while the GPU may still touch it.
public final class VulkanStorage: TensorStorage {
    public var backendName: String { "vulkan" }
    let allocation: Allocation
    private let pool: MemoryPool

    init(allocation: Allocation, pool: MemoryPool) {
        self.allocation = allocation
        self.pool = pool
    }

    deinit { pool.free(allocation) }
}
