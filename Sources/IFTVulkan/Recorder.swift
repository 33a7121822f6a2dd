#if canImport(Glibc)
import Glibc
#endif
import CVulkan
import IFTCore

/// A buffer range bound to one shader binding, with the storage it belongs to (retained until the
/// recorded work completes).
struct BufferBinding {
    let allocation: Allocation
    /// Byte offset into the allocation and byte length of the bound range.
    let offset: Int
    let range: Int
    let owner: AnyObject

    var start: Int { allocation.offset + offset }
    var end: Int { start + range }

    func overlaps(_ o: BufferBinding) -> Bool {
        allocation.block === o.allocation.block && start < o.end && o.start < end
    }
}

/// Records many dispatches into one command buffer and submits them together: no host round-trip
/// per op. Barriers are precise: one is inserted only before a command that reads what an earlier
/// command since the last barrier wrote (or writes what it read or wrote).
public final class Recorder {
    private let ctx: DeviceContext
    private let memory: MemoryPool
    private let commandPool: VkCommandPool
    private let commandBuffer: VkCommandBuffer
    private let fence: VkFence
    private var descriptorPool: VkDescriptorPool?
    private var queryPool: VkQueryPool?
    static let queryCapacity: UInt32 = 4096
    static let descriptorSetsPerPool: UInt32 = 4096

    private var recording = false
    private var pendingReads: [BufferBinding] = []
    private var pendingWrites: [BufferBinding] = []
    private var retained: [AnyObject] = []
    private var stagingToRelease: [MemoryBlock] = []
    private var descriptorSetsUsed: UInt32 = 0
    private var timestampLabels: [String] = []
    /// Timestamps (label, nanoseconds since the first) of the last submission.
    public private(set) var lastTimestamps: [(label: String, ns: Double)] = []
    /// Commands recorded since the last submission (dispatches, copies) and barriers inserted.
    public private(set) var recordedDispatches = 0
    public private(set) var recordedBarriers = 0
    /// `IFT_VULKAN_PROFILE=1`: a timestamp after every dispatch, accumulated per pipeline in
    /// `profile` (GPU time between consecutive timestamps; approximate where dispatches overlap).
    public let profiling = getenv("IFT_VULKAN_PROFILE").map { String(cString: $0) != "0" } ?? false
    /// Per pipeline name: nanoseconds and dispatches, summed over submissions (when `profiling`).
    public private(set) var profile: [String: (ns: Double, count: Int)] = [:]

    /// Tests only: false records commands without the barriers `hazardCheck` would insert (to show
    /// that synchronization validation catches the hazard).
    var insertsBarriers = true
    /// Set once a submission reported a lost device: every later command fails the same way.
    public private(set) var lostDevice: IFTError?
    /// Submissions so far, and `IFT_VULKAN_INJECT_DEVICE_LOST=N` (fault testing): the N-th
    /// submission (1-based) is not sent and reports VK_ERROR_DEVICE_LOST instead.
    private(set) var submissions = 0
    var injectDeviceLostAt = getenv("IFT_VULKAN_INJECT_DEVICE_LOST").flatMap { Int(String(cString: $0)) }

    /// Forgets the accumulated `profile`.
    public func resetProfile() { profile = [:] }

