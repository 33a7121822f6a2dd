import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The bad-input catalogue: malformed model files, checkpoints of another model, bad dataset rows,
/// out-of-range settings, missing devices and libraries, unwritable outputs, bad configs and server
/// flags, each fed to the built `ift-gpu`. Every row must exit non-zero with exactly one `Error:`
/// line that holds the row's substrings (the file/row/option and what to do), no crash, and no
/// partial output: the sandbox it runs in (its working directory, holding every input and the
/// `out` path the commands are told to write) is unchanged afterwards.
final class BadInputCatalogueTests: XCTestCase {
    /// One malformed input: the arguments (`$FX` is the fixture directory, `$SB` the sandbox), extra
    /// environment, and the substrings its error line must hold.
    struct Row {
        var name: String
        var args: [String]
        var expect: [String]
        var env: [String: String] = [:]
        /// Runs the command through `unshare` with the sandbox's `ro` directory mounted read-only.
        var readOnlyMount = false
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    var binary: String {
        let dir = Bundle.main.executableURL?.deletingLastPathComponent()
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return dir.appendingPathComponent("ift-gpu").path
    }

    /// `train` on the tiny model with small settings; `extra` comes last and wins.
    static func train(_ extra: [String], model: String = "$FX/tiny.gguf", data: String = "good.jsonl") -> [String] {
        ["train", "--model", model, "--data", data, "--backend", "cpu-ref", "--max-steps", "1", "--batch-size", "2",
         "--max-length", "32", "--rank", "2", "--output", "out"] + extra
    }

    static func generate(_ model: String, _ extra: [String] = []) -> [String] {
        ["generate", "--model", model, "--backend", "cpu-ref", "--prompt", "hi", "--max-tokens", "2"] + extra
    }

    static let skipAdvice = "pass --skip-invalid"

