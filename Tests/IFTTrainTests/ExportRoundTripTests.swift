import IFTCPU
import IFTCore
import IFTData
@testable import IFTModel
@testable import IFTTrain
import XCTest

/// Export round trips on the real SmolLM2-135M-Instruct (IFT_SMOLLM2_GGUF) after a few LoRA steps:
/// the fine-tuned model's logits against (a) base + exported PEFT adapter, (b) base + exported GGUF
/// LoRA — both applied without merging — (c) the merged F32 GGUF and (d) the Hugging Face directory,
/// all reloaded from disk; and the Q8_0 and Q4_K merges within stated tolerances.
///
/// With IFT_EXPORT_KEEP=DIR the exports, the prompt and the fine-tuned logits stay in DIR for
/// `Tools/check-export.py` (transformers + PEFT, gguf-py).
final class ExportRoundTripTests: XCTestCase {
    func modelPath() throws -> String {
        let env = ProcessInfo.processInfo.environment
        guard let path = env["IFT_SMOLLM2_GGUF"], FileManager.default.fileExists(atPath: path) else {
            if env["IFT_REQUIRE_MODEL"] == "1" {
                XCTFail("IFT_REQUIRE_MODEL=1 but IFT_SMOLLM2_GGUF is not set or missing")
            }
            throw XCTSkip("set IFT_SMOLLM2_GGUF (Tools/test.sh does) to run the real-model export round trips")
        }
        return path
    }

    func maxAbs(_ a: [Float], _ b: [Float]) -> Float {
        a.count == b.count ? zip(a, b).map { abs($0 - $1) }.max() ?? 0 : .infinity
    }

    /// RMS of the difference over the RMS of `b`.
    func relativeRMS(_ a: [Float], _ b: [Float]) -> Double {
        guard a.count == b.count else { return .infinity }
        var num = 0.0, den = 0.0
        for (x, y) in zip(a, b) {
            num += Double(x - y) * Double(x - y)
            den += Double(y) * Double(y)
        }
        return (num / max(den, 1e-30)).squareRoot()
    }

