import CVulkan
import IFTCore

#if canImport(Glibc)
import Glibc
#endif

/// What `ift-gpu devices` prints and what the engine consults to choose kernels: one physical
/// device's identity, limits and the optional features the engine uses.
public struct DeviceInfo: Sendable {
    public var index: Int
    public var name: String
    public var type: String
    public var vendorID: UInt32
    public var driverName: String
    public var driverInfo: String
    public var apiVersion: String
    public var subgroupSize: Int
    public var maxSharedMemory: Int
    public var maxWorkgroupInvocations: Int
    public var maxWorkgroupCount: [Int]
    public var maxStorageBufferRange: Int
    public var minStorageBufferOffsetAlignment: Int
    public var maxPushConstantsSize: Int
    public var maxMemoryAllocationSize: Int
    public var deviceLocalMemory: Int
    public var timestampPeriodNs: Double
    public var timestampsSupported: Bool
    public var shaderFloat16: Bool
    public var storage16Bit: Bool
    public var storage8Bit: Bool
    public var shaderInt8: Bool
    public var pushDescriptors: Bool
    public var bufferDeviceAddress: Bool
    public var cooperativeMatrixNV: Bool
    public var cooperativeMatrixKHR: Bool
    public var shaderBFloat16: Bool

    /// Optional features as `name: yes/no` pairs, in a stable order.
    public var features: [(String, Bool)] {
        [
            ("fp16 arithmetic", shaderFloat16), ("16-bit storage", storage16Bit), ("8-bit storage", storage8Bit),
            ("int8 arithmetic", shaderInt8), ("push descriptors", pushDescriptors),
            ("buffer device address", bufferDeviceAddress), ("timestamps", timestampsSupported),
            ("cooperative matrix (NV)", cooperativeMatrixNV), ("cooperative matrix (KHR)", cooperativeMatrixKHR),
            ("bfloat16", shaderBFloat16),
        ]
    }

    /// Rank used to pick a default device: discrete GPU first, CPU implementations last.
    var preference: Int {
        switch type {
        case "discrete GPU": return 0
        case "integrated GPU": return 1
        case "virtual GPU": return 2
        case "CPU": return 4
        default: return 3
        }
    }
}

/// Collects validation-layer errors and warnings reported through VK_EXT_debug_utils.
public final class ValidationLog: @unchecked Sendable {
    private var lock = pthread_mutex_t()
    private var messages: [String] = []

    init() { pthread_mutex_init(&lock, nil) }
    deinit { pthread_mutex_destroy(&lock) }

    func append(_ m: String) {
        pthread_mutex_lock(&lock)
        messages.append(m)
        pthread_mutex_unlock(&lock)
    }

    /// Returns and clears the errors recorded so far.
    public func drain() -> [String] {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        let m = messages
        messages.removeAll()
        return m
    }
}

private func debugCallback(
    severity: VkDebugUtilsMessageSeverityFlagBitsEXT, types: VkDebugUtilsMessageTypeFlagsEXT,
    data: UnsafePointer<VkDebugUtilsMessengerCallbackDataEXT>?, user: UnsafeMutableRawPointer?
) -> VkBool32 {
    guard let user, let data else { return VkBool32(VK_FALSE) }
    // Warnings count too: the suite runs with none.
    if severity.rawValue >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT.rawValue {
        let log = Unmanaged<ValidationLog>.fromOpaque(user).takeUnretainedValue()
        let kind = severity.rawValue >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT.rawValue ? "error" : "warning"
        log.append(kind + ": " + (data.pointee.pMessage.map { String(cString: $0) } ?? "(no message)"))
    }
    return VkBool32(VK_FALSE)
}

/// A Vulkan instance and its physical devices. Validation (the Khronos layer plus a messenger that
/// records errors) is enabled with `validation: true` or `IFT_VULKAN_VALIDATION=1`.
public final class VulkanInstance {
    let loader: VulkanLoader
    let handle: VkInstance
    let fn: InstanceFunctions
    public let validationEnabled: Bool
    public let validationLog = ValidationLog()
    private var messenger: VkDebugUtilsMessengerEXT?
    private var destroyMessenger: PFN_vkDestroyDebugUtilsMessengerEXT?
    let physicalDevices: [VkPhysicalDevice]
    public let devices: [DeviceInfo]

    /// Validation checks beyond the layer's core ones, each slower: `synchronization` reports
    /// read/write hazards between commands (a missing barrier), `gpuAssisted` instruments the
    /// shaders to catch out-of-bounds buffer accesses where the driver allows it.
    public enum ValidationFeature: String, CaseIterable, Sendable {
        case synchronization = "sync"
        case gpuAssisted = "gpu"

