import Foundation
import IFTCore
@testable import IFTVulkan
import XCTest

/// Device faults and the validation the suite runs under: synchronization validation is on (and
/// catches a missing barrier), and a lost device stops all work with a clear, sticky error.
final class ValidationAndFaultTests: VulkanTestCase {
    func testValidationRequestFromTheEnvironment() throws {
        XCTAssertFalse(try VulkanInstance.validationRequest(nil).enabled)
        XCTAssertFalse(try VulkanInstance.validationRequest("0").enabled)
        XCTAssertEqual(try VulkanInstance.validationRequest("1").features, [])
        XCTAssertEqual(try VulkanInstance.validationRequest("sync").features, [.synchronization])
        XCTAssertEqual(try VulkanInstance.validationRequest("sync, gpu").features, [.synchronization, .gpuAssisted])
        XCTAssertThrowsError(try VulkanInstance.validationRequest("yes please")) { e in
            XCTAssertTrue("\(e)".contains("IFT_VULKAN_VALIDATION") && "\(e)".contains("sync,gpu"), "\(e)")
        }
    }

    /// The suite's backend checks synchronization, and the check is live: the same two dependent
    /// dispatches are clean with the recorder's barrier and a reported hazard without it.
    func testSynchronizationValidationCatchesAMissingBarrier() throws {
        let instance = vk.device.instance
        guard instance.validationEnabled else { throw XCTSkip("the validation layer is not installed") }
        XCTAssertTrue(instance.validationFeatures.contains(.synchronization), "the suite runs with synchronization validation")
        let x = try vk.tensor([Float](repeating: 1, count: 4096), shape: [4096])
        let y = try vk.makeTensor(shape: [4096], dtype: .f32), z = try vk.makeTensor(shape: [4096], dtype: .f32)
        try vk.synchronize()
        try vk.scale(x, by: 2, into: y)
        try vk.scale(y, by: 3, into: z)
        try vk.synchronize()
        XCTAssertEqual(try vk.floats(z).first, 6)

        vk.recorder.insertsBarriers = false
        defer { vk.recorder.insertsBarriers = true }
        try vk.scale(x, by: 2, into: y)
        try vk.scale(y, by: 3, into: z)
        XCTAssertThrowsError(try vk.synchronize()) { error in
            guard case IFTError.validation(let messages) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(messages.contains { $0.contains("SYNC-HAZARD-READ") && $0.contains("AFTER-WRITE") }, messages.joined(separator: "\n"))
        }
    }

    /// A lost device (injected at the next submission) fails that submission and every later
    /// command with `deviceLost`, naming the call; nothing is read back.
    func testALostDeviceIsStickyAndNamed() throws {
        let lost = VulkanBackend(device: try VulkanDevice(instance: vk.device.instance, index: vk.device.info.index))
        let x = try lost.tensor([1, 2, 3], shape: [3])
        let y = try lost.makeTensor(shape: [3], dtype: .f32)
        try lost.scale(x, by: 2, into: y)
        XCTAssertEqual(try lost.floats(y), [2, 4, 6])
        lost.recorder.injectDeviceLostAt = lost.recorder.submissions + 1
        try lost.scale(x, by: 3, into: y)
        for attempt in ["the submission", "a later read", "a later command"] {
            XCTAssertThrowsError(
                try {
                    switch attempt {
                    case "the submission": try lost.synchronize()
                    case "a later read": _ = try lost.floats(y)
                    default: try lost.scale(y, by: 2, into: x)
                    }
                }(), attempt
            ) { error in
                guard case IFTError.deviceLost(let what) = error else { return XCTFail("\(attempt): \(error)") }
                XCTAssertTrue(what.contains("vkQueueSubmit") && what.contains("VK_ERROR_DEVICE_LOST"), what)
                XCTAssertTrue("\(error)".contains("--backend cpu"), "\(error)")
            }
        }
    }
}
