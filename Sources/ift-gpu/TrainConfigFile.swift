#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import IFTCore
#if canImport(Yams)
import Yams
#endif

/// `ift-gpu train --config FILE`: a YAML mapping whose keys are `train`'s long option names
/// (`batch-size` or `batch_size`), turned into command-line arguments placed before the real ones
/// so that the command line overrides the file. Scalars become `--key value`; booleans become
/// `--key` / `--no-key`; lists (for `lora-targets`) are joined with commas.
enum TrainConfigFile {
    /// Keys a config file may hold: every long option of `train` except `config` itself.
    static let keys: Set<String> = [
        "model", "data", "prompt-style", "max-length", "mask-instructions", "packing", "skip-invalid", "mode", "rank",
        "alpha", "lora-dropout", "lora-targets", "rslora", "epochs", "max-steps", "batch-size", "grad-accum", "lr", "warmup",
        "schedule", "weight-decay", "max-grad-norm", "eval-every", "eval-examples", "max-new-tokens", "save-every", "output",
        "resume", "seed", "backend", "device", "checkpoint-activations",
    ]
    static let flags: Set<String> = ["mask-instructions", "packing", "skip-invalid", "rslora", "checkpoint-activations"]
    /// Options that take a comma-separated list, written in YAML as a list.
    static let listKeys: Set<String> = ["lora-targets"]

    static func arguments(path: String) throws -> [String] {
        #if canImport(Yams)
        let text: String
        do {
            text = try FileSystem.readText(path)
        } catch {
            throw ValidationError("cannot read config file \(path): \(error)")
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let e as YamlError {
            throw ValidationError("\(path):\(Self.describe(e)); fix the YAML (a mapping such as `lr: 2e-4`, one key per line, spaces not tabs)")
        }
        guard let node else { return [] }
        guard let mapping = node.mapping else {
            throw ValidationError("\(path):\(node.mark.map { "\($0.line)" } ?? "1"): expected a mapping of option names to values (e.g. `lr: 2e-4`)")
        }
        var args: [String] = []
        for (k, v) in mapping {
            let line = k.mark.map { "\($0.line)" } ?? "?"
            guard let raw = k.scalar?.string else { throw ValidationError("\(path):\(line): keys must be option names") }
            let key = raw.replacingUnderscores()
            guard keys.contains(key) else {
                throw ValidationError("\(path):\(line): unknown key '\(raw)'; valid keys: \(keys.sorted().joined(separator: ", "))")
            }
            if flags.contains(key) {
                guard let b = v.bool else { throw ValidationError("\(path):\(line): '\(raw)' must be true or false") }
                args.append(b ? "--\(key)" : "--no-\(key)")
            } else if let seq = v.sequence {
                guard listKeys.contains(key) else {
                    throw ValidationError("\(path):\(line): '\(raw)' takes one value, not a list (only \(listKeys.sorted().joined(separator: ", ")) take lists)")
                }
                let items = seq.compactMap { $0.scalar?.string }
                guard items.count == seq.count, !items.isEmpty else {
                    throw ValidationError("\(path):\(line): '\(raw)' must be a scalar or a list of scalars")
                }
                args += ["--\(key)", items.joined(separator: ",")]
            } else if let s = v.scalar?.string {
                args += ["--\(key)", s]
            } else {
                throw ValidationError("\(path):\(line): '\(raw)' must be a scalar value")
            }
        }
        return args
        #else
        throw ValidationError("this ift-gpu was built without YAML support (IFT_NO_YAML); pass the options on the command line instead of --config \(path)")
        #endif
    }
}

#if canImport(Yams)
extension TrainConfigFile {
    /// A YAML syntax error on one line: `LINE:COLUMN: invalid YAML: problem (context)`.
    static func describe(_ e: YamlError) -> String {
        switch e {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return "\(mark.line):\(mark.column): invalid YAML: \(problem)" + (context.map { " (\($0.text) at line \($0.mark.line))" } ?? "")
        case .reader(let problem, let offset, _, _):
            return "1: invalid YAML: \(problem)" + (offset.map { " at character \($0)" } ?? "")
        default:
            return "1: invalid YAML: " + "\(e)".split(separator: "\n").joined(separator: " ")
        }
    }
}
#endif

extension String {
    func replacingUnderscores() -> String { String(map { $0 == "_" ? "-" : $0 }) }
}