    init(_ ctx: DeviceContext, memory: MemoryPool) throws {
        self.ctx = ctx
        self.memory = memory
        var pi = VkCommandPoolCreateInfo()
        pi.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO
        pi.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT.rawValue
        pi.queueFamilyIndex = ctx.queueFamily
        var pool: VkCommandPool?
        try check(ctx.fn.createCommandPool(ctx.handle, &pi, nil, &pool), "vkCreateCommandPool")
        guard let pool else { throw IFTError.vulkan(call: "vkCreateCommandPool", result: 0) }
        commandPool = pool
        var ai = VkCommandBufferAllocateInfo()
        ai.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO
        ai.commandPool = pool
        ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY
        ai.commandBufferCount = 1
        var cb: VkCommandBuffer?
        try check(ctx.fn.allocateCommandBuffers(ctx.handle, &ai, &cb), "vkAllocateCommandBuffers")
        guard let cb else { throw IFTError.vulkan(call: "vkAllocateCommandBuffers", result: 0) }
        commandBuffer = cb
        var fi = VkFenceCreateInfo()
        fi.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO
        var f: VkFence?
        try check(ctx.fn.createFence(ctx.handle, &fi, nil, &f), "vkCreateFence")
        guard let f else { throw IFTError.vulkan(call: "vkCreateFence", result: 0) }
        fence = f
        if !ctx.info.pushDescriptors {
            var size = VkDescriptorPoolSize(type: VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, descriptorCount: Self.descriptorSetsPerPool * 8)
            var dpi = VkDescriptorPoolCreateInfo()
            dpi.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO
            dpi.maxSets = Self.descriptorSetsPerPool
            dpi.poolSizeCount = 1
            var dp: VkDescriptorPool?
            try withUnsafePointer(to: &size) { sp in
                dpi.pPoolSizes = sp
                try check(ctx.fn.createDescriptorPool(ctx.handle, &dpi, nil, &dp), "vkCreateDescriptorPool")
            }
            descriptorPool = dp
        }
        if ctx.info.timestampsSupported {
            var qi = VkQueryPoolCreateInfo()
            qi.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO
            qi.queryType = VK_QUERY_TYPE_TIMESTAMP
            qi.queryCount = Self.queryCapacity
            var qp: VkQueryPool?
            try check(ctx.fn.createQueryPool(ctx.handle, &qi, nil, &qp), "vkCreateQueryPool")
            queryPool = qp
        }
    }

    func destroy() {
        if let queryPool { ctx.fn.destroyQueryPool(ctx.handle, queryPool, nil) }
        if let descriptorPool { ctx.fn.destroyDescriptorPool(ctx.handle, descriptorPool, nil) }
        for s in stagingToRelease { memory.releaseStaging(s) }
        stagingToRelease.removeAll()
        ctx.fn.destroyFence(ctx.handle, fence, nil)
        ctx.fn.destroyCommandPool(ctx.handle, commandPool, nil)
    }

    private func begin() throws {
        if let lostDevice { throw lostDevice }
        guard !recording else { return }
        var bi = VkCommandBufferBeginInfo()
        bi.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO
        bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT.rawValue
        try check(ctx.fn.beginCommandBuffer(commandBuffer, &bi), "vkBeginCommandBuffer")
        recording = true
        recordedDispatches = 0
        recordedBarriers = 0
        if let queryPool {
            ctx.fn.cmdResetQueryPool(commandBuffer, queryPool, 0, Self.queryCapacity)
        }
    }

    /// Inserts a barrier if a command touching `reads`/`writes` would race earlier commands.
    private func hazardCheck(reads: [BufferBinding], writes: [BufferBinding]) {
        let raw = reads.contains { r in pendingWrites.contains { $0.overlaps(r) } }
        let waw = writes.contains { w in pendingWrites.contains { $0.overlaps(w) } }
        let war = writes.contains { w in pendingReads.contains { $0.overlaps(w) } }
        if (raw || waw || war) && insertsBarriers {
            barrier()
        }
        pendingReads.append(contentsOf: reads)
        pendingWrites.append(contentsOf: writes)
    }

    private func barrier(dstStage: UInt32? = nil, dstAccess: UInt32? = nil) {
        let stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT.rawValue | VK_PIPELINE_STAGE_TRANSFER_BIT.rawValue
        var mb = VkMemoryBarrier()
        mb.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER
        mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT.rawValue | VK_ACCESS_TRANSFER_WRITE_BIT.rawValue
        mb.dstAccessMask =
            dstAccess
            ?? (VK_ACCESS_SHADER_READ_BIT.rawValue | VK_ACCESS_SHADER_WRITE_BIT.rawValue
                | VK_ACCESS_TRANSFER_READ_BIT.rawValue | VK_ACCESS_TRANSFER_WRITE_BIT.rawValue)
        ctx.fn.cmdPipelineBarrier(commandBuffer, stages, dstStage ?? stages, 0, 1, &mb, 0, nil, 0, nil)
        pendingReads.removeAll(keepingCapacity: true)
        pendingWrites.removeAll(keepingCapacity: true)
        recordedBarriers += 1
    }

