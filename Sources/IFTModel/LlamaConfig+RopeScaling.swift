import IFTCore

extension LlamaConfig {
    /// RoPE scaling as `config.json` (`rope_scaling` / `rope_parameters`) or GGUF (`rope.scaling.*`)
    /// gives it.
    public struct RopeScaling: Equatable, Sendable {
        /// `linear`, `llama3` or `yarn` (see `supportedTypes`).
        public var type: String
        public var factor: Double?
        /// Every numeric field as given (e.g. `low_freq_factor`, `original_max_position_embeddings`).
        public var parameters: [String: Double]
        /// YaRN's `truncate` (default true).
        public var truncate: Bool
        /// LongRoPE's per-frequency divisors up to the original context (`short_factor`) and past
        /// it (`long_factor`, kept for export; the engine refuses contexts that would use it).
        public var shortFactor: [Double]?
        public var longFactor: [Double]?

        public static let supportedTypes = ["default", "linear", "llama3", "yarn", "longrope"]

        public init(
            type: String, factor: Double?, parameters: [String: Double] = [:], truncate: Bool = true, shortFactor: [Double]? = nil,
            longFactor: [Double]? = nil
        ) {
            self.type = type
            self.factor = factor
            self.parameters = parameters
            self.truncate = truncate
            self.shortFactor = shortFactor
            self.longFactor = longFactor
        }

        /// The numeric fields each type reads (anything else in the object is an error).
        static func knownKeys(_ type: String) -> Set<String> {
            switch type {
            case "linear": return ["factor"]
            case "llama3": return ["factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"]
            case "yarn":
                return ["factor", "original_max_position_embeddings", "attention_factor", "beta_fast", "beta_slow", "mscale",
                        "mscale_all_dim", "truncate"]
            case "longrope": return ["factor", "original_max_position_embeddings", "attention_factor", "short_factor", "long_factor"]
            default: return []
            }
        }

        /// The scaling as `RopeTable` computes it (transformers' `modeling_rope_utils`);
        /// `maxPositions` is the default of `original_max_position_embeddings`. Throws a message
        /// naming the missing or bad field.
        public func tableScaling(maxPositions: Int) throws -> RopeTable.Scaling {
            func value(_ key: String) throws -> Double {
                guard let v = parameters[key] else { throw IFTError.invalidArgument("RoPE scaling '\(type)' needs '\(key)'") }
                guard v.isFinite, v > 0 else { throw IFTError.invalidArgument("RoPE scaling '\(type)': '\(key)' must be positive, got \(v)") }
                return v
            }
            switch type {
            case "linear":
                return .linear(factor: try value("factor"))
            case "llama3":
                let low = try value("low_freq_factor"), high = try value("high_freq_factor")
                guard high > low else {
                    throw IFTError.invalidArgument("RoPE scaling 'llama3': high_freq_factor (\(high)) must exceed low_freq_factor (\(low))")
                }
                return .llama3(
                    factor: try value("factor"), lowFreqFactor: low, highFreqFactor: high,
                    originalMaxPositions: try value("original_max_position_embeddings"))
            case "yarn":
                let original = parameters["original_max_position_embeddings"] != nil
                    ? try value("original_max_position_embeddings") : Double(maxPositions)
                let factor = parameters["factor"] != nil ? try value("factor") : Double(maxPositions) / original
                var attention = parameters["attention_factor"]
                if attention == nil {
                    if let m = parameters["mscale"], let all = parameters["mscale_all_dim"], m != 0, all != 0 {
                        attention = RopeTable.Scaling.yarnMscale(factor, m) / RopeTable.Scaling.yarnMscale(factor, all)
                    } else {
                        attention = RopeTable.Scaling.yarnMscale(factor)
                    }
                }
                // transformers: `beta_fast or 32`, `beta_slow or 1`.
                let fast = parameters["beta_fast"].flatMap { $0 == 0 ? nil : $0 } ?? 32
                let slow = parameters["beta_slow"].flatMap { $0 == 0 ? nil : $0 } ?? 1
                return .yarn(
                    factor: factor, originalMaxPositions: original, betaFast: fast, betaSlow: slow, attentionFactor: attention!,
                    truncate: truncate)
            case "longrope":
                // transformers' _compute_longrope_parameters (the short factors: the engine runs up to
                // the original context).
                let original = try value("original_max_position_embeddings")
                guard let short = shortFactor, let long = longFactor else {
                    throw IFTError.invalidArgument("RoPE scaling 'longrope' needs 'short_factor' and 'long_factor'")
                }
                guard short.count == long.count, (short + long).allSatisfy({ $0.isFinite && $0 > 0 }) else {
                    throw IFTError.invalidArgument(
                        "RoPE scaling 'longrope': short_factor (\(short.count)) and long_factor (\(long.count)) must be equally long lists of positive numbers")
                }
                let factor = parameters["factor"] != nil ? try value("factor") : Double(maxPositions) / original
                let attention = parameters["attention_factor"] != nil
                    ? try value("attention_factor") : RopeTable.Scaling.longropeAttentionFactor(factor, originalMaxPositions: original)
                return .longrope(factors: short, attentionFactor: attention)
            default:
                throw IFTError.invalidArgument(
                    "RoPE type '\(type)' is not supported (supported: \(Self.supportedTypes.joined(separator: ", ")))")
            }
        }
    }
}
