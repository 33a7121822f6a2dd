import IFTCPU
import IFTCore
import IFTVulkan

/// The backends a user can name.
enum BackendKind: String, CaseIterable {
    case vulkan
    case cpu
    case cpuRef = "cpu-ref"

    func make(device: Int? = nil) throws -> any Backend {
        switch self {
        case .vulkan: return try VulkanBackend(deviceIndex: device)
        case .cpu: return CPUBackend()
        case .cpuRef: return CPUReferenceBackend()
        }
    }
}
