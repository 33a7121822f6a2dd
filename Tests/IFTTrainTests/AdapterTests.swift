import IFTCPU
import IFTCore
@testable import IFTModel
@testable import IFTTrain
import XCTest

/// LoRA adapters as files (PEFT, GGUF LoRA) and applied without merging, on a tiny random model;
/// bad adapter files refused with the file and tensor named.
final class AdapterTests: XCTestCase {
    let config = tinyConfig(vocab: 40, tied: true, hidden: 16, ffn: 24)

    func randomAdapter(rank: Int = 4, rs: Bool = true, seed: UInt64 = 9) -> LoRAAdapterWeights {
        var rng = SeededGenerator(seed: seed)
        var layers: [[Projection: LoRAAdapterWeights.Pair]] = []
        for _ in 0..<config.layerCount {
            var l: [Projection: LoRAAdapterWeights.Pair] = [:]
            for p in Projection.split {
                let s = p.shape(in: config)
                l[p] = .init(a: (0..<(rank * s[1])).map { _ in 0.3 * rng.normal() }, b: (0..<(s[0] * rank)).map { _ in 0.3 * rng.normal() })
            }
            layers.append(l)
        }
        return LoRAAdapterWeights(rank: rank, alpha: 6, rsLoRA: rs, targets: Projection.split, layers: layers, source: "test", baseModel: "tiny", promptStyle: "chatml")
    }

    func tempDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ift-adapter-\(UUID().uuidString)").path
        try FileSystem.makeDirectories(dir)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    let tokens: [Int32] = [3, 17, 5, 29, 11, 2, 38, 7]

    /// Base + attached adapter == merged weights, for a prompt (forward) and batched decoding
    /// (decodeStep), on cpu-ref and cpu; PEFT and GGUF LoRA files reload to the same logits.
    func testAttachedAdapterEqualsMergedWeightsAndFilesRoundTrip() throws {
        let adapter = randomAdapter()
        let dir = try tempDir()
        try adapter.writePEFT(to: dir + "/peft")
        try adapter.writeGGUF(to: dir + "/lora.gguf", config: config)
        let fromPEFT = try LoRAAdapterWeights.load(dir + "/peft", config: config)
        let fromGGUF = try LoRAAdapterWeights.load(dir + "/lora.gguf", config: config)
        XCTAssertEqual(fromPEFT.promptStyle, "chatml")
        XCTAssertEqual(fromGGUF.promptStyle, "chatml")
        XCTAssertEqual(fromGGUF.rsLoRA, false)
        XCTAssertEqual(fromGGUF.scale, adapter.scale, accuracy: 1e-6 * adapter.scale, "rsLoRA's factor folded into llama.cpp's alpha / r")
        XCTAssertEqual(fromGGUF.layers[1][.q]?.b, adapter.layers[1][.q]?.b, "Q rows un-permuted back to the Hugging Face order")
        let gguf = try GGUFFile(path: dir + "/lora.gguf")
        XCTAssertEqual(try gguf.metadata.string("general.type"), "adapter")
        XCTAssertEqual(try gguf.metadata.string("adapter.type"), "lora")
        XCTAssertEqual(try gguf.tensorInfo("blk.0.attn_q.weight.lora_a").ne, [16, 4], "lora_a: ne [in, r] as llama.cpp reads it")
        XCTAssertEqual(try gguf.tensorInfo("blk.0.attn_k.weight.lora_b").ne, [4, 8], "lora_b: ne [r, out]")

        for backend in try cpuBackends() {
            let weights = try tinyWeights(config, on: backend)
            let merged = try LlamaModel(config: config, weights: try adapter.merge(into: weights, backend: backend), backend: backend)
            let base = try LlamaModel(config: config, weights: weights, backend: backend)
            let want = try backend.floats(try merged.forward(tokens, cache: try merged.makeCache()))
            let plain = try backend.floats(try base.forward(tokens, cache: try base.makeCache()))
            XCTAssertGreaterThan(maxRelativeDifference(plain, want), 0.05, "the adapter changes the logits")
            for (name, a) in [("original", adapter), ("PEFT", fromPEFT), ("GGUF", fromGGUF)] {
                try base.attach(a)
                let got = try backend.floats(try base.forward(tokens, cache: try base.makeCache()))
                XCTAssertLessThan(maxRelativeDifference(got, want), 2e-5, "\(name) on \(backend.name)")
            }
            // Batched decoding: two sequences at different positions.
            let (c1, c2, m1, m2) = (try base.makeCache(), try base.makeCache(), try merged.makeCache(), try merged.makeCache())
            _ = try base.forward(Array(tokens[0..<3]), cache: c1)
            _ = try base.forward(Array(tokens[0..<5]), cache: c2)
            _ = try merged.forward(Array(tokens[0..<3]), cache: m1)
            _ = try merged.forward(Array(tokens[0..<5]), cache: m2)
            let got = try backend.floats(try base.decodeStep([9, 21], caches: [c1, c2]))
            let ref = try backend.floats(try merged.decodeStep([9, 21], caches: [m1, m2]))
            XCTAssertLessThan(maxRelativeDifference(got, ref), 2e-5, "decodeStep on \(backend.name)")
            base.detachAdapter()
            let again = try backend.floats(try base.forward(tokens, cache: try base.makeCache()))
            XCTAssertLessThan(maxRelativeDifference(again, plain), 1e-6, "detached: the base model again")
        }
    }