    /// Records one dispatch of `pipeline` with the given bindings (in binding order), of which those
    /// at `writes` indices are written, push constants `push` (32-bit words), and `groups` workgroups.
    func dispatch(
        _ pipeline: Pipeline, bindings: [BufferBinding], writes: Set<Int>, push: [UInt32], groups: (Int, Int, Int)
    ) throws {
        guard groups.0 > 0, groups.1 > 0, groups.2 > 0 else { return }
        let maxCount = ctx.info.maxWorkgroupCount
        guard groups.0 <= maxCount[0], groups.1 <= maxCount[1], groups.2 <= maxCount[2] else {
            throw IFTError.invalidArgument(
                "\(pipeline.name): dispatch of \(groups) workgroups exceeds the device limit \(maxCount)")
        }
        for b in bindings where b.range > ctx.info.maxStorageBufferRange {
            throw IFTError.outOfDeviceMemory(
                "\(pipeline.name): binding of \(b.range) bytes exceeds the device's maxStorageBufferRange (\(ctx.info.maxStorageBufferRange))")
        }
        precondition(push.count * 4 <= PipelineCache.pushConstantBytes, "push constants exceed 128 bytes")
        if descriptorPool != nil, descriptorSetsUsed >= Self.descriptorSetsPerPool {
            try submit()
        }
        try begin()
        if profiling {
            if timestampLabels.count >= Int(Self.queryCapacity) - 2 { try submit(); try begin() }
            if timestampLabels.isEmpty { try timestamp("start") }
        }
        let reads = bindings.enumerated().filter { !writes.contains($0.offset) }.map(\.element)
        let written = bindings.enumerated().filter { writes.contains($0.offset) }.map(\.element)
        hazardCheck(reads: reads, writes: written)
        for b in bindings { retained.append(b.owner) }

        let cb = commandBuffer
        ctx.fn.cmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.handle)
        var infos = bindings.map {
            VkDescriptorBufferInfo(buffer: $0.allocation.buffer, offset: VkDeviceSize($0.start), range: VkDeviceSize($0.range))
        }
        try infos.withUnsafeMutableBufferPointer { ip in
            var set: VkDescriptorSet?
            if let pool = descriptorPool {
                var layout: VkDescriptorSetLayout? = pipeline.setLayout
                var ai = VkDescriptorSetAllocateInfo()
                ai.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO
                ai.descriptorPool = pool
                ai.descriptorSetCount = 1
                try withUnsafePointer(to: &layout) { lp in
                    ai.pSetLayouts = lp
                    try check(ctx.fn.allocateDescriptorSets(ctx.handle, &ai, &set), "vkAllocateDescriptorSets")
                }
                descriptorSetsUsed += 1
            }
            var writesInfo = (0..<ip.count).map { i -> VkWriteDescriptorSet in
                var w = VkWriteDescriptorSet()
                w.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET
                w.dstSet = set
                w.dstBinding = UInt32(i)
                w.descriptorCount = 1
                w.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
                w.pBufferInfo = UnsafePointer(ip.baseAddress! + i)
                return w
            }
            if let push = ctx.fn.cmdPushDescriptorSet {
                push(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.layout, 0, UInt32(writesInfo.count), &writesInfo)
            } else {
                ctx.fn.updateDescriptorSets(ctx.handle, UInt32(writesInfo.count), &writesInfo, 0, nil)
                ctx.fn.cmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.layout, 0, 1, &set, 0, nil)
            }
        }
        var words = push
        if !words.isEmpty {
            ctx.fn.cmdPushConstants(
                cb, pipeline.layout, VK_SHADER_STAGE_COMPUTE_BIT.rawValue, 0, UInt32(words.count * 4), &words)
        }
        ctx.fn.cmdDispatch(cb, UInt32(groups.0), UInt32(groups.1), UInt32(groups.2))
        recordedDispatches += 1
        if profiling { try timestamp(pipeline.name) }
    }

    /// Records a timestamp after all earlier commands; its value appears in `lastTimestamps` after
    /// the next submission. No-op when the device has no timestamps or the pool is full.
    public func timestamp(_ label: String) throws {
        guard let queryPool, timestampLabels.count < Int(Self.queryCapacity) else { return }
        try begin()
        ctx.fn.cmdWriteTimestamp(commandBuffer, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queryPool, UInt32(timestampLabels.count))
        timestampLabels.append(label)
    }

    /// Records a copy of `bytes` bytes between two buffer ranges.
    func copy(from src: BufferBinding, to dst: BufferBinding) throws {
        try begin()
        hazardCheck(reads: [src], writes: [dst])
        retained.append(src.owner)
        retained.append(dst.owner)
        var region = VkBufferCopy(srcOffset: VkDeviceSize(src.start), dstOffset: VkDeviceSize(dst.start), size: VkDeviceSize(src.range))
        ctx.fn.cmdCopyBuffer(commandBuffer, src.allocation.buffer, dst.allocation.buffer, 1, &region)
        recordedDispatches += 1
    }

    /// Records a fill of a range with a 32-bit pattern.
    func fill(_ dst: BufferBinding, with word: UInt32 = 0) throws {
        try begin()
        hazardCheck(reads: [], writes: [dst])
        retained.append(dst.owner)
        ctx.fn.cmdFillBuffer(commandBuffer, dst.allocation.buffer, VkDeviceSize(dst.start), VkDeviceSize(dst.range), word)
        recordedDispatches += 1
    }

    /// Keeps a staging block alive until the recorded work completes, then frees it.
    func releaseAfterSubmit(_ staging: MemoryBlock) { stagingToRelease.append(staging) }

    /// Whether commands are waiting to be submitted.
    public var hasPendingWork: Bool { recording }

    /// Submits everything recorded and waits for it.
    public func submit() throws {
        if let lostDevice { throw lostDevice }
        guard recording else { return }
        do {
            try submitRecorded()
        } catch let error as IFTError {
            if case .deviceLost = error { lostDevice = error }
            throw error
        }
    }

    private func submitRecorded() throws {
        // Make device writes visible to the host before the fence signals.
        barrier(dstStage: VK_PIPELINE_STAGE_HOST_BIT.rawValue, dstAccess: VK_ACCESS_HOST_READ_BIT.rawValue)
        recording = false
        try check(ctx.fn.endCommandBuffer(commandBuffer), "vkEndCommandBuffer")
        var cb: VkCommandBuffer? = commandBuffer
        var si = VkSubmitInfo()
        si.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO
        si.commandBufferCount = 1
        submissions += 1
        let r = withUnsafePointer(to: &cb) { cbp -> VkResult in
            if submissions == injectDeviceLostAt { return VK_ERROR_DEVICE_LOST }
            si.pCommandBuffers = cbp
            return ctx.fn.queueSubmit(ctx.queue, 1, &si, fence)
        }
        try check(r, "vkQueueSubmit")
        var f: VkFence? = fence
        try check(ctx.fn.waitForFences(ctx.handle, 1, &f, VkBool32(VK_TRUE), UInt64.max), "vkWaitForFences")
        try check(ctx.fn.resetFences(ctx.handle, 1, &f), "vkResetFences")
        try check(ctx.fn.resetCommandBuffer(commandBuffer, 0), "vkResetCommandBuffer")
        if let pool = descriptorPool {
            _ = ctx.fn.resetDescriptorPool(ctx.handle, pool, 0)
            descriptorSetsUsed = 0
        }
        try collectTimestamps()
        retained.removeAll(keepingCapacity: true)
        for s in stagingToRelease { memory.releaseStaging(s) }
        stagingToRelease.removeAll()
        pendingReads.removeAll()
        pendingWrites.removeAll()
    }

    private func collectTimestamps() throws {
        defer { timestampLabels.removeAll() }
        guard let queryPool, !timestampLabels.isEmpty else {
            lastTimestamps = []
            return
        }
        let n = timestampLabels.count
        var values = [UInt64](repeating: 0, count: n)
        let flags = VK_QUERY_RESULT_64_BIT.rawValue | VK_QUERY_RESULT_WAIT_BIT.rawValue
        try values.withUnsafeMutableBytes { vp in
            try check(
                ctx.fn.getQueryPoolResults(
                    ctx.handle, queryPool, 0, UInt32(n), vp.count, vp.baseAddress, 8, flags),
                "vkGetQueryPoolResults")
        }
        let first = values[0]
        lastTimestamps = zip(timestampLabels, values).map {
            ($0, Double($1 &- first) * ctx.info.timestampPeriodNs)
        }
        if profiling {
            for i in 1..<n where timestampLabels[i] != "start" {
                let ns = Double(values[i] &- values[i - 1]) * ctx.info.timestampPeriodNs
                let old = profile[timestampLabels[i]] ?? (0, 0)
                profile[timestampLabels[i]] = (old.ns + ns, old.count + 1)
            }
        }
    }
}
