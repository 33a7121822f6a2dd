import ArgumentParser
import IFTConfig

extension TrainConfigFile {
    /// The arguments of the config file at `path` (IFTConfig), a refusal reported as a usage error.
    static func commandLineArguments(path: String) throws -> [String] {
        do {
            return try arguments(path: path)
        } catch {
            throw ValidationError(error.description)
        }
    }
}
