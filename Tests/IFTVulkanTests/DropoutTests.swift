import IFTCPU
import IFTCore
@testable import IFTVulkan
import XCTest

/// `Shaders/dropout.comp` bit-exact against `cpu-ref` (the mask is an integer hash, the product
/// one fp32 rounding), including chunked dispatches (forced small chunks) and in-place calls.
final class DropoutTests: VulkanTestCase {
    func run(_ x: [Float], p: Float, seed: UInt64, inPlace: Bool = false, chunk: Int? = nil) throws -> (vk: [Float], ref: [Float]) {
        let n = x.count
        var results: [[Float]] = []
        for backend in [vk as any Backend, ref] {
            let tx = try backend.tensor(x, shape: [n])
            let out = inPlace ? tx : try backend.makeTensor(shape: [n], dtype: .f32)
            if let chunk, let v = backend as? VulkanBackend {
                try OpChecks.dropout(tx, out, probability: p)
                try v.dispatchDropout(tx, probability: p, seed: seed, into: out, chunkElements: chunk)
            } else {
                try backend.dropout(tx, probability: p, seed: seed, into: out)
            }
            results.append(try backend.floats(out))
        }
        return (results[0], results[1])
    }

    func testBitExactOnRaggedSizes() throws {
        var g = SeededGenerator(seed: 21)
        let sizes = [1, 2, 255, 256, 257, 1000, 65_537] + (0..<8).map { _ in 1 + Int(g.next() % 50_000) }
        for (t, n) in sizes.enumerated() {
            let x = g.uniformArray(n, -4, 4)
            let p: Float = [0, 0.1, 0.5, 0.05, 0.9][t % 5]
            let seed = t == 0 ? 0 : g.next()
            let (a, b) = try run(x, p: p, seed: seed, inPlace: t % 2 == 1)
            XCTAssertNil(firstBitMismatch(a, b), "n=\(n) p=\(p) seed=\(seed) inPlace=\(t % 2 == 1)")
        }
    }

    /// Chunks of 64, 192 and 1000 (rounded down to 960) elements: the mask hashes the global index,
    /// so the result equals the unchunked one.
    func testChunkedUsesGlobalIndex() throws {
        var g = SeededGenerator(seed: 22)
        for (chunk, n) in [(64, 1000), (192, 4097), (1000, 10_001), (64, 63)] {
            let x = g.uniformArray(n, -2, 2)
            let seed = g.next()
            let (a, b) = try run(x, p: 0.3, seed: seed, inPlace: n % 2 == 1, chunk: chunk)
            XCTAssertNil(firstBitMismatch(a, b), "chunk=\(chunk) n=\(n)")
        }
    }

    /// Applying it twice with the same seed (the backward) gives `(x * s) * s` on the kept elements.
    func testTwiceMatchesReference() throws {
        var g = SeededGenerator(seed: 23)
        let n = 5000
        let x = g.uniformArray(n, -1, 1)
        var outs: [[Float]] = []
        for backend in [vk as any Backend, ref] {
            let t = try backend.tensor(x, shape: [n])
            try backend.dropout(t, probability: 0.2, seed: 5, into: t)
            try backend.dropout(t, probability: 0.2, seed: 5, into: t)
            outs.append(try backend.floats(t))
        }
        XCTAssertNil(firstBitMismatch(outs[0], outs[1]))
    }

    func testMalformedCallsThrow() throws {
        let x = try vk.tensor([1, 2, 3], shape: [3])
        XCTAssertThrowsError(try vk.dropout(x, probability: 1, seed: 0, into: x))
        XCTAssertThrowsError(try vk.dropout(x, probability: -0.5, seed: 0, into: x))
        XCTAssertThrowsError(try vk.dropout(x, probability: 0.5, seed: 0, into: try vk.makeTensor(shape: [4], dtype: .f32)))
        XCTAssertThrowsError(try vk.dropout(x, probability: 0.5, seed: 0, into: try vk.makeTensor(shape: [3], dtype: .f16)))
    }
}
