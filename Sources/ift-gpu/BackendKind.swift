import IFTCPU
import IFTCore
import IFTVulkan

/// The backends a user can name.
enum BackendKind: String, CaseIterable {
    /// Vulkan when a GPU is present, else the CPU (lavapipe, Mesa's CPU Vulkan driver, is slower
    /// than the cpu backend).
    case auto
    case vulkan
    case cpu
    case cpuRef = "cpu-ref"

    func make(device: Int? = nil) throws -> any Backend {
        switch self {
        case .auto:
            if device != nil { return try VulkanBackend(deviceIndex: device) }
            if let instance = try? VulkanInstance(validation: false),
                instance.devices.contains(where: { $0.type != "CPU" })
            {
                return try VulkanBackend(deviceIndex: nil)
            }
            return try CPUBackend()
        case .vulkan: return try VulkanBackend(deviceIndex: device)
        case .cpu: return try CPUBackend()
        case .cpuRef: return CPUReferenceBackend()
        }
    }
}
