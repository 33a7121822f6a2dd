import CVulkan
import IFTCore

/// The instance-level Vulkan functions the engine calls, loaded once per instance.
struct InstanceFunctions {
    let destroyInstance: PFN_vkDestroyInstance
    let enumeratePhysicalDevices: PFN_vkEnumeratePhysicalDevices
    let getPhysicalDeviceProperties2: PFN_vkGetPhysicalDeviceProperties2
    let getPhysicalDeviceFeatures2: PFN_vkGetPhysicalDeviceFeatures2
    let getPhysicalDeviceMemoryProperties: PFN_vkGetPhysicalDeviceMemoryProperties
    let getPhysicalDeviceQueueFamilyProperties: PFN_vkGetPhysicalDeviceQueueFamilyProperties
    let enumerateDeviceExtensionProperties: PFN_vkEnumerateDeviceExtensionProperties
    let createDevice: PFN_vkCreateDevice
    let getDeviceProcAddr: PFN_vkGetDeviceProcAddr

    init(_ l: VulkanLoader, _ i: VkInstance) throws {
        destroyInstance = try l.instanceFunction(i, "vkDestroyInstance", as: PFN_vkDestroyInstance.self)
        enumeratePhysicalDevices = try l.instanceFunction(i, "vkEnumeratePhysicalDevices", as: PFN_vkEnumeratePhysicalDevices.self)
        getPhysicalDeviceProperties2 = try l.instanceFunction(i, "vkGetPhysicalDeviceProperties2", as: PFN_vkGetPhysicalDeviceProperties2.self)
        getPhysicalDeviceFeatures2 = try l.instanceFunction(i, "vkGetPhysicalDeviceFeatures2", as: PFN_vkGetPhysicalDeviceFeatures2.self)
        getPhysicalDeviceMemoryProperties = try l.instanceFunction(i, "vkGetPhysicalDeviceMemoryProperties", as: PFN_vkGetPhysicalDeviceMemoryProperties.self)
        getPhysicalDeviceQueueFamilyProperties = try l.instanceFunction(i, "vkGetPhysicalDeviceQueueFamilyProperties", as: PFN_vkGetPhysicalDeviceQueueFamilyProperties.self)
        enumerateDeviceExtensionProperties = try l.instanceFunction(i, "vkEnumerateDeviceExtensionProperties", as: PFN_vkEnumerateDeviceExtensionProperties.self)
        createDevice = try l.instanceFunction(i, "vkCreateDevice", as: PFN_vkCreateDevice.self)
        getDeviceProcAddr = try l.instanceFunction(i, "vkGetDeviceProcAddr", as: PFN_vkGetDeviceProcAddr.self)
    }
}

