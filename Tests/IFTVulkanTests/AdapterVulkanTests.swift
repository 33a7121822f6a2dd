import Foundation
import IFTCPU
import IFTCore
import IFTModel
import XCTest

/// A LoRA adapter applied without merging on Vulkan (the real SmolLM2-135M-Instruct, Q4_1 base read
/// by the quantized kernels): prompt and batched decode-step logits equal the cpu backend's model
/// with the adapter merged.
final class AdapterVulkanTests: VulkanTestCase {
    func testAttachedAdapterOnVulkanEqualsMergedOnCPU() throws {
        let gguf = try GGUFFile(path: try ModelFixture.smolLM2Path())
        let config = try LlamaConfig(gguf: gguf)
        var rng = SeededGenerator(seed: 4)
        var layers: [[Projection: LoRAAdapterWeights.Pair]] = []
        for _ in 0..<config.layerCount {
            var l: [Projection: LoRAAdapterWeights.Pair] = [:]
            for p in [Projection.q, .v, .down] {
                let s = p.shape(in: config)
                l[p] = .init(a: (0..<(4 * s[1])).map { _ in 0.05 * rng.normal() }, b: (0..<(s[0] * 4)).map { _ in 0.05 * rng.normal() })
            }
            layers.append(l)
        }
        let adapter = LoRAAdapterWeights(rank: 4, alpha: 8, rsLoRA: false, targets: [.q, .v, .down], layers: layers, source: "test")
        let cpu = try CPUBackend()
        let merged = try LlamaModel(
            config: config, weights: try adapter.merge(into: try LlamaWeights.load(gguf, config: config, on: cpu), backend: cpu),
            backend: cpu, maxPositions: 64)
        let attached = try LlamaModel(gguf: gguf, backend: vk, maxPositions: 64)
        let plain = try vk.floats(try attached.forward([1, 504, 3458, 314], cache: try attached.makeCache()))
        try attached.attach(adapter)
        let prompt: [Int32] = [1, 504, 3458, 314]
        let want = try cpu.floats(try merged.forward(prompt, cache: try merged.makeCache()))
        let got = try vk.floats(try attached.forward(prompt, cache: try attached.makeCache()))
        XCTAssertGreaterThan(nmse(plain, want), 1e-4, "the adapter changes the logits")
        XCTAssertLessThan(nmse(got, want), 1e-9)
        let (c1, c2, m1, m2) = (try attached.makeCache(), try attached.makeCache(), try merged.makeCache(), try merged.makeCache())
        _ = try attached.forward([1, 504], cache: c1)
        _ = try attached.forward(prompt, cache: c2)
        _ = try merged.forward([1, 504], cache: m1)
        _ = try merged.forward(prompt, cache: m2)
        let step = try vk.floats(try attached.decodeStep([42, 7], caches: [c1, c2]))
        let ref = try cpu.floats(try merged.decodeStep([42, 7], caches: [m1, m2]))
        XCTAssertLessThan(nmse(step, ref), 1e-9, "batched decode step")
    }
}
