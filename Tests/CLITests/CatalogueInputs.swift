import Foundation

/// The malformed inputs of `BadInputCatalogueTests`, made from the tiny model fixtures
/// (`Tools/make-cli-fixture.py`) by cutting, patching and rewriting bytes.
enum CatalogueInputs {
    static func write(_ data: Data, _ path: String) throws {
        try data.write(to: URL(fileURLWithPath: path))
    }

    static func write(_ text: String, _ path: String) throws {
        try write(Data(text.utf8), path)
    }

    static func u64(_ v: UInt64) -> Data { withUnsafeBytes(of: v.littleEndian) { Data($0) } }
    static func u32(_ v: UInt32) -> Data { withUnsafeBytes(of: v.littleEndian) { Data($0) } }

    static func patched(_ d: Data, at offset: Int, _ bytes: Data) -> Data {
        var out = d
        out.replaceSubrange(offset..<offset + bytes.count, with: bytes)
        return out
    }

    static func make(in dir: String, fixtures: String) throws {
        let fm = FileManager.default
        let gguf = try Data(contentsOf: URL(fileURLWithPath: fixtures + "/tiny.gguf"))
        // GGUF: header is magic, u32 version, u64 tensor count, u64 metadata count, then keys.
        try write(Data(), dir + "/empty.gguf")
        try write(gguf.prefix(100), dir + "/cut-header.gguf")
        try write(gguf.prefix(gguf.count - 1000), dir + "/cut-data.gguf")
        try write(patched(gguf, at: 0, Data("GGUX".utf8)), dir + "/magic.gguf")
        try write(patched(gguf, at: 4, u32(99)), dir + "/version.gguf")
        try write(patched(gguf, at: 8, u64(1 << 60)), dir + "/tensors.gguf")
        try write(patched(gguf, at: 24, u64(1 << 62)), dir + "/keylen.gguf")
        // The first dimension of token_embd.weight's tensor info (after the name and n_dims).
        let name = Data("token_embd.weight".utf8)
        guard let at = gguf.range(of: name, in: 24..<gguf.count) else { throw CocoaError(.fileReadCorruptFile) }
        try write(patched(gguf, at: at.upperBound + 4, u64(1 << 40)), dir + "/huge.gguf")
        try write("This is not a model.\n", dir + "/text.gguf")

        // Hugging Face directories: copies of tiny-hf with one file broken.
        let hf = fixtures + "/tiny-hf"
        let st = try Data(contentsOf: URL(fileURLWithPath: hf + "/model.safetensors"))
        func model(_ name: String, safetensors: Data? = nil, _ edit: (String) throws -> Void = { _ in }) throws {
            let d = dir + "/" + name
            try fm.copyItem(atPath: hf, toPath: d)
            if let safetensors { try write(safetensors, d + "/model.safetensors") }
            try edit(d)
        }
        let headerLength = Int(st.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try JSONSerialization.jsonObject(with: st.subdata(in: 8..<8 + headerLength)) as? [String: Any] ?? [:]
        let body = st.suffix(from: 8 + headerLength)
        func withHeader(_ edit: (inout [String: [String: Any]]) -> Void) throws -> Data {
            var h: [String: [String: Any]] = [:]
            for (k, v) in header { h[k] = v as? [String: Any] ?? [:] }
            edit(&h)
            var json = try JSONSerialization.data(withJSONObject: h, options: [.sortedKeys])
            json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
            return u64(UInt64(json.count)) + json + body
        }
        try model("st-cut", safetensors: st.prefix(st.count - 500))
        try model("st-header", safetensors: patched(st, at: 0, u64(UInt64(st.count * 10))))
        try model("st-huge", safetensors: patched(st, at: 0, u64(1 << 63)))
        try model("st-json", safetensors: st.prefix(8) + Data(repeating: UInt8(ascii: "{"), count: headerLength) + body)
        try model("st-offsets", safetensors: withHeader { h in h["model.norm.weight"]?["data_offsets"] = [70400, 1_000_000_070_400] })
        try model("st-dtype", safetensors: withHeader { h in h["model.norm.weight"]?["dtype"] = "F64" })
        try model("st-empty", safetensors: Data())
        try model("cfg-cut") { try write("{\"hidden_size\": 32,", $0 + "/config.json") }
        func editConfig(_ d: String, _ edit: (inout [String: Any]) -> Void) throws {
            var c = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: d + "/config.json"))) as? [String: Any] ?? [:]
            edit(&c)
            try write(JSONSerialization.data(withJSONObject: c), d + "/config.json")
        }
        try model("cfg-key") { try editConfig($0) { $0["hidden_size"] = nil } }
        try model("cfg-shape") { try editConfig($0) { $0["intermediate_size"] = 48 } }
        try model("no-tokenizer") { try fm.removeItem(atPath: $0 + "/tokenizer.json") }
        try model("bad-tokenizer") { try write("{\"model\": {\"type\": \"BPE\", \"vocab\": [1, 2]}}", $0 + "/tokenizer.json") }

        // Datasets: 40 good Alpaca rows, then one bad row (line 6) after five good ones.
        let good = (0..<40).map { "{\"instruction\": \"Say \($0)\", \"input\": \"\", \"output\": \"\($0)\"}\n" }
        let five = good.prefix(5).joined()
        try write(good.joined(), dir + "/good.jsonl")
        try write(Data(five.utf8) + Data("{\"instruction\": \"bad ".utf8) + Data([0xFF, 0xFE]) + Data(" bytes\", \"output\": \"x\"}\n".utf8), dir + "/utf8.jsonl")
        try write(five + "{\"instruction\": 42, \"input\": \"\", \"output\": \"x\"}\n", dir + "/type.jsonl")
        try write(five + "{\"instruction\": \"\", \"input\": \"\", \"output\": \"x\"}\n", dir + "/empty-field.jsonl")
        try write(five + "{\"instruction\": null, \"input\": \"\", \"output\": \"x\"}\n", dir + "/null.jsonl")
        try write(five + "{\"instruction\": \"q\", \"input\": \"\", \"output\": \"" + String(repeating: "x", count: 10_000_010) + "\"}\n", dir + "/big-row.jsonl")
        try write(good.prefix(3).joined() + "{\"instruction\": \"a\", \"output\": \n", dir + "/cut-row.jsonl")
        try write("{\"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]}\n", dir + "/role.jsonl")
        try write("", dir + "/empty.jsonl")
        try write("[]", dir + "/empty-array.json")
        try write(String(repeating: "{\"foo\": 1}\n", count: 3), dir + "/keys.jsonl")

        // YAML configs.
        try write("lr: 1e-4\nlora-targets: [q, v\n", dir + "/unclosed.yaml")
        try write("lr: 1e-4\n\tbatch-size: 2\n", dir + "/tab.yaml")
        try write("- lr\n- rank\n", dir + "/list.yaml")
        try write("lr: 1e-4\nbatch-sise: 4\n", dir + "/key.yaml")
        try write("rank: [1, 2]\n", dir + "/rank-list.yaml")
        try write("lr: fast\n", dir + "/value.yaml")
        // 100,000 nested flow sequences: the YAML composer recurses once per level (a stack overflow).
        try write("lr: " + String(repeating: "[", count: 100_000) + "\n", dir + "/deep.yaml")
    }

    /// Broken copies of the checkpoint `ck/checkpoint`.
    static func breakCheckpoints(in dir: String) throws {
        let fm = FileManager.default
        let ck = dir + "/ck/checkpoint"
        for name in ["ck-state", "ck-cut", "ck-noopt"] { try fm.copyItem(atPath: ck, toPath: dir + "/" + name) }
        try write("{\n", dir + "/ck-state/state.json")
        let weights = try Data(contentsOf: URL(fileURLWithPath: ck + "/trainable.safetensors"))
        try write(weights.prefix(300), dir + "/ck-cut/trainable.safetensors")
        try fm.removeItem(atPath: dir + "/ck-noopt/optimizer.safetensors")
    }
}