    func testRealModelExportsReloadToTheFineTunedLogits() throws {
        let path = try modelPath()
        let env = ProcessInfo.processInfo.environment
        let keep = env["IFT_EXPORT_KEEP"]
        let dir = keep ?? FileManager.default.temporaryDirectory.appendingPathComponent("ift-export-\(UUID().uuidString)").path
        try FileSystem.makeDirectories(dir)
        if keep == nil { addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) } }

        let backend = try CPUBackend()
        let files = try ModelFiles(path: path)
        let c = files.config
        // A short LoRA run (rsLoRA, so that the GGUF LoRA's folded alpha is exercised).
        let lora = LoRAConfig(rank: 8, alpha: 16, targets: Projection.allCases, rsLoRA: true)
        let trainable = try TrainableLlama(files: files, backend: backend, mode: .lora, lora: lora, seed: 5, maxPositions: 64)
        let optimizer = try AdamW(backend: backend)
        let text = files.tokenizer.encode("The capital of France is Paris. The capital of Italy is Rome. The capital of Spain is Madrid.")
        let row = Array(text.prefix(24))
        let batch = Batch(
            batchSize: 1, length: row.count - 1, inputs: Array(row.dropLast()), targets: Array(row.dropFirst()), lengths: [row.count - 1])
        for _ in 0..<3 {
            try trainable.zeroGradients()
            try trainable.step(batch, lossScale: 1 / Float(row.count - 1))
            _ = try optimizer.step(trainable.parameters, lr: 2e-3)
        }
        let prompt = files.tokenizer.encode("<|im_start|>user\nWhat is the capital of Germany?<|im_end|>\n<|im_start|>assistant\n", parseSpecial: true)
        func logits(_ m: LlamaModel) throws -> [Float] { try backend.floats(try m.forward(prompt, cache: try m.makeCache())) }
        // The fine-tuned model in memory: the adapters merged in f32 (as `inferenceModel` does).
        let weights = try trainable.mergedWeights()
        let merged = try LlamaModel(config: c, weights: weights, backend: backend, maxPositions: 64)
        let tuned = try logits(merged)
        let base = try logits(try files.loadModel(on: backend, maxPositions: 64))
        let change = maxAbs(tuned, base)
        XCTAssertGreaterThan(change, 0.5, "three LoRA steps at lr 2e-3 change the logits")
        let scale = tuned.map(abs).max() ?? 1
        // fp32 rounding: the same sums in another order (merged W + BA vs W x + (x A) B) and the
        // dequantized Q4_1 base read by another kernel: ~1e-5 of the logits' size.
        let fp32 = 5e-5 * scale
        var report: [String] = ["logit scale \(scale), change from base \(change)"]

        // (a) PEFT adapter, (b) GGUF LoRA: written, reloaded, attached to a freshly loaded base.
        let adapter = try trainable.loraAdapterWeights(baseModel: path, promptStyle: "chatml")
        try adapter.writePEFT(to: dir + "/peft")
        try adapter.writeGGUF(to: dir + "/lora.gguf", config: c)
        for (name, file) in [("PEFT", dir + "/peft"), ("GGUF LoRA", dir + "/lora.gguf")] {
            let model = try files.loadModel(on: backend, maxPositions: 64)
            try model.attach(try LoRAAdapterWeights.load(file, config: c))
            let d = maxAbs(try logits(model), tuned)
            report.append("\(name): max abs \(d)")
            XCTAssertLessThan(d, fp32, name)
        }
        // Batched decoding with the adapter attached equals one-at-a-time greedy decoding of the merged model.
        let attached = try files.loadModel(on: backend, maxPositions: 64)
        try attached.attach(try LoRAAdapterWeights.load(dir + "/lora.gguf", config: c))
        let prompts = [prompt, files.tokenizer.encode("Name a color:")]
        let batched = try BatchGenerator(model: attached, tokenizer: files.tokenizer, maxBatch: 2)
            .generate(prompts.map { GenerationRequest(prompt: $0, maxTokens: 6) })
        for (i, p) in prompts.enumerated() {
            let alone = try Generator(model: merged, tokenizer: files.tokenizer).generate(prompt: p, maxTokens: 6)
            XCTAssertEqual(batched[i].tokens, alone.tokens, "prompt \(i): batched decode with the adapter attached")
        }

        // (c) merged GGUF in F32, Q8_0 and Q4_K; (d) the Hugging Face directory, sharded.
        // Tolerances on the logits' relative RMS difference. Measured: F32 0; Q8_0 0.016; Q4_K 0.46
        // (transformers on the same file: the same 0.46, so it is the format, not our kernels). Q4_K
        // holds only ffn_down there: SmolLM2's other rows, 576 wide, are not a multiple of 256 and
        // fall back to Q4_1, which keeps the Q4_1 base's grid almost exactly, while Q4_K rounds
        // ffn_down afresh (weights 2% off) and this small model is very sensitive to ffn_down
        // (llama.cpp's Q4_K_M gives ffn_down 6 bits for that reason). Hence the warning.
        for (type, tolerance) in [(GGMLType.f32, 1e-6), (.q8_0, 0.03), (.q4_k, 0.6)] {
            let file = dir + "/merged-\(type.name).gguf"
            let summary = try ModelExport.writeGGUF(
                weights: weights, config: c, source: files, backend: backend, type: type, promptStyle: "chatml", name: "test", to: file)
            let reloaded = try ModelFiles(path: file)
            XCTAssertEqual(reloaded.config, c)
            XCTAssertEqual(try reloaded.gguf?.metadata.string(LoRAAdapterWeights.ggufPromptStyleKey), "chatml")
            XCTAssertEqual(reloaded.tokenizer.chatTemplate, files.tokenizer.chatTemplate)
            XCTAssertEqual(reloaded.tokenizer.encode("Hello, world! 123"), files.tokenizer.encode("Hello, world! 123"))
            let got = try logits(try reloaded.loadModel(on: backend, maxPositions: 64))
            let (d, rms) = (maxAbs(got, tuned), relativeRMS(got, tuned))
            report.append(
                "merged \(type.name): max abs \(d), relative RMS \(rms) (tolerance \(tolerance)); weights' requantization error \(summary.meanRelativeError) mean")
            XCTAssertLessThan(rms, tolerance, "merged \(type.name)")
            if type == .f32 { XCTAssertLessThan(d, fp32) }
            if type == .q4_k { XCTAssertNotNil(summary.warning, "re-quantizing the 4-bit base warns") }
            if type == .f32 { XCTAssertNil(summary.warning) }
        }
        try ModelExport.writeHuggingFace(
            weights: weights, config: c, source: files, backend: backend, dtype: .f32, promptStyle: "chatml", shardBytes: 200 << 20,
            to: dir + "/hf")
        let hf = try ModelFiles(path: dir + "/hf")
        XCTAssertEqual(hf.safetensors.count, 3, "540 MB of f32 in shards of at most 200 MB")
        XCTAssertTrue(FileSystem.exists(dir + "/hf/model.safetensors.index.json"))
        XCTAssertEqual(hf.config.hiddenSize, c.hiddenSize)
        XCTAssertEqual(hf.tokenizer.chatTemplate, files.tokenizer.chatTemplate)
        XCTAssertEqual(hf.tokenizer.encode(String(decoding: try Data(contentsOf: URL(fileURLWithPath: #filePath)).prefix(3000), as: UTF8.self)),
                       files.tokenizer.encode(String(decoding: try Data(contentsOf: URL(fileURLWithPath: #filePath)).prefix(3000), as: UTF8.self)))
        let d = maxAbs(try logits(try hf.loadModel(on: backend, maxPositions: 64)), tuned)
        report.append("hf: max abs \(d)")
        XCTAssertLessThan(d, fp32, "hf directory")
        print("export round trips: " + report.joined(separator: "; "))

        if keep != nil {
            var out = JSONObject()
            out["model"] = .string(path)
            out["prompt"] = .array(prompt.map { .int(Int($0)) })
            out["vocab"] = .int(c.vocabSize)
            try LoRAAdapterWeights.writeJSON(.object(out), to: dir + "/prompt.json")
            try tuned.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: dir + "/tuned-logits.f32")) }
            try base.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: dir + "/base-logits.f32")) }
        }
    }
}