    /// `train --adapter`: a model set up for LoRA training starts from the adapter's A and B.
    func testTrainingStartsFromALoadedAdapter() throws {
        let backend = CPUReferenceBackend()
        let adapter = randomAdapter()
        let weights = try tinyWeights(config, on: backend)
        let trainable = try TrainableLlama(
            config: config, weights: weights, backend: backend, mode: .lora, lora: LoRAConfig(rank: 4, alpha: 6, rsLoRA: true))
        try trainable.loadAdapter(adapter)
        let tuned = try trainable.inferenceModel()
        let base = try LlamaModel(config: config, weights: weights, backend: backend)
        try base.attach(adapter)
        let want = try backend.floats(try base.forward(tokens, cache: try base.makeCache()))
        XCTAssertLessThan(maxRelativeDifference(try backend.floats(try tuned.forward(tokens, cache: try tuned.makeCache())), want), 2e-5)
        let other = try TrainableLlama(
            config: config, weights: weights, backend: backend, mode: .lora, lora: LoRAConfig(rank: 8, alpha: 6, rsLoRA: true))
        assertThrows({ try other.loadAdapter(adapter) }, mentions: ["rank 4", "rank 8"])
    }

    // MARK: - Bad inputs

    func assertThrows(_ body: () throws -> Void, mentions parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        do {
            try body()
            XCTFail("expected an error mentioning \(parts)", file: file, line: line)
        } catch {
            let text = "\(error)"
            for p in parts { XCTAssertTrue(text.contains(p), "'\(text)' does not mention '\(p)'", file: file, line: line) }
        }
    }

    func writeConfig(_ dir: String, _ edit: (inout JSONObject) -> Void) throws {
        var o = try JSONValue.parse(contentsOf: dir + "/adapter_config.json").objectValue!
        edit(&o)
        try LoRAAdapterWeights.writeJSON(.object(o), to: dir + "/adapter_config.json")
    }

