import IFTCore
#if canImport(Yams)
import Yams
#endif

/// `ift-gpu train --config FILE`: a YAML mapping whose keys are `train`'s long option names
/// (`batch-size` or `batch_size`), turned into command-line arguments placed before the real ones
/// so that the command line overrides the file. Scalars become `--key value`; booleans become
/// `--key` / `--no-key`; lists (for `lora-targets`) are joined with commas.
public enum TrainConfigFile {
    /// Keys a config file may hold: every long option of `train` except `config` itself.
    public static let keys: Set<String> = [
        "model", "data", "prompt-style", "max-length", "mask-instructions", "packing", "skip-invalid", "mode", "rank",
        "alpha", "lora-dropout", "lora-targets", "rslora", "epochs", "max-steps", "batch-size", "grad-accum", "lr", "warmup",
        "schedule", "weight-decay", "max-grad-norm", "eval-every", "eval-examples", "max-new-tokens", "save-every", "output",
        "resume", "seed", "backend", "device", "checkpoint-activations",
    ]
    public static let flags: Set<String> = ["mask-instructions", "packing", "skip-invalid", "rslora", "checkpoint-activations"]
    /// Options that take a comma-separated list, written in YAML as a list.
    public static let listKeys: Set<String> = ["lora-targets"]
    /// The most levels of structure a config may have, as counted by `structureBound`: checked
    /// before parsing because Yams composes nodes recursively, one pair of stack frames per level
    /// (5,000 nested `[` overflow an 8 MB stack in a release build). A training config is one flat
    /// mapping, with a few dozen indicators.
    public static let maxStructure = 512

    /// The arguments of the config file at `path`.
    public static func arguments(path: String) throws(TrainConfigError) -> [String] {
        #if canImport(Yams)
        let text: String
        do {
            text = try FileSystem.readText(path)
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
        return try arguments(yaml: text, path: path)
        #else
        throw .builtWithoutYAML(path: path)
        #endif
    }

    /// An upper bound on the nesting depth of `text`: one level per flow bracket opened (two, for
    /// the single-pair mapping a flow sequence entry may hold) and one per block indicator — a `-`,
    /// `?` or `:` followed by a space, a tab or a line end. Quotes and comments are not told apart,
    /// so the bound only ever overcounts.
    public static func structureBound(_ text: String) -> Int {
        var bound = 1
        var previous: UInt8 = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "["), UInt8(ascii: "{"): bound += 2
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                if previous == UInt8(ascii: "-") || previous == UInt8(ascii: "?") || previous == UInt8(ascii: ":") { bound += 1 }
            default: break
            }
            previous = byte
        }
        if previous == UInt8(ascii: "-") || previous == UInt8(ascii: "?") || previous == UInt8(ascii: ":") { bound += 1 }
        return bound
    }
}

#if canImport(Yams)
extension TrainConfigFile {
    /// The arguments of a config file's text; `path` names it in errors.
    public static func arguments(yaml text: String, path: String) throws(TrainConfigError) -> [String] {
        let bound = structureBound(text)
        guard bound <= maxStructure else { throw .tooDeep(path: path, bound: bound, limit: maxStructure) }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let e as YamlError {
            throw .invalidYAML(path: path, detail: describe(e))
        } catch {
            throw .invalidYAML(path: path, detail: "1: invalid YAML: \(error)")
        }
        guard let node else { return [] }
        guard let mapping = node.mapping else {
            throw .notAMapping(path: path, line: node.mark.map { "\($0.line)" } ?? "1")
        }
        var args: [String] = []
        for (k, v) in mapping {
            let line = k.mark.map { "\($0.line)" } ?? "?"
            guard let raw = k.scalar?.string else { throw .keyNotAName(path: path, line: line) }
            let key = raw.replacingUnderscores()
            guard keys.contains(key) else { throw .unknownKey(path: path, line: line, key: raw) }
            if flags.contains(key) {
                guard let b = v.bool else { throw .notABoolean(path: path, line: line, key: raw) }
                args.append(b ? "--\(key)" : "--no-\(key)")
            } else if let seq = v.sequence {
                guard listKeys.contains(key) else { throw .listNotAllowed(path: path, line: line, key: raw) }
                let items = seq.compactMap { $0.scalar?.string }
                guard items.count == seq.count, !items.isEmpty else { throw .notScalarList(path: path, line: line, key: raw) }
                args += ["--\(key)", items.joined(separator: ",")]
            } else if let s = v.scalar?.string {
                args += ["--\(key)", s]
            } else {
                throw .notAScalar(path: path, line: line, key: raw)
            }
        }
        return args
    }

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

/// Why a training config file was refused; `description` is the message shown to the user.
public enum TrainConfigError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case builtWithoutYAML(path: String)
    case tooDeep(path: String, bound: Int, limit: Int)
    /// `detail` is `LINE[:COLUMN]: invalid YAML: problem`.
    case invalidYAML(path: String, detail: String)
    case notAMapping(path: String, line: String)
    case keyNotAName(path: String, line: String)
    case unknownKey(path: String, line: String, key: String)
    case notABoolean(path: String, line: String, key: String)
    case listNotAllowed(path: String, line: String, key: String)
    case notScalarList(path: String, line: String, key: String)
    case notAScalar(path: String, line: String, key: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read config file \(path): \(reason)"
        case .builtWithoutYAML(let path):
            "this ift-gpu was built without YAML support (IFT_NO_YAML); pass the options on the command line instead of --config \(path)"
        case .tooDeep(let path, let bound, let limit):
            "\(path): too large or too deeply nested for a training config (\(bound) levels of structure possible, at most \(limit)); "
                + "a config is one flat mapping of option names to values (e.g. `lr: 2e-4`)"
        case .invalidYAML(let path, let detail):
            "\(path):\(detail); fix the YAML (a mapping such as `lr: 2e-4`, one key per line, spaces not tabs)"
        case .notAMapping(let path, let line): "\(path):\(line): expected a mapping of option names to values (e.g. `lr: 2e-4`)"
        case .keyNotAName(let path, let line): "\(path):\(line): keys must be option names"
        case .unknownKey(let path, let line, let key):
            "\(path):\(line): unknown key '\(key)'; valid keys: \(TrainConfigFile.keys.sorted().joined(separator: ", "))"
        case .notABoolean(let path, let line, let key): "\(path):\(line): '\(key)' must be true or false"
        case .listNotAllowed(let path, let line, let key):
            "\(path):\(line): '\(key)' takes one value, not a list (only \(TrainConfigFile.listKeys.sorted().joined(separator: ", ")) take lists)"
        case .notScalarList(let path, let line, let key): "\(path):\(line): '\(key)' must be a scalar or a list of scalars"
        case .notAScalar(let path, let line, let key): "\(path):\(line): '\(key)' must be a scalar value"
        }
    }
}

extension String {
    /// `batch_size` → `batch-size`: config keys may use either spelling.
    func replacingUnderscores() -> String { String(map { $0 == "_" ? "-" : $0 }) }
}