    /// The catalogue.
    static var rows: [Row] {
        var r: [Row] = []
        func row(_ name: String, _ args: [String], _ expect: [String], env: [String: String] = [:]) {
            r.append(Row(name: name, args: args, expect: expect, env: env))
        }
        // Model files: GGUF.
        row("empty gguf", generate("empty.gguf"), ["empty.gguf", "truncated", "file is 0 bytes"])
        row("gguf cut in its header", generate("cut-header.gguf"), ["cut-header.gguf", "tensor count is 11, impossible"])
        row("gguf cut in its tensor data", train([], model: "cut-data.gguf"), ["cut-data.gguf", "runs past the end of the file", "truncated file?"])
        row("gguf bad magic", generate("magic.gguf"), ["magic.gguf", "not a GGUF file"])
        row("gguf unknown version", generate("version.gguf"), ["version.gguf", "unsupported GGUF version 99", "versions 2 and 3"])
        row("gguf absurd tensor count", generate("tensors.gguf"), ["tensors.gguf", "tensor count is 1152921504606846976, impossible"])
        row("gguf absurd key length", ["tokenize", "--model", "keylen.gguf", "hello"], ["keylen.gguf", "offset 24", "impossible"])
        row("gguf oversized tensor", generate("huge.gguf"), ["huge.gguf", "token_embd.weight", "absurd dimension"])
        row("gguf that is a text file", generate("text.gguf"), ["text.gguf", "not a GGUF file"])
        row("model path missing", generate("missing.gguf"), ["'missing.gguf' is neither a file or directory nor a known model"])
        // Hugging Face Hub models (the hub's own refusals, cuts and corruptions: HubPullCLITests).
        row("hf: name without ORG/", ["model", "pull", "hf:justaname"], ["'hf:justaname' is not a Hugging Face model name", "expected hf:ORG/NAME"])
        row("hf: model not pulled", generate("hf:org/name"), ["model hf:org/name is not downloaded yet", "run `ift-gpu model pull hf:org/name`"])
        row("hub unreachable", ["model", "pull", "hf:org/name"], ["cannot reach the Hugging Face Hub at http://127.0.0.1:1", "HF_ENDPOINT"],
            env: ["HF_ENDPOINT": "http://127.0.0.1:1"])
        // Model files: Hugging Face directories.
        row("safetensors cut short", generate("st-cut"), ["st-cut/model.safetensors", "run past the end of the data section", "truncated file?"])
        row("safetensors header longer than the file", generate("st-header"), ["st-header/model.safetensors", "header length 716400 runs past the end"])
        row("safetensors header length 2^63", generate("st-huge"), ["st-huge/model.safetensors", "header length 9223372036854775808"])
        row("safetensors header not JSON", generate("st-json"), ["st-json/model.safetensors", "expected a string key"])
        row("safetensors offsets beyond the file", generate("st-offsets"), ["st-offsets/model.safetensors", "model.norm.weight", "run past the end"])
        row("safetensors unsupported dtype", generate("st-dtype"), ["st-dtype/model.safetensors", "dtype F64 is not supported"])
        row("empty safetensors", generate("st-empty"), ["st-empty/model.safetensors", "file is 0 bytes"])
        row("config.json cut short", generate("cfg-cut"), ["cfg-cut/config.json", "line 1"])
        row("config.json without hidden_size", generate("cfg-key"), ["cfg-key/config.json", "hidden_size", "missing"])
        row("config.json of another shape", train([], model: "cfg-shape"), ["cfg-shape/model.safetensors", "expected shape [48, 32], the file has [64, 32]"])
        row("no tokenizer.json", generate("no-tokenizer"), ["no-tokenizer", "no tokenizer.json"])
        row("tokenizer.json of the wrong form", generate("bad-tokenizer"), ["bad-tokenizer/tokenizer.json", "model.vocab"])
        // Checkpoints: another model's, broken ones.
        row("resume another model's checkpoint", train(["--resume", "ck/checkpoint"], model: "$FX/tiny-other.gguf"),
            ["cannot resume from ck/checkpoint", "model"])
        row("resume a checkpoint whose model file was replaced by another model", train(["--resume", "ck2/checkpoint"], model: "replaced.gguf"),
            ["ck2/checkpoint/trainable.safetensors", "does not match this run's", "another model or LoRA rank?"])
        row("resume with another LoRA rank", train(["--resume", "ck/checkpoint", "--rank", "4"]), ["cannot resume from ck/checkpoint", "lora_rank"])
        row("resume a missing checkpoint", train(["--resume", "nowhere"]), ["nowhere", "not a checkpoint directory"])
        row("resume a checkpoint with a broken state.json", train(["--resume", "ck-state"]), ["ck-state/state.json", "line 2"])
        row("resume a checkpoint with cut weights", train(["--resume", "ck-cut"]), ["ck-cut/trainable.safetensors", "truncated"])
        row("resume a checkpoint without its optimizer state", train(["--resume", "ck-noopt"]), ["ck-noopt/optimizer.safetensors", "cannot open"])
        row("eval another model's checkpoint", ["eval", "loss", "--checkpoint", "ck/checkpoint", "--model", "$FX/tiny-other.gguf",
            "--data", "good.jsonl", "--backend", "cpu-ref", "--output", "out"], ["ck/checkpoint/trainable.safetensors", "another model"])
        // Datasets.
        row("dataset row with invalid UTF-8", train([], data: "utf8.jsonl"), ["utf8.jsonl:line 6", "not valid UTF-8", skipAdvice])
        row("dataset row of the wrong type", train([], data: "type.jsonl"), ["type.jsonl:line 6", "\"instruction\" must be a string", skipAdvice])
        row("dataset row with an empty instruction", train([], data: "empty-field.jsonl"), ["empty-field.jsonl:line 6", "is empty", skipAdvice])
        row("dataset row with a null", train([], data: "null.jsonl"), ["null.jsonl:line 6", "got null", skipAdvice])
        row("dataset row of 10 MB", train([], data: "big-row.jsonl"), ["big-row.jsonl:line 6", "10000011 bytes of text", skipAdvice])
        row("dataset row cut short", train([], data: "cut-row.jsonl"), ["cut-row.jsonl:line 4", "invalid JSON", skipAdvice])
        row("chat row with an unknown role", train([], data: "role.jsonl"), ["role.jsonl:line 1", "unknown role \"wizard\""])
        row("empty dataset", train([], data: "empty.jsonl"), ["empty.jsonl:line 1", "the file is empty"])
        row("dataset of an empty array", train([], data: "empty-array.json"), ["empty-array.json:line 1", "no JSON object rows"])
        row("dataset of unknown keys", train([], data: "keys.jsonl"), ["keys.jsonl:line 1", "cannot tell the dataset format", "expected instruction/input/output"])
        row("dataset missing", train([], data: "nowhere.jsonl"), ["dataset 'nowhere.jsonl' does not exist", "pass --data FILE"])
        row("data inspect of a bad row", ["data", "inspect", "type.jsonl", "--model", "$FX/tiny.gguf"], ["type.jsonl:line 6", "--skip-invalid"])
        row("responses without model_response", ["eval", "metrics", "--responses", "good.jsonl", "--output", "out"],
            ["good.jsonl:1", "expected a string field 'model_response'"])
        // Settings out of range.
        row("learning rate NaN", train(["--lr", "nan"]), ["--lr must be a positive number"])
        row("batch size 0", train(["--batch-size", "0"]), ["--batch-size", "must be >= 1"])
        row("LoRA rank 0", train(["--rank", "0"]), ["--rank must be >= 1"])
        row("LoRA dropout 1", train(["--lora-dropout", "1"]), ["--lora-dropout must be in [0, 1)"])
        row("weight decay NaN", train(["--weight-decay", "nan"]), ["--weight-decay must be a number >= 0"])
        row("negative warmup", train(["--warmup=-1"]), ["--warmup", "must be >= 0"])
        row("max length 1", train(["--max-length", "1"]), ["--max-length must be at least 2"])
        row("unknown LoRA target", train(["--lora-targets", "q,zz"]), ["unknown LoRA target 'zz'", "q,k,v,o,gate,up,down"])
        row("unknown mode", train(["--mode", "half"]), ["unknown --mode 'half'", "choose full, lora or qlora"])
        row("top-p 2", generate("$FX/tiny.gguf", ["--top-p", "2"]), ["--top-p must be in (0, 1]"])
        row("zero threads", train(["--threads", "0"]), ["--threads must be at least 1"])
        // Devices and libraries.
        row("unknown backend", train(["--backend", "tpu"]), ["unknown backend 'tpu'", "auto, vulkan, cpu, cpu-ref"])
        row("Vulkan device out of range", train(["--backend", "vulkan", "--device", "99"]), ["device index 99 is out of range", "ift-gpu devices"])
        row("IFT_DEVICE not a number", train(["--backend", "vulkan"]), ["IFT_DEVICE must be a device index"], env: ["IFT_DEVICE": "gpu0"])
        row("Vulkan loader missing", train(["--backend", "vulkan"]), ["Vulkan loader could not be opened", "--backend cpu"],
            env: ["IFT_VULKAN_LOADER": "/nonexistent/libvulkan.so.1"])
        row("device memory exhausted", train(["--backend", "vulkan"]),
            ["out of device memory", "IFT_VULKAN_MEMORY_LIMIT allows 65536 bytes", "MiB in use", "smaller --batch-size", "--mode qlora"],
            env: ["IFT_VULKAN_MEMORY_LIMIT": "64K"])
        row("Vulkan device lost", train(["--backend", "vulkan"]), ["the Vulkan device was lost", "VK_ERROR_DEVICE_LOST", "--backend cpu"],
            env: ["IFT_VULKAN_INJECT_DEVICE_LOST": "1"])
        row("IFT_VULKAN_MEMORY_LIMIT not a size", train(["--backend", "vulkan"]), ["IFT_VULKAN_MEMORY_LIMIT must be a size", "512M"],
            env: ["IFT_VULKAN_MEMORY_LIMIT": "lots"])
        row("BLAS library missing", train(["--backend", "cpu"]), ["IFT_BLAS_LIBRARY=/nonexistent/libopenblas.so.0 could not be opened", "--backend cpu-ref"],
            env: ["IFT_BLAS_LIBRARY": "/nonexistent/libopenblas.so.0"])
        row("BLAS library not a library", generate("$FX/tiny.gguf", ["--backend", "cpu"]), ["IFT_BLAS_LIBRARY=good.jsonl could not be opened"],
            env: ["IFT_BLAS_LIBRARY": "good.jsonl"])
        // Outputs.
        r.append(Row(name: "read-only output directory", args: train(["--output", "ro/run"]), expect: ["ro/run", "--output", "choose a writable --output directory"], readOnlyMount: true))
        row("output under a file", train(["--output", "good.jsonl/run"]), ["good.jsonl/run", "good.jsonl is a file, not a directory", "choose another --output"])
        row("output that is a file", train(["--output", "good.jsonl"]), ["good.jsonl", "is a file, not a directory"])
        // YAML configs.
        row("YAML syntax error", train(["--config", "unclosed.yaml"]), ["unclosed.yaml:3:1: invalid YAML", "fix the YAML"])
        row("YAML with a tab", train(["--config", "tab.yaml"]), ["tab.yaml:2", "invalid YAML"])
        row("YAML that is a list", train(["--config", "list.yaml"]), ["list.yaml:1: expected a mapping of option names"])
        row("YAML unknown key", train(["--config", "key.yaml"]), ["key.yaml:2: unknown key 'batch-sise'", "valid keys:"])
        row("YAML list for a number", train(["--config", "rank-list.yaml"]), ["rank-list.yaml:1: 'rank' takes one value, not a list"])
        row("YAML bad value", train(["--config", "value.yaml"]), ["value.yaml with the command line", "--lr", "fast"])
        row("YAML nested too deeply", train(["--config", "deep.yaml"]), ["deep.yaml: too large or too deeply nested", "flat mapping"])
        row("YAML file missing", train(["--config", "nowhere.yaml"]), ["cannot read config file nowhere.yaml", "No such file"])
        // Server flags.
        row("serve port out of range", ["serve", "--model", "$FX/tiny.gguf", "--port", "70000"], ["--port must be in 0...65535"])
        row("serve max batch 0", ["serve", "--model", "$FX/tiny.gguf", "--max-batch", "0"], ["--max-batch must be at least 1"])
        row("serve context 1", ["serve", "--model", "$FX/tiny.gguf", "--context", "1"], ["--context must be at least 2"])
        row("serve on an address that is not one", ["serve", "--model", "$FX/tiny.gguf", "--backend", "cpu-ref", "--host", "256.1.1.1", "--port", "0"],
            ["256.1.1.1"])
        row("serve a broken model", ["serve", "--model", "cut-data.gguf", "--backend", "cpu-ref", "--port", "0"], ["cut-data.gguf", "truncated file?"])
        return r
    }