/// The device-level Vulkan functions the engine calls, loaded once per device.
struct DeviceFunctions {
    let destroyDevice: PFN_vkDestroyDevice
    let deviceWaitIdle: PFN_vkDeviceWaitIdle
    let getDeviceQueue: PFN_vkGetDeviceQueue
    let allocateMemory: PFN_vkAllocateMemory
    let freeMemory: PFN_vkFreeMemory
    let mapMemory: PFN_vkMapMemory
    let createBuffer: PFN_vkCreateBuffer
    let destroyBuffer: PFN_vkDestroyBuffer
    let getBufferMemoryRequirements: PFN_vkGetBufferMemoryRequirements
    let bindBufferMemory: PFN_vkBindBufferMemory
    let createShaderModule: PFN_vkCreateShaderModule
    let destroyShaderModule: PFN_vkDestroyShaderModule
    let createDescriptorSetLayout: PFN_vkCreateDescriptorSetLayout
    let destroyDescriptorSetLayout: PFN_vkDestroyDescriptorSetLayout
    let createPipelineLayout: PFN_vkCreatePipelineLayout
    let destroyPipelineLayout: PFN_vkDestroyPipelineLayout
    let createComputePipelines: PFN_vkCreateComputePipelines
    let destroyPipeline: PFN_vkDestroyPipeline
    let createDescriptorPool: PFN_vkCreateDescriptorPool
    let destroyDescriptorPool: PFN_vkDestroyDescriptorPool
    let resetDescriptorPool: PFN_vkResetDescriptorPool
    let allocateDescriptorSets: PFN_vkAllocateDescriptorSets
    let updateDescriptorSets: PFN_vkUpdateDescriptorSets
    let createCommandPool: PFN_vkCreateCommandPool
    let destroyCommandPool: PFN_vkDestroyCommandPool
    let allocateCommandBuffers: PFN_vkAllocateCommandBuffers
    let resetCommandBuffer: PFN_vkResetCommandBuffer
    let beginCommandBuffer: PFN_vkBeginCommandBuffer
    let endCommandBuffer: PFN_vkEndCommandBuffer
    let createFence: PFN_vkCreateFence
    let destroyFence: PFN_vkDestroyFence
    let resetFences: PFN_vkResetFences
    let waitForFences: PFN_vkWaitForFences
    let queueSubmit: PFN_vkQueueSubmit
    let createQueryPool: PFN_vkCreateQueryPool
    let destroyQueryPool: PFN_vkDestroyQueryPool
    let getQueryPoolResults: PFN_vkGetQueryPoolResults
    let cmdResetQueryPool: PFN_vkCmdResetQueryPool
    let cmdWriteTimestamp: PFN_vkCmdWriteTimestamp
    let cmdBindPipeline: PFN_vkCmdBindPipeline
    let cmdBindDescriptorSets: PFN_vkCmdBindDescriptorSets
    let cmdPushConstants: PFN_vkCmdPushConstants
    let cmdDispatch: PFN_vkCmdDispatch
    let cmdPipelineBarrier: PFN_vkCmdPipelineBarrier
    let cmdCopyBuffer: PFN_vkCmdCopyBuffer
    let cmdFillBuffer: PFN_vkCmdFillBuffer
    /// Present when VK_KHR_push_descriptor is enabled.
    let cmdPushDescriptorSet: PFN_vkCmdPushDescriptorSetKHR?

