import IFTCore

extension VulkanBackend: DeviceMemoryReporting {
    /// The memory pool's peak of sub-allocated tensor bytes.
    public var peakDeviceBytes: Int { device.memory.peakBytesInUse }
}
