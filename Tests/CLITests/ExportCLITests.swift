import Foundation
import XCTest

/// `ift-gpu export` and `--adapter` end to end on the real SmolLM2-135M-Instruct, with a small PEFT
/// adapter written here: exports, refuses to overwrite, and bad adapters exit non-zero naming the
/// file and tensor, writing nothing.
final class ExportCLITests: XCTestCase {
    let cli = CLITests.self

    /// A safetensors file of f32 tensors.
    func safetensors(_ tensors: [(String, [Int], [Float])]) -> Data {
        var header = "{\"__metadata__\":{\"format\":\"pt\"}"
        var offset = 0
        for (name, shape, values) in tensors {
            header += ",\"\(name)\":{\"dtype\":\"F32\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],"
                + "\"data_offsets\":[\(offset),\(offset + values.count * 4)]}"
            offset += values.count * 4
        }
        header += "}"
        while header.utf8.count % 8 != 0 { header += " " }
        var data = Data()
        var n = UInt64(header.utf8.count).littleEndian
        data.append(Data(bytes: &n, count: 8))
        data.append(Data(header.utf8))
        for (_, _, values) in tensors { values.withUnsafeBytes { data.append(contentsOf: $0) } }
        return data
    }

    /// A rank-2 PEFT adapter on layer 0's q_proj and layer 3's down_proj of SmolLM2-135M.
    func writeAdapter(_ dir: URL, model: String, rank configRank: Int = 2) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let r = 2
        func values(_ n: Int, _ s: Float) -> [Float] { (0..<n).map { s * Float(($0 * 7919) % 23 - 11) / 11 } }
        let p = "base_model.model.model.layers."
        let tensors: [(String, [Int], [Float])] = [
            (p + "0.self_attn.q_proj.lora_A.weight", [r, 576], values(r * 576, 0.05)),
            (p + "0.self_attn.q_proj.lora_B.weight", [576, r], values(576 * r, 0.05)),
            (p + "3.mlp.down_proj.lora_A.weight", [r, 1536], values(r * 1536, 0.05)),
            (p + "3.mlp.down_proj.lora_B.weight", [576, r], values(576 * r, 0.05)),
        ]
        try safetensors(tensors).write(to: dir.appendingPathComponent("adapter_model.safetensors"))
        let config = """
            {"peft_type": "LORA", "base_model_name_or_path": "\(model)", "r": \(configRank), "lora_alpha": 4,
             "target_modules": ["q_proj", "down_proj"], "bias": "none", "fan_in_fan_out": false}
            """
        try Data(config.utf8).write(to: dir.appendingPathComponent("adapter_config.json"))
    }

    func testExportAndAdapterOptionsEndToEnd() throws {
        let env = ProcessInfo.processInfo.environment
        guard let model = env["IFT_SMOLLM2_GGUF"], FileManager.default.fileExists(atPath: model) else {
            if env["IFT_REQUIRE_MODEL"] == "1" { return XCTFail("IFT_REQUIRE_MODEL=1 but IFT_SMOLLM2_GGUF is not set") }
            throw XCTSkip("set IFT_SMOLLM2_GGUF (Tools/test.sh does) to run this test")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ift-export-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let peft = dir.appendingPathComponent("peft")
        try writeAdapter(peft, model: model)
        let lora = dir.appendingPathComponent("lora.gguf").path

        let exported = try cli.run(["export", "--from", peft.path, "--format", "gguf-lora", "--output", lora, "--backend", "cpu"])
        XCTAssertEqual(exported.status, 0, exported.stderr)
        XCTAssertTrue(exported.stdout.contains("wrote GGUF LoRA (rank 2"), exported.stdout)
        let size = try FileManager.default.attributesOfItem(atPath: lora)[.size] as? Int
        XCTAssertGreaterThan(size ?? 0, (576 * 2 * 3 + 1536 * 2) * 4, "four f32 tensors")

        let again = try cli.run(["export", "--from", peft.path, "--format", "gguf-lora", "--output", lora])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("--force"), again.stderr)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: lora)[.size] as? Int, size)

        for adapter in [peft.path, lora] {
            let g = try cli.run([
                "generate", "--model", model, "--adapter", adapter, "--prompt", "The capital of France is", "--max-tokens", "3",
                "--backend", "cpu",
            ])
            XCTAssertEqual(g.status, 0, g.stderr)
            XCTAssertTrue(g.stderr.contains("generated"), g.stderr)
            XCTAssertTrue(g.stderr.contains("(rank 2, scale 2.0, q_proj,down_proj), not merged"), g.stderr)
        }

        // A config whose rank contradicts the tensors: refused naming file and tensor, nothing written.
        let bad = dir.appendingPathComponent("bad")
        try writeAdapter(bad, model: model, rank: 4)
        let out = dir.appendingPathComponent("bad.gguf").path
        let refused = try cli.run(["export", "--from", bad.path, "--format", "gguf-lora", "--output", out])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("adapter_model.safetensors"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("tensor base_model.model.model.layers."), refused.stderr)
        let hf = try cli.run(["export", "--from", bad.path, "--format", "hf", "--output", dir.appendingPathComponent("hf").path])
        XCTAssertNotEqual(hf.status, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["bad", "lora.gguf", "peft"])
        let g = try cli.run(["generate", "--model", model, "--adapter", bad.path, "--prompt", "Hi", "--backend", "cpu"])
        XCTAssertNotEqual(g.status, 0)
        XCTAssertTrue(g.stderr.contains("rank r = 4"), g.stderr)
    }
}