    init(_ i: InstanceFunctions, _ d: VkDevice, pushDescriptors: Bool) throws {
        func f<F>(_ name: String, _ t: F.Type) throws -> F {
            guard let raw = i.getDeviceProcAddr(d, name) else {
                throw IFTError.vulkanUnavailable("the Vulkan driver does not provide \(name)")
            }
            return unsafeBitCast(raw, to: F.self)
        }
        destroyDevice = try f("vkDestroyDevice", PFN_vkDestroyDevice.self)
        deviceWaitIdle = try f("vkDeviceWaitIdle", PFN_vkDeviceWaitIdle.self)
        getDeviceQueue = try f("vkGetDeviceQueue", PFN_vkGetDeviceQueue.self)
        allocateMemory = try f("vkAllocateMemory", PFN_vkAllocateMemory.self)
        freeMemory = try f("vkFreeMemory", PFN_vkFreeMemory.self)
        mapMemory = try f("vkMapMemory", PFN_vkMapMemory.self)
        createBuffer = try f("vkCreateBuffer", PFN_vkCreateBuffer.self)
        destroyBuffer = try f("vkDestroyBuffer", PFN_vkDestroyBuffer.self)
        getBufferMemoryRequirements = try f("vkGetBufferMemoryRequirements", PFN_vkGetBufferMemoryRequirements.self)
        bindBufferMemory = try f("vkBindBufferMemory", PFN_vkBindBufferMemory.self)
        createShaderModule = try f("vkCreateShaderModule", PFN_vkCreateShaderModule.self)
        destroyShaderModule = try f("vkDestroyShaderModule", PFN_vkDestroyShaderModule.self)
        createDescriptorSetLayout = try f("vkCreateDescriptorSetLayout", PFN_vkCreateDescriptorSetLayout.self)
        destroyDescriptorSetLayout = try f("vkDestroyDescriptorSetLayout", PFN_vkDestroyDescriptorSetLayout.self)
        createPipelineLayout = try f("vkCreatePipelineLayout", PFN_vkCreatePipelineLayout.self)
        destroyPipelineLayout = try f("vkDestroyPipelineLayout", PFN_vkDestroyPipelineLayout.self)
        createComputePipelines = try f("vkCreateComputePipelines", PFN_vkCreateComputePipelines.self)
        destroyPipeline = try f("vkDestroyPipeline", PFN_vkDestroyPipeline.self)
        createDescriptorPool = try f("vkCreateDescriptorPool", PFN_vkCreateDescriptorPool.self)
        destroyDescriptorPool = try f("vkDestroyDescriptorPool", PFN_vkDestroyDescriptorPool.self)
        resetDescriptorPool = try f("vkResetDescriptorPool", PFN_vkResetDescriptorPool.self)
        allocateDescriptorSets = try f("vkAllocateDescriptorSets", PFN_vkAllocateDescriptorSets.self)
        updateDescriptorSets = try f("vkUpdateDescriptorSets", PFN_vkUpdateDescriptorSets.self)
        createCommandPool = try f("vkCreateCommandPool", PFN_vkCreateCommandPool.self)
        destroyCommandPool = try f("vkDestroyCommandPool", PFN_vkDestroyCommandPool.self)
        allocateCommandBuffers = try f("vkAllocateCommandBuffers", PFN_vkAllocateCommandBuffers.self)
        resetCommandBuffer = try f("vkResetCommandBuffer", PFN_vkResetCommandBuffer.self)
        beginCommandBuffer = try f("vkBeginCommandBuffer", PFN_vkBeginCommandBuffer.self)
        endCommandBuffer = try f("vkEndCommandBuffer", PFN_vkEndCommandBuffer.self)
        createFence = try f("vkCreateFence", PFN_vkCreateFence.self)
        destroyFence = try f("vkDestroyFence", PFN_vkDestroyFence.self)
        resetFences = try f("vkResetFences", PFN_vkResetFences.self)
        waitForFences = try f("vkWaitForFences", PFN_vkWaitForFences.self)
        queueSubmit = try f("vkQueueSubmit", PFN_vkQueueSubmit.self)
        createQueryPool = try f("vkCreateQueryPool", PFN_vkCreateQueryPool.self)
        destroyQueryPool = try f("vkDestroyQueryPool", PFN_vkDestroyQueryPool.self)
        getQueryPoolResults = try f("vkGetQueryPoolResults", PFN_vkGetQueryPoolResults.self)
        cmdResetQueryPool = try f("vkCmdResetQueryPool", PFN_vkCmdResetQueryPool.self)
        cmdWriteTimestamp = try f("vkCmdWriteTimestamp", PFN_vkCmdWriteTimestamp.self)
        cmdBindPipeline = try f("vkCmdBindPipeline", PFN_vkCmdBindPipeline.self)
        cmdBindDescriptorSets = try f("vkCmdBindDescriptorSets", PFN_vkCmdBindDescriptorSets.self)
        cmdPushConstants = try f("vkCmdPushConstants", PFN_vkCmdPushConstants.self)
        cmdDispatch = try f("vkCmdDispatch", PFN_vkCmdDispatch.self)
        cmdPipelineBarrier = try f("vkCmdPipelineBarrier", PFN_vkCmdPipelineBarrier.self)
        cmdCopyBuffer = try f("vkCmdCopyBuffer", PFN_vkCmdCopyBuffer.self)
        cmdFillBuffer = try f("vkCmdFillBuffer", PFN_vkCmdFillBuffer.self)
        cmdPushDescriptorSet = pushDescriptors ? try f("vkCmdPushDescriptorSetKHR", PFN_vkCmdPushDescriptorSetKHR.self) : nil
    }
}