    static func expand(_ arg: String) -> String { arg.replacingOccurrences(of: "$FX", with: fixtures) }

    func testCatalogue() throws {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: binary), "missing \(binary)")
        let fm = FileManager.default
        let root = fm.temporaryDirectory.appendingPathComponent("ift-catalogue-\(UUID().uuidString)").path
        defer { try? fm.removeItem(atPath: root) }
        let sandbox = root + "/sandbox"
        try fm.createDirectory(atPath: sandbox, withIntermediateDirectories: true)
        try CatalogueInputs.make(in: sandbox, fixtures: Self.fixtures)
        // A checkpoint of the tiny model (rank 2), then broken copies of it.
        let made = try run(Self.train(["--output", "ck"]).map(Self.expand), in: sandbox, home: root + "/home")
        XCTAssertEqual(made.status, 0, made.stderr)
        // A checkpoint of replaced.gguf, which then becomes another model (same path, other shapes).
        try fm.copyItem(atPath: Self.fixtures + "/tiny.gguf", toPath: sandbox + "/replaced.gguf")
        let made2 = try run(Self.train(["--output", "ck2"], model: "replaced.gguf"), in: sandbox, home: root + "/home")
        XCTAssertEqual(made2.status, 0, made2.stderr)
        try fm.removeItem(atPath: sandbox + "/replaced.gguf")
        try fm.copyItem(atPath: Self.fixtures + "/tiny-other.gguf", toPath: sandbox + "/replaced.gguf")
        try CatalogueInputs.breakCheckpoints(in: sandbox)
        let rows = Self.rows
        XCTAssertGreaterThanOrEqual(rows.count, 40)
        let readOnly = try readOnlyDirectory(sandbox + "/ro")
        for var row in rows {
            if row.readOnlyMount, let substitute = readOnly.substitute {
                row.args = row.args.map { $0 == "ro/run" ? substitute : $0 }
                row.expect = row.expect.map { $0 == "ro/run" ? substitute : $0 }
            }
            let before = try snapshot(sandbox)
            let args = row.args.map(Self.expand)
            let r = try run(args, in: sandbox, home: root + "/home", env: row.env, wrapper: row.readOnlyMount ? readOnly.wrapper : nil)
            let context = "[\(row.name)] ift-gpu \(args.joined(separator: " "))\n\(r.stderr)"
            XCTAssertNotEqual(r.status, 0, context)
            XCTAssertLessThan(r.status, 128, "killed by a signal: " + context)
            let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("Error: ") }
            XCTAssertEqual(errors.count, 1, "one Error: line expected: " + context)
            for s in row.expect {
                XCTAssertTrue(errors.first?.contains(s) ?? false, "'\(s)' missing from the error: " + context)
            }
            for crash in ["Fatal error", "Stack dump", "Backtrace", "Illegal instruction", "Segmentation"] {
                XCTAssertFalse(r.stderr.contains(crash), context)
            }
            XCTAssertEqual(try snapshot(sandbox), before, "partial output left behind: " + context)
        }
    }

    // MARK: - Running

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    func run(_ args: [String], in directory: String, home: String, env: [String: String] = [:], wrapper: [String]? = nil) throws -> Output {
        try spawn((wrapper ?? []) + [binary] + args, in: directory, env: ["IFT_HOME": home].merging(env) { $1 })
    }

    /// Runs `argv` (an executable path, then its arguments) in `directory` and waits for it.
    func spawn(_ argv: [String], in directory: String, env: [String: String] = [:]) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read both pipes at once: a full pipe would block the child otherwise.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    /// How to make `dir` read-only for the command: its mode 0555, which root ignores; as root, a
    /// read-only bind mount in a mount namespace of its own (`unshare -m`); where a container
    /// forbids that, an output path in /sys instead (read-only, or refusing plain files).
    func readOnlyDirectory(_ dir: String) throws -> (wrapper: [String]?, substitute: String?) {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: dir)
        guard geteuid() == 0 else { return (nil, nil) }
        let script = "mount --bind \"$RO\" \"$RO\" && mount -o remount,bind,ro \"$RO\" && exec \"$@\""
        let wrapper = ["/usr/bin/env", "RO=\(dir)", "unshare", "-m", "sh", "-c", script, "sh"]
        let probe = try spawn(wrapper + ["/usr/bin/env", "true"], in: dir)
        guard probe.status == 0 else { return (nil, "/sys/ift-gpu-catalogue/run") }
        return (wrapper, nil)
    }

    /// Every path under `dir` with its size and modification time.
    func snapshot(_ dir: String) throws -> [String: String] {
        var out: [String: String] = [:]
        let fm = FileManager.default
        guard let e = fm.enumerator(atPath: dir) else { return out }
        for case let name as String in e {
            let a = try fm.attributesOfItem(atPath: dir + "/" + name)
            let date = (a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            out[name] = "\(a[.type] ?? "") \(a[.size] ?? 0) \(date)"
        }
        return out
    }
}
