import IFTCPU
import IFTCore
import IFTData
@testable import IFTModel
@testable import IFTTrain
import XCTest

/// Merged GGUF / Hugging Face exports and GGUF LoRAs of every family (the tiny models of
/// `Fixtures/families`): reloaded, they give the source model's logits; the GGUF holds exactly the
/// tensors llama.cpp's converter lays out (the fixture's `model.gguf`); SentencePiece vocabularies
/// that cannot cross formats are refused by name. `Tools/check-family-export.py` checks the
/// exports with transformers (IFT_EXPORT_KEEP=DIR keeps them).
final class ExportFamilyTests: XCTestCase {
    /// A fresh temporary directory; with IFT_EXPORT_KEEP=DIR, DIR (kept, for
    /// `Tools/check-family-export.py`).
    func tempDir(keep: Bool = false) throws -> String {
        if keep, let dir = ProcessInfo.processInfo.environment["IFT_EXPORT_KEEP"] {
            try FileSystem.makeDirectories(dir)
            return dir
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ift-export-family-\(UUID().uuidString)").path
        try FileSystem.makeDirectories(dir)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    /// Logits of every row of the fixture's micro-batch 0, each from an empty cache.
    func logits(_ m: LlamaModel, _ f: FamilyFixture) throws -> [Float] {
        let b = try f.batches()[0]
        var out: [Float] = []
        for r in 0..<b.batchSize {
            out += try m.backend.floats(try m.forward(Array(b.inputs[r * b.length..<(r + 1) * b.length]), cache: try m.makeCache()))
        }
        return out
    }

    func maxAbs(_ a: [Float], _ b: [Float]) -> Float {
        a.count == b.count ? zip(a, b).map { abs($0 - $1) }.max() ?? 0 : .infinity
    }

    func ropeDifference(_ a: LlamaConfig, _ b: LlamaConfig) throws -> Float {
        maxAbs(try a.ropeTable(positions: 64), try b.ropeTable(positions: 64))
    }

    static let families = ["qwen2", "qwen3", "llama3", "mistral", "phi3"]

    func testMergedGGUFAndHuggingFaceExportsReloadToTheSameModel() throws {
        let dir = try tempDir(keep: true)
        for name in Self.families {
            let f = FamilyFixture(name)
            let files = try f.files(gguf: false)
            let c = files.config
            for be in try cpuBackends() {
                let weights = try files.loadWeights(on: be)
                let source = try logits(try LlamaModel(config: c, weights: weights, backend: be), f)

                // Merged GGUF (F32).
                let gguf = dir + "/\(name)-\(be.name).gguf"
                try ModelExport.writeGGUF(
                    weights: weights, config: c, source: files, backend: be, type: .f32, promptStyle: "chatml", name: nil, to: gguf)
                let g = try ModelFiles(path: gguf)
                let gc = g.config
                XCTAssertEqual(try g.gguf?.metadata.string("general.architecture"), c.family.ggufArchitecture, name)
                XCTAssertEqual(gc.family, c.family == .mistral ? .llama : c.family, "\(name): llama.cpp labels Mistral llama")
                XCTAssertEqual(gc.qkvBias, c.qkvBias, name)
                XCTAssertEqual(gc.outputBias, c.outputBias, name)
                XCTAssertEqual(gc.qkNorm, c.qkNorm, name)
                XCTAssertEqual(gc.slidingWindow, c.slidingWindow, name)
                XCTAssertEqual(gc.tieWordEmbeddings, c.tieWordEmbeddings, name)
                XCTAssertEqual(gc.ropeTheta, c.ropeTheta, name)
                XCTAssertEqual(gc.ropeScaling?.type, c.ropeScaling?.type == "llama3" ? nil : c.ropeScaling?.type, name)
                XCTAssertEqual(gc.ropeFrequencyFactors != nil, c.ropeScaling?.type == "llama3", "\(name): llama3 scaling as rope_freqs")
                let rope = try ropeDifference(gc, c)
                // llama3's rope_freqs and Phi-3's LongRoPE factors are stored as F32 (as llama.cpp's
                // converter does): the table's angles move by ~1e-6 over 64 positions (measured 1.07e-6).
                let f32Factors = c.ropeScaling?.type == "llama3" || c.ropeScaling?.type == "longrope"
                XCTAssertLessThan(rope, f32Factors ? 5e-6 : 1e-7, "\(name): the same RoPE table")
                let dg = maxAbs(try logits(try g.loadModel(on: be), f), source)
                XCTAssertLessThan(dg, 1e-5, "\(name) GGUF on \(be.name)")

                // The same tensors, names and values as llama.cpp's converter (the fixture's GGUF).
                let reference = try XCTUnwrap(try f.files(gguf: true).gguf)
                let ours = try XCTUnwrap(g.gguf)
                XCTAssertEqual(Set(ours.tensors.map(\.name)), Set(reference.tensors.map(\.name)), "\(name): tensor names")
                var worstTensor: Float = 0
                for t in reference.tensors where ours.contains(tensor: t.name) {
                    XCTAssertEqual(try ours.tensorInfo(t.name).shape, t.shape, "\(name) \(t.name)")
                    XCTAssertEqual(try ours.tensorInfo(t.name).type, .f32, "\(name) \(t.name)")
                    worstTensor = max(worstTensor, maxAbs(try ours.floats(t.name), try reference.floats(t.name)))
                }
                XCTAssertLessThan(worstTensor, 1e-6, "\(name): tensors equal llama.cpp's layout")

                // Hugging Face directory (F32).
                let hfDir = dir + "/\(name)-\(be.name)-hf"
                try ModelExport.writeHuggingFace(
                    weights: weights, config: c, source: files, backend: be, dtype: .f32, promptStyle: "chatml", to: hfDir)
                let h = try ModelFiles(path: hfDir)
                XCTAssertEqual(h.config, c, "\(name): config.json reads back as the source's")
                let json = try JSONValue.parse(contentsOf: hfDir + "/config.json")
                XCTAssertEqual(json["model_type"]?.stringValue, c.family.rawValue)
                XCTAssertEqual(json["architectures"]?.arrayValue?.first?.stringValue, c.family.huggingFaceArchitecture)
                XCTAssertEqual(
                    Set(h.safetensors.flatMap { $0.tensors.map(\.name) }), Set(files.safetensors.flatMap { $0.tensors.map(\.name) }),
                    "\(name): transformers' tensor names")
                let dh = maxAbs(try logits(try h.loadModel(on: be), f), source)
                XCTAssertEqual(dh, 0, "\(name) HF on \(be.name): the same f32 weights")
                print("\(name) on \(be.name): GGUF logits max |diff| \(dg) (rope table \(rope), tensors vs llama.cpp layout \(worstTensor)); HF \(dh)")
            }
        }
    }

    /// A Hugging Face export of a model read from GGUF (Q/K un-permuted on load) and a GGUF
    /// export of it (permuted again for Llama) still give the same logits.
    func testGGUFSourceExportsRoundTrip() throws {
        let dir = try tempDir()
        let be = CPUReferenceBackend()
        for name in ["qwen2", "qwen3", "mistral", "phi3"] {
            let f = FamilyFixture(name)
            let files = try f.files(gguf: true)
            let weights = try files.loadWeights(on: be)
            let source = try logits(try LlamaModel(config: files.config, weights: weights, backend: be), f)
            try ModelExport.writeGGUF(
                weights: weights, config: files.config, source: files, backend: be, type: .f32, promptStyle: nil, name: nil, to: dir + "/\(name).gguf")
            let g = try ModelFiles(path: dir + "/\(name).gguf")
            XCTAssertEqual(g.config.family, files.config.family, name)
            XCTAssertEqual(g.config.ropeScaling?.type, files.config.ropeScaling?.type, name)
            XCTAssertLessThan(try ropeDifference(g.config, files.config), 1e-6, name)
            XCTAssertLessThan(maxAbs(try logits(try g.loadModel(on: be), f), source), 1e-5, name)
            try ModelExport.writeHuggingFace(
                weights: weights, config: files.config, source: files, backend: be, dtype: .f32, promptStyle: nil, to: dir + "/\(name)-hf")
            let h = try ModelFiles(path: dir + "/\(name)-hf")
            XCTAssertEqual(h.config.family, files.config.family, name)
            XCTAssertLessThan(maxAbs(try logits(try h.loadModel(on: be), f), source), 1e-5, name)
        }
        // llama.cpp's rope_freqs factors become Llama 3's rope_scaling again when they fit it.
        let llama3 = try FamilyFixture("llama3").files(gguf: true)
        let weights = try llama3.loadWeights(on: be)
        let source = try logits(try LlamaModel(config: llama3.config, weights: weights, backend: be), FamilyFixture("llama3"))
        try ModelExport.writeHuggingFace(
            weights: weights, config: llama3.config, source: llama3, backend: be, dtype: .f32, promptStyle: nil, to: dir + "/llama3-hf")
        let h = try ModelFiles(path: dir + "/llama3-hf")
        XCTAssertEqual(h.config.ropeScaling, try FamilyFixture("llama3").files(gguf: false).config.ropeScaling, "the fixture's llama3 parameters")
        let d = maxAbs(try logits(try h.loadModel(on: be), FamilyFixture("llama3")), source)
        XCTAssertLessThan(d, 1e-5, "llama3 from GGUF to HF")
        print("llama3 GGUF -> HF: rope_scaling \(h.config.ropeScaling.map { "\($0.parameters)" } ?? "none"), logits max |diff| \(d)")
        // Factors that are not Llama 3's have no config.json form: refused by name.
        var odd = llama3.config
        odd.ropeFrequencyFactors = odd.ropeFrequencyFactors.map { $0.enumerated().map { $0.element * (1 + 0.01 * Double($0.offset)) } }
        XCTAssertThrowsError(
            try ModelExport.writeHuggingFace(
                weights: weights, config: odd, source: llama3, backend: be, dtype: .f32, promptStyle: nil, to: dir + "/odd-hf")
        ) { error in XCTAssertTrue("\(error)".contains("rope_freqs"), "\(error)") }
        XCTAssertFalse(FileSystem.exists(dir + "/odd-hf"), "nothing written")
    }

    /// A Qwen2 LoRA written as GGUF (architecture qwen2, Q/K rows not permuted) and read back
    /// applies as the PEFT adapter and as the merged weights do; a Llama base refuses it by name.
    func testQwen2GGUFLoRAEqualsPEFT() throws {
        let dir = try tempDir()
        let f = FamilyFixture("qwen2")
        let be = CPUReferenceBackend()
        let files = try f.files(gguf: false)
        let c = files.config
        let m = try f.trainable(.lora, backend: be)
        var rng = SeededGenerator(seed: 11)
        for p in m.parameters where p.name.contains("lora_B") {
            try m.setParameter(p.name, (0..<p.value.count).map { _ in 0.2 * rng.normal() })
        }
        let adapter = try m.loraAdapterWeights(baseModel: f.dir, promptStyle: "chatml")
        try adapter.writePEFT(to: dir + "/peft")
        try adapter.writeGGUF(to: dir + "/lora.gguf", config: c)
        let file = try GGUFFile(path: dir + "/lora.gguf")
        XCTAssertEqual(try file.metadata.string("general.architecture"), "qwen2")
        let pair = try XCTUnwrap(adapter.layers[0][.q])
        XCTAssertEqual(try file.floats("blk.0.attn_q.weight.lora_b"), pair.b, "Qwen2's Q rows are not permuted")

        let merged = try logits(try LlamaModel(config: c, weights: try m.mergedWeights(), backend: be), f)
        let base = try logits(try files.loadModel(on: be), f)
        XCTAssertGreaterThan(maxAbs(merged, base), 0.01, "the adapter changes the logits")
        var results: [Float] = []
        for path in [dir + "/peft", dir + "/lora.gguf"] {
            let model = try files.loadModel(on: be)
            try model.attach(try LoRAAdapterWeights.load(path, config: c))
            let d = maxAbs(try logits(model, f), merged)
            results.append(d)
            XCTAssertLessThan(d, 1e-5, path)
        }
        print("qwen2 LoRA: PEFT vs merged \(results[0]), GGUF LoRA vs merged \(results[1])")

        let llama = try FamilyFixture("llama3").files(gguf: false).config
        XCTAssertThrowsError(try LoRAAdapterWeights(gguf: file, config: llama)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("general.architecture") && text.contains("qwen2") && text.contains("llama"), text)
        }
    }

    /// A Phi-3 LoRA trained on the fused modules: its PEFT export (`qkv_proj`, `gate_up_proj`
    /// names, one adapter each) attached to the base, and the merged weights (fused tensors split
    /// back into Q/K/V and gate/up, exported as Hugging Face and GGUF and reloaded), give the same
    /// logits. With IFT_EXPORT_KEEP=DIR, `phi3-peft/` and our logits `phi3-peft-logits.safetensors`
    /// stay for `Tools/check-family-export.py`, which loads the adapter with `peft`.
    func testPhi3PEFTAdapterAndMergedExportsAgree() throws {
        let dir = try tempDir(keep: true)
        let f = FamilyFixture("phi3")
        let be = CPUReferenceBackend()
        let files = try f.files(gguf: false)
        let c = files.config
        let m = try f.trainable(.lora, backend: be)
        try m.zeroGradients()
        for b in try f.batches() { try m.step(b, lossScale: 0.05) }
        var rng = SeededGenerator(seed: 12)
        for p in m.parameters where p.name.contains("lora_B") {
            try m.setParameter(p.name, (0..<p.value.count).map { _ in 0.2 * rng.normal() })
        }
        try m.exportPEFTAdapter(to: dir + "/phi3-peft", baseModel: f.dir)
        let peftConfig = try JSONValue.parse(contentsOf: dir + "/phi3-peft/adapter_config.json")
        XCTAssertEqual(
            Set(peftConfig["target_modules"]?.arrayValue?.compactMap(\.stringValue) ?? []), ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"])
        let names = Set(try SafetensorsFile(path: dir + "/phi3-peft/adapter_model.safetensors").tensors.map(\.name))
        XCTAssertTrue(names.contains("base_model.model.model.layers.1.self_attn.qkv_proj.lora_B.weight"), "\(names.sorted())")
        XCTAssertTrue(names.contains("base_model.model.model.layers.0.mlp.gate_up_proj.lora_A.weight"), "\(names.sorted())")

        let merged = try logits(try m.inferenceModel(), f)
        let base = try logits(try files.loadModel(on: be), f)
        XCTAssertGreaterThan(maxAbs(merged, base), 0.01, "the adapter changes the logits")
        let attached = try files.loadModel(on: be)
        try attached.attach(try LoRAAdapterWeights.load(dir + "/phi3-peft", config: c))
        let dAttached = maxAbs(try logits(attached, f), merged)
        XCTAssertLessThan(dAttached, 1e-5, "PEFT adapter attached vs merged")
        // The same adapter as a llama.cpp GGUF LoRA (attn_qkv, ffn_up holding gate and up).
        try m.loraAdapterWeights().writeGGUF(to: dir + "/phi3-lora.gguf", config: c)
        let loraFile = try GGUFFile(path: dir + "/phi3-lora.gguf")
        XCTAssertEqual(try loraFile.tensorInfo("blk.0.ffn_up.weight.lora_b").shape, [64, 4])
        XCTAssertEqual(try loraFile.tensorInfo("blk.1.attn_qkv.weight.lora_b").shape, [32, 4])
        let fromGGUF = try files.loadModel(on: be)
        try fromGGUF.attach(try LoRAAdapterWeights.load(dir + "/phi3-lora.gguf", config: c))
        let dLoRAGGUF = maxAbs(try logits(fromGGUF, f), merged)
        XCTAssertLessThan(dLoRAGGUF, 1e-5, "GGUF LoRA attached vs merged")
        var w = SafetensorsWriter()
        try w.addTensor(name: "logits", shape: [merged.count / c.vocabSize, c.vocabSize], floats: merged)
        try w.write(to: dir + "/phi3-peft-logits.safetensors")

        let weights = try m.mergedWeights()
        try ModelExport.writeGGUF(weights: weights, config: c, source: files, backend: be, type: .f32, promptStyle: nil, name: nil, to: dir + "/phi3-merged.gguf")
        try ModelExport.writeHuggingFace(weights: weights, config: c, source: files, backend: be, dtype: .f32, promptStyle: nil, to: dir + "/phi3-merged-hf")
        let dg = maxAbs(try logits(try ModelFiles(path: dir + "/phi3-merged.gguf").loadModel(on: be), f), merged)
        let dh = maxAbs(try logits(try ModelFiles(path: dir + "/phi3-merged-hf").loadModel(on: be), f), merged)
        XCTAssertLessThan(dg, 1e-5, "merged GGUF")
        XCTAssertLessThan(dh, 1e-5, "merged HF")
        print("phi3 LoRA: PEFT attached vs merged \(dAttached), GGUF LoRA \(dLoRAGGUF); merged GGUF \(dg), merged HF \(dh)")
    }

    /// SentencePiece vocabularies: a GGUF source's metadata is copied into a GGUF export (the
    /// vocabulary encodes the same after the round trip) and written as a tokenizer.json that gives
    /// llama.cpp's ids; GGUF metadata cannot be made from a SentencePiece tokenizer.json (no
    /// scores): refused naming the file.
    func testSentencePieceTokenizersRoundTripOrAreRefused() throws {
        let dir = try tempDir()
        let be = CPUReferenceBackend()
        let fixtures = FamilyFixture.root + "/../../../IFTModelTests/Fixtures"
        let vocab = try ModelFiles(path: fixtures + "/llama-cpp/ggml-vocab-llama-spm.gguf")
        XCTAssertNotNil(vocab.tokenizer.sentencePiece)
        var c = familyConfig(.llama)
        c.vocabSize = vocab.tokenizer.tokens.count
        c.bosTokenID = 1
        c.eosTokenIDs = [2]
        let weights = try tinyFamilyWeights(c, on: be)
        try ModelExport.writeGGUF(weights: weights, config: c, source: vocab, backend: be, type: .f32, promptStyle: nil, name: nil, to: dir + "/spm.gguf")
        let spm = try ModelFiles(path: dir + "/spm.gguf")
        XCTAssertNotNil(spm.tokenizer.sentencePiece)
        let text = "Hello world, this is a SentencePiece test: ünïcödé 123"
        XCTAssertEqual(spm.tokenizer.encode(text), vocab.tokenizer.encode(text))
        // To tokenizer.json: llama.cpp's own test vectors for this vocabulary encode to the same ids.
        try ModelExport.writeHuggingFace(weights: weights, config: c, source: spm, backend: be, dtype: .f32, promptStyle: nil, to: dir + "/hf")
        let hfSPM = try ModelFiles(path: dir + "/hf")
        XCTAssertEqual(hfSPM.tokenizer.sentencePiece?.prefix, .always)
        let base = fixtures + "/llama-cpp/ggml-vocab-llama-spm.gguf"
        var texts = try String(contentsOfFile: base + ".inp", encoding: .utf8).components(separatedBy: "\n__ggml_vocab_test__\n")
        if let last = texts.last, last.hasSuffix("\n__ggml_vocab_test__") { texts[texts.count - 1] = String(last.dropLast("\n__ggml_vocab_test__".count)) }
        let wants = try String(contentsOfFile: base + ".out", encoding: .utf8).components(separatedBy: "\n")
        XCTAssertGreaterThanOrEqual(texts.count, 40)
        var same = 0
        for (text, want) in zip(texts, wants) {
            let ids = hfSPM.tokenizer.encode(text)
            XCTAssertEqual(ids, want.split(separator: " ").compactMap { Int32($0) }, text.debugDescription)
            XCTAssertEqual(hfSPM.tokenizer.decode(ids), text, text.debugDescription)
            if ids == spm.tokenizer.encode(text) { same += 1 }
        }
        XCTAssertEqual(same, min(texts.count, wants.count))
        XCTAssertEqual(hfSPM.tokenizer.encode(text + " <s> x", parseSpecial: true), spm.tokenizer.encode(text + " <s> x", parseSpecial: true))
        print("SentencePiece GGUF -> tokenizer.json: \(same)/\(min(texts.count, wants.count)) llama.cpp vectors encode the same")
        let (a, b) = (try hfSPM.loadModel(on: be), try spm.loadModel(on: be))
        let prompt: [Int32] = [1, 15043, 3186]
        XCTAssertEqual(maxAbs(try be.floats(try a.forward(prompt, cache: try a.makeCache())), try be.floats(try b.forward(prompt, cache: try b.makeCache()))), 0)
        if let keep = ProcessInfo.processInfo.environment["IFT_EXPORT_KEEP"] {
            try? FileManager.default.removeItem(atPath: keep + "/spm-tokenizer.json")
            try FileSystem.makeDirectories(keep)
            try FileManager.default.copyItem(atPath: dir + "/hf/tokenizer.json", toPath: keep + "/spm-tokenizer.json")
        }

        // A Hugging Face directory with a SentencePiece (byte_fallback) tokenizer.json.
        let json = try XCTUnwrap(try JSONValue.parse(contentsOf: fixtures + "/spm-tokenizer.json")["tokenizers"]?["legacy"])
        let hf = dir + "/spm-hf"
        try FileSystem.makeDirectories(hf)
        try LoRAAdapterWeights.writeJSON(json, to: hf + "/tokenizer.json")
        try ModelExport.writeHuggingFace(weights: weights, config: c, source: try FamilyFixture("llama3").files(gguf: false), backend: be, dtype: .f32, promptStyle: nil, to: dir + "/tmp-hf")
        try FileManager.default.copyItem(atPath: dir + "/tmp-hf/config.json", toPath: hf + "/config.json")
        try FileManager.default.copyItem(atPath: dir + "/tmp-hf/model.safetensors", toPath: hf + "/model.safetensors")
        let hfFiles = try ModelFiles(path: hf)
        XCTAssertNotNil(hfFiles.tokenizer.sentencePiece)
        XCTAssertThrowsError(
            try ModelExport.writeGGUF(weights: weights, config: c, source: hfFiles, backend: be, type: .f32, promptStyle: nil, name: nil, to: dir + "/x.gguf")
        ) { error in
            guard case IFTError.file(let path, _, let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(path.hasSuffix("tokenizer.json"), path)
            XCTAssertTrue(message.contains("SentencePiece"), message)
        }
        XCTAssertFalse(FileSystem.exists(dir + "/x.gguf"), "nothing written")
    }

    /// Structures transformers' config cannot hold are refused before anything is written.
    func testInexpressibleStructuresAreRefused() throws {
        let dir = try tempDir()
        let be = CPUReferenceBackend()
        let files = try FamilyFixture("llama3").files(gguf: false)
        var c = familyConfig(.llama)
        c.qkvBias = true  // Q/K/V biases without the output bias: no attention_bias form for Llama.
        let weights = try tinyFamilyWeights(c, on: be)
        XCTAssertThrowsError(
            try ModelExport.writeHuggingFace(weights: weights, config: c, source: files, backend: be, dtype: .f32, promptStyle: nil, to: dir + "/hf")
        ) { error in XCTAssertTrue("\(error)".contains("attention_bias"), "\(error)") }
        // A bias the config does not declare would be dropped: refused naming the tensor.
        var undeclared = c
        undeclared.qkvBias = false
        XCTAssertThrowsError(
            try ModelExport.writeGGUF(weights: weights, config: undeclared, source: files, backend: be, type: .f32, promptStyle: nil, name: nil, to: dir + "/x.gguf")
        ) { error in XCTAssertTrue("\(error)".contains("blk.0.attn_q.bias"), "\(error)") }
        XCTAssertFalse(FileSystem.exists(dir + "/hf"))
        XCTAssertFalse(FileSystem.exists(dir + "/x.gguf"))
    }
}
