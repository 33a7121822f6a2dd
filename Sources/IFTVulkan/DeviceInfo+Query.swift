import CVulkan
import IFTCore

extension VulkanInstance {
    /// Reads a physical device's properties, limits and optional features.
    static func describe(_ fn: InstanceFunctions, _ pd: VkPhysicalDevice, index: Int) throws -> DeviceInfo {
        var extCount: UInt32 = 0
        try check(fn.enumerateDeviceExtensionProperties(pd, nil, &extCount, nil), "vkEnumerateDeviceExtensionProperties")
        var exts = [VkExtensionProperties](repeating: VkExtensionProperties(), count: Int(extCount))
        try check(fn.enumerateDeviceExtensionProperties(pd, nil, &extCount, &exts), "vkEnumerateDeviceExtensionProperties")
        let extensions = Set(exts.prefix(Int(extCount)).map { string(fromCArray: $0.extensionName) })

        var subgroup = VkPhysicalDeviceSubgroupProperties()
        subgroup.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES
        var driver = VkPhysicalDeviceDriverProperties()
        driver.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES
        var props = VkPhysicalDeviceProperties2()
        props.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2
        withUnsafeMutablePointer(to: &subgroup) { sp in
            withUnsafeMutablePointer(to: &driver) { dp in
                sp.pointee.pNext = UnsafeMutableRawPointer(dp)
                props.pNext = UnsafeMutableRawPointer(sp)
                fn.getPhysicalDeviceProperties2(pd, &props)
                sp.pointee.pNext = nil
            }
        }
        props.pNext = nil

        var f11 = VkPhysicalDeviceVulkan11Features()
        f11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES
        var f12 = VkPhysicalDeviceVulkan12Features()
        f12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES
        var features = VkPhysicalDeviceFeatures2()
        features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2
        let apiMinor = (props.properties.apiVersion >> 12) & 0x3FF
        let apiMajor = props.properties.apiVersion >> 22
        let is12 = apiMajor > 1 || apiMinor >= 2
        if is12 {
            withUnsafeMutablePointer(to: &f11) { p11 in
                withUnsafeMutablePointer(to: &f12) { p12 in
                    p11.pointee.pNext = UnsafeMutableRawPointer(p12)
                    features.pNext = UnsafeMutableRawPointer(p11)
                    fn.getPhysicalDeviceFeatures2(pd, &features)
                    p11.pointee.pNext = nil
                }
            }
            features.pNext = nil
        }

        var mem = VkPhysicalDeviceMemoryProperties()
        fn.getPhysicalDeviceMemoryProperties(pd, &mem)
        var deviceLocal = 0
        withUnsafeBytes(of: mem.memoryHeaps) { raw in
            let heaps = raw.bindMemory(to: VkMemoryHeap.self)
            for h in heaps.prefix(Int(mem.memoryHeapCount))
            where h.flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT.rawValue != 0 {
                deviceLocal += Int(h.size)
            }
        }

        var maint3 = VkPhysicalDeviceMaintenance3Properties()
        maint3.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES
        var p2 = VkPhysicalDeviceProperties2()
        p2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2
        withUnsafeMutablePointer(to: &maint3) { mp in
            p2.pNext = UnsafeMutableRawPointer(mp)
            fn.getPhysicalDeviceProperties2(pd, &p2)
        }

        let l = props.properties.limits
        let typeName: String
        switch props.properties.deviceType {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: typeName = "discrete GPU"
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: typeName = "integrated GPU"
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: typeName = "virtual GPU"
        case VK_PHYSICAL_DEVICE_TYPE_CPU: typeName = "CPU"
        default: typeName = "other"
        }
        let v = props.properties.apiVersion
        return DeviceInfo(
            index: index,
            name: string(fromCArray: props.properties.deviceName),
            type: typeName,
            vendorID: props.properties.vendorID,
            driverName: string(fromCArray: driver.driverName),
            driverInfo: string(fromCArray: driver.driverInfo),
            apiVersion: "\(v >> 22).\((v >> 12) & 0x3FF).\(v & 0xFFF)",
            subgroupSize: Int(subgroup.subgroupSize),
            maxSharedMemory: Int(l.maxComputeSharedMemorySize),
            maxWorkgroupInvocations: Int(l.maxComputeWorkGroupInvocations),
            maxWorkgroupCount: [Int(l.maxComputeWorkGroupCount.0), Int(l.maxComputeWorkGroupCount.1), Int(l.maxComputeWorkGroupCount.2)],
            maxStorageBufferRange: Int(l.maxStorageBufferRange),
            minStorageBufferOffsetAlignment: Int(l.minStorageBufferOffsetAlignment),
            maxPushConstantsSize: Int(l.maxPushConstantsSize),
            maxMemoryAllocationSize: Int(maint3.maxMemoryAllocationSize),
            deviceLocalMemory: deviceLocal,
            timestampPeriodNs: Double(l.timestampPeriod),
            timestampsSupported: l.timestampComputeAndGraphics != 0,
            shaderFloat16: f12.shaderFloat16 != 0,
            storage16Bit: f11.storageBuffer16BitAccess != 0,
            storage8Bit: f12.storageBuffer8BitAccess != 0,
            shaderInt8: f12.shaderInt8 != 0,
            pushDescriptors: extensions.contains("VK_KHR_push_descriptor"),
            bufferDeviceAddress: f12.bufferDeviceAddress != 0,
            cooperativeMatrixNV: extensions.contains("VK_NV_cooperative_matrix"),
            cooperativeMatrixKHR: extensions.contains("VK_KHR_cooperative_matrix"),
            shaderBFloat16: extensions.contains("VK_KHR_shader_bfloat16")
        )
    }
}
