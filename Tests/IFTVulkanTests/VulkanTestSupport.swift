import Foundation
import IFTCPU
import IFTCore
import IFTVulkan
import XCTest

/// One Vulkan backend shared by all tests (creating a device per test is slow on lavapipe), with the
/// Khronos validation layer (with synchronization validation) enabled whenever it is installed. With IFT_REQUIRE_VULKAN=1 (CI) a
/// missing device or validation layer fails the tests instead of skipping them.
enum VulkanTestSupport {
    static let requireVulkan = ProcessInfo.processInfo.environment["IFT_REQUIRE_VULKAN"] == "1"

    static let shared: Result<VulkanBackend, Error> = {
        do {
            let instance: VulkanInstance
            do {
                // Synchronization validation too (missing barriers), unless IFT_VULKAN_VALIDATION
                // names other features (e.g. `sync,gpu` for a GPU-assisted run).
                let requested = try VulkanInstance.validationRequest(ProcessInfo.processInfo.environment["IFT_VULKAN_VALIDATION"])
                instance = try VulkanInstance(validation: true, validationFeatures: requested.features.isEmpty ? [.synchronization] : requested.features)
            } catch IFTError.vulkanUnavailable(let why) where why.contains("validation") && !requireVulkan {
                print("note: \(why); Vulkan tests run without validation")
                instance = try VulkanInstance(validation: false)
            }
            let backend = VulkanBackend(device: try VulkanDevice(instance: instance, index: try instance.selectDevice()))
            let i = backend.device.info
            print(
                "Vulkan tests run on device: \(i.name) (driver \(i.driverName), Vulkan \(i.apiVersion), subgroup \(i.subgroupSize)); "
                    + "validation layer \(instance.validationEnabled ? "on" : "off")")
            return .success(backend)
        } catch {
            return .failure(error)
        }
    }()

    /// The shared backend, or a skip (a failure under IFT_REQUIRE_VULKAN=1) when there is none.
    static func backend() throws -> VulkanBackend {
        switch shared {
        case .success(let b): return b
        case .failure(let e):
            if requireVulkan {
                XCTFail("IFT_REQUIRE_VULKAN=1 but no Vulkan device is usable: \(e)")
                throw e
            }
            throw XCTSkip("no Vulkan device: \(e)")
        }
    }
}

/// Base class: gives each test the shared Vulkan backend and the CPU reference, and fails a test
/// during which the validation layer reported any error.
class VulkanTestCase: XCTestCase {
    var vk: VulkanBackend!
    let ref = CPUReferenceBackend()

    override func setUpWithError() throws {
        vk = try VulkanTestSupport.backend()
        _ = vk.device.drainValidationErrors()
    }

    override func tearDownWithError() throws {
        guard let vk else { return }
        try vk.synchronize()
        let errors = vk.device.drainValidationErrors()
        XCTAssertTrue(errors.isEmpty, "validation errors:\n" + errors.joined(separator: "\n"))
    }
}

/// Normalized mean squared error sum((x-y)^2) / sum(y^2) (0 when both are zero).
func nmse(_ x: [Float], _ y: [Float]) -> Double {
    precondition(x.count == y.count)
    var num = 0.0, den = 0.0
    for i in x.indices {
        let d = Double(x[i]) - Double(y[i])
        num += d * d
        den += Double(y[i]) * Double(y[i])
    }
    return den == 0 ? num : num / den
}

/// Bitwise equality of two float arrays (NaNs compare by bit pattern), with the first mismatch.
func firstBitMismatch(_ x: [Float], _ y: [Float]) -> String? {
    guard x.count == y.count else { return "counts differ: \(x.count) vs \(y.count)" }
    for i in x.indices where x[i].bitPattern != y[i].bitPattern {
        return "element \(i): \(x[i]) (0x\(String(x[i].bitPattern, radix: 16))) vs \(y[i]) (0x\(String(y[i].bitPattern, radix: 16)))"
    }
    return nil
}
