import CVulkan
import IFTCore

#if canImport(Glibc)
import Glibc
#endif

/// Opens the Vulkan loader (`libvulkan.so.1`) at run time. Linking against it instead would make a
/// machine without the loader fail at start-up with a dynamic-linker message; opening it lets
/// `ift-gpu` explain what to install and fall back to the CPU.
struct VulkanLoader {
    let getInstanceProcAddr: PFN_vkGetInstanceProcAddr

    /// The library names tried in order; `IFT_VULKAN_LOADER` overrides them (used by tests to
    /// simulate a machine without a loader).
    static var candidates: [String] {
        if let path = getenv("IFT_VULKAN_LOADER") { return [String(cString: path)] }
        return ["libvulkan.so.1", "libvulkan.so"]
    }

    static func open() throws -> VulkanLoader {
        var errors: [String] = []
        for name in candidates {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
                errors.append(dlerror().map { String(cString: $0) } ?? name)
                continue
            }
            guard let sym = dlsym(handle, "vkGetInstanceProcAddr") else {
                errors.append("\(name) has no vkGetInstanceProcAddr")
                continue
            }
            return VulkanLoader(getInstanceProcAddr: unsafeBitCast(sym, to: PFN_vkGetInstanceProcAddr.self))
        }
        throw IFTError.vulkanUnavailable(
            "the Vulkan loader could not be opened (\(errors.joined(separator: "; "))). Install it "
                + "(Debian: apt-get install libvulkan1 mesa-vulkan-drivers) or use --backend cpu.")
    }

    /// A global or instance-level function; throws when the loader does not provide it.
    func instanceFunction<F>(_ instance: VkInstance?, _ name: String, as type: F.Type) throws -> F {
        guard let raw = getInstanceProcAddr(instance, name) else {
            throw IFTError.vulkanUnavailable("the Vulkan loader does not provide \(name)")
        }
        return unsafeBitCast(raw, to: F.self)
    }
}

/// Checks a VkResult, turning failures into `IFTError.vulkan` (or a clearer out-of-memory error).
@inline(__always)
func check(_ result: VkResult, _ call: @autoclosure () -> String) throws {
    guard result == VK_SUCCESS else {
        if result == VK_ERROR_OUT_OF_DEVICE_MEMORY || result == VK_ERROR_OUT_OF_HOST_MEMORY {
            throw IFTError.outOfDeviceMemory("\(call()) returned \(result.rawValue)")
        }
        if result == VK_ERROR_DEVICE_LOST {
            throw IFTError.deviceLost("\(call()) returned VK_ERROR_DEVICE_LOST")
        }
        throw IFTError.vulkan(call: call(), result: result.rawValue)
    }
}