        var vulkanValue: VkValidationFeatureEnableEXT {
            switch self {
            case .synchronization: return VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT
            case .gpuAssisted: return VK_VALIDATION_FEATURE_ENABLE_GPU_ASSISTED_EXT
            }
        }
    }

    /// What `IFT_VULKAN_VALIDATION` asks for: unset or `0` nothing; `1` the core checks; a
    /// comma-separated list of `sync` and `gpu` those features on top (e.g. `sync,gpu`).
    public static func validationRequest(_ value: String?) throws -> (enabled: Bool, features: Set<ValidationFeature>) {
        guard let value, !value.isEmpty, value != "0" else { return (false, []) }
        if value == "1" { return (true, []) }
        var features: Set<ValidationFeature> = []
        for item in value.split(separator: ",") {
            let name = String(item.filter { !$0.isWhitespace })
            guard let f = ValidationFeature(rawValue: name) else {
                throw IFTError.invalidArgument(
                    "IFT_VULKAN_VALIDATION=\(value): unknown item '\(name)'; use 1, sync, gpu or sync,gpu")
            }
            features.insert(f)
        }
        return (true, features)
    }

    /// The validation features enabled on this instance (empty without validation).
    public let validationFeatures: Set<ValidationFeature>

    public init(validation: Bool? = nil, validationFeatures requestedFeatures: Set<ValidationFeature>? = nil) throws {
        let fromEnvironment = try Self.validationRequest(getenv("IFT_VULKAN_VALIDATION").map { String(cString: $0) })
        let wantValidation = validation ?? fromEnvironment.enabled
        let features = wantValidation ? (requestedFeatures ?? fromEnvironment.features) : []
        loader = try VulkanLoader.open()
        let createInstance = try loader.instanceFunction(nil, "vkCreateInstance", as: PFN_vkCreateInstance.self)
        let enumerateLayers = try loader.instanceFunction(
            nil, "vkEnumerateInstanceLayerProperties", as: PFN_vkEnumerateInstanceLayerProperties.self)

        var layerCount: UInt32 = 0
        _ = enumerateLayers(&layerCount, nil)
        var layers = [VkLayerProperties](repeating: VkLayerProperties(), count: Int(layerCount))
        _ = enumerateLayers(&layerCount, &layers)
        let layerNames = layers.prefix(Int(layerCount)).map { string(fromCArray: $0.layerName) }
        let validationLayer = "VK_LAYER_KHRONOS_validation"
        if wantValidation && !layerNames.contains(validationLayer) {
            throw IFTError.vulkanUnavailable(
                "validation was requested but \(validationLayer) is not installed (Debian: apt-get install vulkan-validationlayers)")
        }
        validationEnabled = wantValidation
        validationFeatures = features

        var instance: VkInstance?
        let extensions = wantValidation ? ["VK_EXT_debug_utils"] + (features.isEmpty ? [] : ["VK_EXT_validation_features"]) : []
        var enables = ValidationFeature.allCases.filter(features.contains).map(\.vulkanValue)
        let result: VkResult = try withCStrings(wantValidation ? [validationLayer] : []) { layerPtrs in
            try withCStrings(extensions) { extPtrs in
                try withCStrings(["ift-gpu"]) { appName in
                    var app = VkApplicationInfo()
                    app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO
                    app.pApplicationName = appName[0]
                    app.pEngineName = appName[0]
                    app.apiVersion = vkMakeAPIVersion(1, 2, 0)
                    return withUnsafePointer(to: &app) { appPtr in
                        enables.withUnsafeMutableBufferPointer { enablesPtr in
                            var validationInfo = VkValidationFeaturesEXT()
                            validationInfo.sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT
                            validationInfo.enabledValidationFeatureCount = UInt32(enablesPtr.count)
                            validationInfo.pEnabledValidationFeatures = UnsafePointer(enablesPtr.baseAddress)
                            return withUnsafePointer(to: &validationInfo) { validationPtr in
                                var info = VkInstanceCreateInfo()
                                info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO
                                info.pNext = enablesPtr.isEmpty ? nil : UnsafeRawPointer(validationPtr)
                                info.pApplicationInfo = appPtr
                                info.enabledLayerCount = UInt32(layerPtrs.count)
                                info.ppEnabledLayerNames = layerPtrs.baseAddress
                                info.enabledExtensionCount = UInt32(extPtrs.count)
                                info.ppEnabledExtensionNames = extPtrs.baseAddress
                                return createInstance(&info, nil, &instance)
                            }
                        }
                    }
                }
            }
        }
        if result == VK_ERROR_INCOMPATIBLE_DRIVER || result == VK_ERROR_INITIALIZATION_FAILED {
            throw IFTError.vulkanUnavailable(
                "no Vulkan driver is installed (vkCreateInstance returned \(result.rawValue)); install one "
                    + "(Debian: apt-get install mesa-vulkan-drivers) or use --backend cpu")
        }
        try check(result, "vkCreateInstance")
        guard let instance else { throw IFTError.vulkanUnavailable("vkCreateInstance returned no instance") }
        handle = instance
        fn = try InstanceFunctions(loader, instance)

        if wantValidation {
            let create = try loader.instanceFunction(
                instance, "vkCreateDebugUtilsMessengerEXT", as: PFN_vkCreateDebugUtilsMessengerEXT.self)
            destroyMessenger = try loader.instanceFunction(
                instance, "vkDestroyDebugUtilsMessengerEXT", as: PFN_vkDestroyDebugUtilsMessengerEXT.self)
            var info = VkDebugUtilsMessengerCreateInfoEXT()
            info.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT
            info.messageSeverity =
                VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT.rawValue | VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT.rawValue
            info.messageType =
                VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT.rawValue | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT.rawValue
                | VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT.rawValue
            info.pfnUserCallback = { s, t, d, u in debugCallback(severity: s, types: t, data: d, user: u) }
            info.pUserData = Unmanaged.passUnretained(validationLog).toOpaque()
            var m: VkDebugUtilsMessengerEXT?
            try check(create(instance, &info, nil, &m), "vkCreateDebugUtilsMessengerEXT")
            messenger = m
        }

        var count: UInt32 = 0
        try check(fn.enumeratePhysicalDevices(instance, &count, nil), "vkEnumeratePhysicalDevices")
        var phys = [VkPhysicalDevice?](repeating: nil, count: Int(count))
        try check(fn.enumeratePhysicalDevices(instance, &count, &phys), "vkEnumeratePhysicalDevices")
        physicalDevices = phys.prefix(Int(count)).compactMap { $0 }
        var infos: [DeviceInfo] = []
        for (i, pd) in physicalDevices.enumerated() {
            infos.append(try Self.describe(fn, pd, index: i))
        }
        devices = infos
    }

