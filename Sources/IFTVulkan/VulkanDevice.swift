import CVulkan
import IFTCore

/// The handles every part of the runtime needs: the logical device, its functions and queue, and the
/// memory types chosen for it.
struct DeviceContext {
    let info: DeviceInfo
    let handle: VkDevice
    let fn: DeviceFunctions
    let queue: VkQueue
    let queueFamily: UInt32
    /// Memory type for tensors (device-local) and for staging (host-visible, coherent).
    let deviceMemoryType: UInt32
    let stagingMemoryType: UInt32
    /// True when tensor memory is also host-visible (lavapipe, integrated GPUs, resizable BAR):
    /// tensors are then read and written in place with no staging copies.
    let unifiedMemory: Bool
}

/// A logical device on one physical device: its queue, memory pool, pipelines and recorder.
public final class VulkanDevice {
    public let instance: VulkanInstance
    let ctx: DeviceContext
    public let memory: MemoryPool
    let pipelines: PipelineCache
    public let recorder: Recorder

    public var info: DeviceInfo { ctx.info }
    public var unifiedMemory: Bool { ctx.unifiedMemory }

    /// Opens device `index` of `instance` (see `VulkanInstance.selectDevice`). `forceStaging`
    /// treats the device as a discrete GPU even when its memory is host-visible: tensors are then
    /// only reached through staging copies (tests use it to run that path on lavapipe).
    public init(instance: VulkanInstance, index: Int, forceStaging: Bool = false) throws {
        let memoryLimit = try MemoryPool.memoryLimitFromEnvironment()
        guard index >= 0, index < instance.physicalDevices.count else {
            throw IFTError.deviceIndexOutOfRange(index: index, count: instance.physicalDevices.count)
        }
        self.instance = instance
        var info = instance.devices[index]
        // GPU-assisted validation in the layer Debian 12 ships (1.3.239) reports every pushed
        // descriptor as uninitialized (KhronosGroup/Vulkan-ValidationLayers#5321): under it,
        // descriptors go through descriptor sets instead.
        if instance.validationFeatures.contains(.gpuAssisted) { info.pushDescriptors = false }
        let physical = instance.physicalDevices[index]
        let ifn = instance.fn

        var familyCount: UInt32 = 0
        ifn.getPhysicalDeviceQueueFamilyProperties(physical, &familyCount, nil)
        var families = [VkQueueFamilyProperties](repeating: VkQueueFamilyProperties(), count: Int(familyCount))
        ifn.getPhysicalDeviceQueueFamilyProperties(physical, &familyCount, &families)
        guard let family = families.prefix(Int(familyCount)).firstIndex(where: {
            $0.queueFlags & VK_QUEUE_COMPUTE_BIT.rawValue != 0
        }) else {
            throw IFTError.vulkanUnavailable("device \(index) (\(info.name)) has no compute queue")
        }

        var mem = VkPhysicalDeviceMemoryProperties()
        ifn.getPhysicalDeviceMemoryProperties(physical, &mem)
        let types: [VkMemoryType] = withUnsafeBytes(of: mem.memoryTypes) {
            Array($0.bindMemory(to: VkMemoryType.self).prefix(Int(mem.memoryTypeCount)))
        }
        let local = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT.rawValue
        let hostVisible = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT.rawValue | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT.rawValue
        func find(_ flags: UInt32) -> Int? { types.firstIndex { $0.propertyFlags & flags == flags } }
        // Memory that is device-local and host-visible without being a small BAR window is unified.
        var localHeapSizes: [UInt64] = []
        withUnsafeBytes(of: mem.memoryHeaps) { raw in
            localHeapSizes = raw.bindMemory(to: VkMemoryHeap.self).prefix(Int(mem.memoryHeapCount)).map { $0.size }
        }
        let deviceMemoryType: UInt32, stagingMemoryType: UInt32, unifiedMemory: Bool
        if !forceStaging, let both = find(local | hostVisible), localHeapSizes[Int(types[both].heapIndex)] >= 1 << 30,
            info.type != "discrete GPU" || localHeapSizes.count == 1
        {
            (deviceMemoryType, stagingMemoryType, unifiedMemory) = (UInt32(both), UInt32(both), true)
        } else if let l = find(local), let h = find(hostVisible) {
            (deviceMemoryType, stagingMemoryType, unifiedMemory) = (UInt32(l), UInt32(h), false)
        } else {
            throw IFTError.vulkanUnavailable("device \(index) (\(info.name)) has no usable memory types")
        }

        // Features the kernels may use, enabled when present.
        var f11 = VkPhysicalDeviceVulkan11Features()
        f11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES
        f11.storageBuffer16BitAccess = info.storage16Bit ? 1 : 0
        var f12 = VkPhysicalDeviceVulkan12Features()
        f12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES
        f12.shaderFloat16 = info.shaderFloat16 ? 1 : 0
        f12.shaderInt8 = info.shaderInt8 ? 1 : 0
        f12.storageBuffer8BitAccess = info.storage8Bit ? 1 : 0
        let extensions = info.pushDescriptors ? ["VK_KHR_push_descriptor"] : []

        var priority: Float = 1
        var device: VkDevice?
        let result: VkResult = withUnsafeMutablePointer(to: &f12) { p12 in
            f11.pNext = UnsafeMutableRawPointer(p12)
            return withUnsafeMutablePointer(to: &f11) { p11 in
                withCStrings(extensions) { extPtrs in
                    var queueInfo = VkDeviceQueueCreateInfo()
                    queueInfo.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO
                    queueInfo.queueFamilyIndex = UInt32(family)
                    queueInfo.queueCount = 1
                    return withUnsafePointer(to: &priority) { pp in
                        queueInfo.pQueuePriorities = pp
                        return withUnsafePointer(to: &queueInfo) { qp in
                            var di = VkDeviceCreateInfo()
                            di.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO
                            di.pNext = UnsafeRawPointer(p11)
                            di.queueCreateInfoCount = 1
                            di.pQueueCreateInfos = qp
                            di.enabledExtensionCount = UInt32(extPtrs.count)
                            di.ppEnabledExtensionNames = extPtrs.baseAddress
                            return ifn.createDevice(physical, &di, nil, &device)
                        }
                    }
                }
            }
        }
        try check(result, "vkCreateDevice")
        guard let device else { throw IFTError.vulkanUnavailable("vkCreateDevice returned no device") }
        let fn = try DeviceFunctions(ifn, device, pushDescriptors: info.pushDescriptors)
        var q: VkQueue?
        fn.getDeviceQueue(device, UInt32(family), 0, &q)
        guard let q else { throw IFTError.vulkanUnavailable("vkGetDeviceQueue returned no queue") }
        ctx = DeviceContext(
            info: info, handle: device, fn: fn, queue: q, queueFamily: UInt32(family),
            deviceMemoryType: deviceMemoryType, stagingMemoryType: stagingMemoryType, unifiedMemory: unifiedMemory)
        memory = MemoryPool(ctx, limit: memoryLimit)
        pipelines = PipelineCache(ctx)
        do {
            recorder = try Recorder(ctx, memory: memory)
        } catch {
            pipelines.destroy()
            memory.destroy()
            fn.destroyDevice(device, nil)
            throw error
        }
    }

    deinit {
        _ = ctx.fn.deviceWaitIdle(ctx.handle)
        recorder.destroy()
        pipelines.destroy()
        memory.destroy()
        ctx.fn.destroyDevice(ctx.handle, nil)
    }

    /// Errors the validation layer reported since the last call (empty without validation).
    public func drainValidationErrors() -> [String] { instance.validationLog.drain() }
}