    func testBadPEFTAdaptersAreRefusedNamingFileAndTensor() throws {
        let dir = try tempDir()
        let good = dir + "/good"
        try randomAdapter().writePEFT(to: good)
        func copy(_ name: String) throws -> String {
            let to = dir + "/" + name
            try FileManager.default.copyItem(atPath: good, toPath: to)
            return to
        }
        let weights = "adapter_model.safetensors"

        let rank = try copy("rank")
        try writeConfig(rank) { $0["r"] = .int(8) }
        assertThrows({ _ = try LoRAAdapterWeights.load(rank, config: self.config) }, mentions: [weights, "rank r = 8"])

        let noAlpha = try copy("alpha")
        try writeConfig(noAlpha) { $0["lora_alpha"] = nil }
        assertThrows({ _ = try LoRAAdapterWeights.load(noAlpha, config: self.config) }, mentions: ["adapter_config.json", "lora_alpha", "missing"])

        let unknown = try copy("unknown")
        try writeConfig(unknown) { $0["target_modules"] = .array([.string("q_proj"), .string("lm_head")]) }
        assertThrows({ _ = try LoRAAdapterWeights.load(unknown, config: self.config) }, mentions: ["target_modules", "unknown target module 'lm_head'"])

        let fewer = try copy("fewer")
        try writeConfig(fewer) { $0["target_modules"] = .array([.string("q_proj")]) }
        assertThrows({ _ = try LoRAAdapterWeights.load(fewer, config: self.config) }, mentions: [weights, "which target_modules", "does not list"])

        let dora = try copy("dora")
        try writeConfig(dora) { $0["use_dora"] = .bool(true) }
        assertThrows({ _ = try LoRAAdapterWeights.load(dora, config: self.config) }, mentions: ["use_dora"])

        // A tensor of a module LoRA here does not handle.
        let embed = try copy("embed")
        var w = SafetensorsWriter()
        try w.addTensor(name: "base_model.model.model.embed_tokens.lora_A.weight", shape: [4, 40], floats: [Float](repeating: 0, count: 160))
        try w.write(to: embed + "/" + weights)
        assertThrows({ _ = try LoRAAdapterWeights.load(embed, config: self.config) }, mentions: [weights, "embed_tokens"])

        // Truncated weights file.
        let cut = try copy("truncated")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: cut + "/" + weights))
        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: cut + "/" + weights))
        assertThrows({ _ = try LoRAAdapterWeights.load(cut, config: self.config) }, mentions: [weights])

        // An adapter for a wider model.
        let wide = tinyConfig(vocab: 40, tied: true, hidden: 32, ffn: 24)
        assertThrows({ _ = try LoRAAdapterWeights.load(good, config: wide) }, mentions: [weights, "lora_A", "expected [4, 32]"])
        // For a deeper model's layer 2 in a 2-layer model.
        let shallow = LlamaConfig(
            vocabSize: 40, hiddenSize: 16, intermediateSize: 24, layerCount: 1, headCount: 4, kvHeadCount: 2, headDim: 4, maxPositions: 32,
            tieWordEmbeddings: true)
        assertThrows({ _ = try LoRAAdapterWeights.load(good, config: shallow) }, mentions: [weights, "layer 1", "1 layers"])
    }

    func testBadGGUFAdaptersAreRefusedNamingFileAndTensor() throws {
        let dir = try tempDir()
        let path = dir + "/lora.gguf"
        try randomAdapter().writeGGUF(to: path, config: config)
        let source = try GGUFFile(path: path)
        /// The same file with metadata edited and tensors kept.
        func rewrite(_ name: String, drop: String? = nil, set: [(String, GGUFValue)] = [], tensorShape: ((String, [Int]) -> [Int])? = nil) throws -> String {
            var w = try GGUFWriter()
            for (k, v) in source.metadata.entries where k != drop {
                try w.add(k, set.first(where: { $0.0 == k })?.1 ?? v)
            }
            for t in source.tensors {
                let bytes = Array(try source.tensorBytes(t.name))
                try w.addTensor(name: t.name, shape: tensorShape?(t.name, t.shape) ?? t.shape, type: t.type, bytes: bytes)
            }
            let out = dir + "/" + name + ".gguf"
            try w.write(to: out)
            return out
        }
        let qwen = try rewrite("arch", set: [("general.architecture", .string("qwen2"))])
        assertThrows({ _ = try LoRAAdapterWeights.load(qwen, config: self.config) }, mentions: ["arch.gguf", "general.architecture", "qwen2"])
        let noAlpha = try rewrite("alpha", drop: "adapter.lora.alpha")
        assertThrows({ _ = try LoRAAdapterWeights.load(noAlpha, config: self.config) }, mentions: ["alpha.gguf", "adapter.lora.alpha", "missing"])
        let model = try rewrite("model", set: [("general.type", .string("model"))])
        assertThrows({ _ = try LoRAAdapterWeights.load(model, config: self.config) }, mentions: ["model.gguf", "general.type"])
        // Another rank in one tensor pair: lora_a [2, 32] holds the bytes of [4, 16].
        let ranks = try rewrite("ranks") { name, shape in name == "blk.1.ffn_up.weight.lora_a" ? [2, 32] : shape }
        assertThrows({ _ = try LoRAAdapterWeights.load(ranks, config: self.config) }, mentions: ["ranks.gguf", "blk.1.ffn_up.weight.lora_a", "rank 2"])
        let wide = tinyConfig(vocab: 40, tied: true, hidden: 32, ffn: 24)
        assertThrows({ _ = try LoRAAdapterWeights.load(path, config: wide) }, mentions: ["lora.gguf", "blk.0.", "does not fit"])
        // Truncated.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count - 64).write(to: URL(fileURLWithPath: dir + "/cut.gguf"))
        assertThrows({ _ = try LoRAAdapterWeights.load(dir + "/cut.gguf", config: self.config) }, mentions: ["cut.gguf"])
    }

    /// An existing output is not replaced without --force; a failed export leaves nothing.
    func testExporterRefusesToOverwriteAndLeavesNothingOnFailure() throws {
        let dir = try tempDir()
        let existing = dir + "/out.gguf"
        try Data("keep".utf8).write(to: URL(fileURLWithPath: existing))
        assertThrows({ try ModelExporter(format: .gguf, type: "q8_0", output: existing).validate() }, mentions: ["exists", "--force"])
        XCTAssertEqual(try String(contentsOfFile: existing, encoding: .utf8), "keep")
        XCTAssertNoThrow(try ModelExporter(format: .gguf, type: "q8_0", output: existing, force: true).validate())
        assertThrows({ try ModelExporter(format: .gguf, type: "q5_k", output: dir + "/x.gguf").validate() }, mentions: ["q5_k"])
        assertThrows({ try ModelExporter(format: .hf, output: existing, force: true).validate() }, mentions: ["is a file"])
        // A directory export whose writing fails leaves neither the output nor a temporary directory.
        let e = ModelExporter(format: .hf, output: dir + "/hf")
        XCTAssertThrowsError(try e.writeDirectory { d in
            try Data("x".utf8).write(to: URL(fileURLWithPath: d + "/config.json"))
            throw IFTError.invalidArgument("fails half-way")
        })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["out.gguf"])
    }
}