    deinit {
        if let messenger, let destroyMessenger { destroyMessenger(handle, messenger, nil) }
        fn.destroyInstance(handle, nil)
    }

    /// The device `--device N` / `IFT_DEVICE` names, else the preferred one (discrete GPU first).
    public func selectDevice(_ requested: Int? = nil) throws -> Int {
        var index = requested
        if index == nil, let env = getenv("IFT_DEVICE") {
            let s = String(cString: env)
            guard let n = Int(s) else {
                throw IFTError.invalidArgument("IFT_DEVICE must be a device index (see `ift-gpu devices`), got '\(s)'")
            }
            index = n
        }
        if let index {
            guard index >= 0, index < devices.count else {
                throw IFTError.deviceIndexOutOfRange(index: index, count: devices.count)
            }
            return index
        }
        guard let best = devices.min(by: { ($0.preference, $0.index) < ($1.preference, $1.index) }) else {
            throw IFTError.vulkanUnavailable(
                "the Vulkan loader found no devices; install a driver (Debian: apt-get install mesa-vulkan-drivers) or use --backend cpu")
        }
        return best.index
    }
}

func vkMakeAPIVersion(_ major: UInt32, _ minor: UInt32, _ patch: UInt32) -> UInt32 {
    (major << 22) | (minor << 12) | patch
}

/// Calls `body` with a C array of C strings that live for the call.
func withCStrings<R>(_ strings: [String], _ body: (UnsafeBufferPointer<UnsafePointer<CChar>?>) throws -> R) rethrows -> R {
    let dups = strings.map { UnsafePointer(strdup($0)) }
    defer { dups.forEach { free(UnsafeMutableRawPointer(mutating: $0)) } }
    return try dups.withUnsafeBufferPointer { try body($0) }
}

/// A fixed-size C char array (as imported from a C struct) to a String.
func string<T>(fromCArray tuple: T) -> String {
    withUnsafeBytes(of: tuple) { raw in
        let bytes = raw.bindMemory(to: UInt8.self)
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}
