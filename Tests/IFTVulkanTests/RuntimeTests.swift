import Foundation
import IFTCore
@testable import IFTVulkan
import XCTest

/// The Vulkan runtime: device selection, memory sub-allocation, recording and barriers, errors.
final class RuntimeTests: VulkanTestCase {
    func testMemoryLimitSizes() throws {
        XCTAssertEqual(try MemoryPool.memoryLimit("4096"), 4096)
        XCTAssertEqual(try MemoryPool.memoryLimit("512M"), 512 << 20)
        XCTAssertEqual(try MemoryPool.memoryLimit("8g"), 8 << 30)
        XCTAssertEqual(try MemoryPool.memoryLimit("64K"), 64 << 10)
        XCTAssertNil(try MemoryPool.memoryLimit(nil))
        XCTAssertNil(try MemoryPool.memoryLimit(""))
        for bad in ["lots", "-1", "0", "5T", "M", "99999999999999999999G"] {
            XCTAssertThrowsError(try MemoryPool.memoryLimit(bad), bad) { e in
                XCTAssertTrue("\(e)".contains("IFT_VULKAN_MEMORY_LIMIT"), "\(e)")
            }
        }
    }

    func testManyTensorsShareOneBlock() throws {
        let pool = vk.device.memory
        try vk.synchronize()
        let reservedBefore = pool.bytesReserved
        var tensors: [Tensor] = []
        for i in 0..<200 { tensors.append(try vk.makeTensor(shape: [100 + i], dtype: .f32)) }
        // 200 small tensors fit the existing blocks (never one allocation per tensor).
        XCTAssertLessThanOrEqual(pool.bytesReserved, max(reservedBefore, 256 << 20))
        let inUse = pool.bytesInUse
        tensors.removeAll()
        XCTAssertLessThan(pool.bytesInUse, inUse, "freed tensors return their memory")
        // Freed ranges coalesce: one allocation as large as all of them fits without a new block.
        let reserved = pool.bytesReserved
        let big = try vk.makeTensor(shape: [200 * 100], dtype: .f32)
        XCTAssertEqual(pool.bytesReserved, reserved)
        XCTAssertEqual(try vk.floats(big), [Float](repeating: 0, count: 20000), "new tensors are zero-filled")
    }

    func testIndependentOpsNeedNoBarrierDependentOpsDo() throws {
        try vk.synchronize()
        let a = try vk.tensor([1, 2, 3, 4], shape: [4])
        let b = try vk.makeTensor(shape: [4], dtype: .f32)
        let c = try vk.makeTensor(shape: [4], dtype: .f32)
        try vk.synchronize()
        let rec = vk.device.recorder
        try vk.scale(a, by: 2, into: b)
        try vk.scale(a, by: 3, into: c)  // reads a again, writes elsewhere: no hazard
        XCTAssertEqual(rec.recordedBarriers, 0)
        try vk.binary(.add, b, c, into: c)  // reads b and c written above: one barrier
        XCTAssertEqual(rec.recordedBarriers, 1)
        XCTAssertEqual(rec.recordedDispatches, 3)
        XCTAssertTrue(rec.hasPendingWork, "ops are recorded, not submitted one by one")
        XCTAssertEqual(try vk.floats(c), [5, 10, 15, 20])
    }

    func testTimestamps() throws {
        guard vk.device.info.timestampsSupported else { throw XCTSkip("device has no timestamps") }
        let a = try vk.tensor([Float](repeating: 1, count: 1 << 16), shape: [1 << 16])
        try vk.device.recorder.timestamp("start")
        try vk.scale(a, by: 2, into: a)
        try vk.device.recorder.timestamp("end")
        try vk.synchronize()
        let ts = vk.device.recorder.lastTimestamps
        XCTAssertEqual(ts.map(\.label), ["start", "end"])
        XCTAssertGreaterThan(ts[1].ns, 0)
    }

    func testDeviceListAndSelection() throws {
        let instance = vk.device.instance
        XCTAssertFalse(instance.devices.isEmpty)
        let info = instance.devices[0]
        XCTAssertGreaterThan(info.subgroupSize, 0)
        XCTAssertGreaterThan(info.maxSharedMemory, 0)
        XCTAssertThrowsError(try instance.selectDevice(instance.devices.count)) { error in
            XCTAssertEqual(error as? IFTError, .deviceIndexOutOfRange(index: instance.devices.count, count: instance.devices.count))
            XCTAssertTrue("\(error)".contains("out of range"))
        }
        XCTAssertThrowsError(try instance.selectDevice(-1))
    }

    /// A machine without the Vulkan loader gets a clear error (the CLI test checks the exit code).
    func testMissingLoaderIsAClearError() throws {
        setenv("IFT_VULKAN_LOADER", "/nonexistent/libvulkan.so.1", 1)
        defer { unsetenv("IFT_VULKAN_LOADER") }
        XCTAssertThrowsError(try VulkanInstance(validation: false)) { error in
            guard case IFTError.vulkanUnavailable(let why) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(why.contains("loader"), why)
            XCTAssertTrue(why.contains("--backend cpu"), why)
        }
    }

    /// The discrete-GPU memory path (device-local tensors reached only through staging copies),
    /// forced on lavapipe so that it runs in CI too.
    func testStagingPathMatchesUnifiedMemory() throws {
        let instance = vk.device.instance
        let staged = VulkanBackend(device: try VulkanDevice(instance: instance, index: vk.device.info.index, forceStaging: true))
        XCTAssertFalse(staged.device.unifiedMemory)
        var g = SeededGenerator(seed: 3)
        let a = g.uniformArray(37 * 29), b = g.uniformArray(29 * 41)
        var results: [[Float]] = []
        for backend in [vk as any Backend, staged] {
            let ta = try backend.tensor(a, shape: [37, 29])
            let tb = try backend.tensor(b, shape: [29, 41])
            let tc = try backend.makeTensor(shape: [37, 41], dtype: .f32)
            XCTAssertEqual(try backend.floats(tc), [Float](repeating: 0, count: 37 * 41), "\(backend.name): zero-filled")
            try backend.matmul(ta, tb, tc, MatmulDescriptor(m: 37, n: 41, k: 29))
            try backend.scale(tc, by: 0.5, into: tc)
            results.append(try backend.floats(tc))
        }
        XCTAssertNil(firstBitMismatch(results[1], results[0]))
        try staged.synchronize()
    }

    func testWrongSizedWriteIsAnError() throws {
        let t = try vk.makeTensor(shape: [4], dtype: .f32)
        XCTAssertThrowsError(try [Float](repeating: 0, count: 3).withUnsafeBytes { try vk.write(t, from: $0) })
    }
}
