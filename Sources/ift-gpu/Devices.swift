import ArgumentParser
import IFTCPU
import IFTCore
import IFTVulkan

struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the Vulkan devices and the CPU backend: limits, features, BLAS kernel.",
        discussion: """
            The Vulkan device marked `*` is the default: the first discrete GPU, else the first \
            device. Choose another with `--device N` on any command or IFT_DEVICE=N.

            The cpu backend's lines name the CPU, the BLAS library and the kernel it runs \
            (chosen for the CPU's vector instructions before the library loads; \
            IFT_BLAS_CORETYPE forces one) and the threads it uses (--threads or IFT_THREADS).

            Example:
              ift-gpu devices
            """)

    func run() throws {
        print("cpu backend")
        do {
            for line in try BLASLibrary.shared().report { print("      " + line) }
        } catch {
            print("      unavailable: \(error)")
        }
        let instance = try VulkanInstance(validation: false)
        guard !instance.devices.isEmpty else {
            throw IFTError.vulkanUnavailable(
                "the Vulkan loader found no devices; install a driver (Debian: apt-get install mesa-vulkan-drivers)")
        }
        let chosen = try? instance.selectDevice(nil)
        for d in instance.devices {
            print("\(d.index == chosen ? "*" : " ") [\(d.index)] \(d.name) (\(d.type))")
            print("      driver:          \(d.driverName) \(d.driverInfo)")
            print("      Vulkan API:      \(d.apiVersion)")
            print("      subgroup size:   \(d.subgroupSize)")
            print("      shared memory:   \(d.maxSharedMemory / 1024) KiB per workgroup, \(d.maxWorkgroupInvocations) invocations")
            print("      device memory:   \(formatBytes(d.deviceLocalMemory)); largest allocation \(formatBytes(d.maxMemoryAllocationSize)), largest binding \(formatBytes(d.maxStorageBufferRange))")
            let on = d.features.filter(\.1).map(\.0)
            let off = d.features.filter { !$0.1 }.map(\.0)
            print("      features:        \(on.joined(separator: ", "))")
            if !off.isEmpty { print("      not available:   \(off.joined(separator: ", "))") }
        }
    }
}

func formatBytes(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var v = Double(n)
    var u = 0
    while v >= 1024 && u < units.count - 1 {
        v /= 1024
        u += 1
    }
    return u == 0 ? "\(n) B" : "\(format(v, 1)) \(units[u])"
}

/// `x` with `digits` decimals (no Foundation formatting).
func format(_ x: Double, _ digits: Int) -> String { ProgressBar.fixed(x, digits) }
