import IFTCore
import IFTModel

#if canImport(Glibc)
import Glibc
#endif

/// A model on the Hugging Face Hub as `--model` and `model pull` name it: `hf:ORG/NAME[@REVISION]`
/// (the revision a branch, tag or commit; `main` when left out).
public struct HubModelName: Equatable, Sendable, CustomStringConvertible {
    public static let prefix = "hf:"
    /// `ORG/NAME`.
    public let repository: String
    public let revision: String

    public static func isHubName(_ text: String) -> Bool { text.hasPrefix(prefix) }

    public init(parsing text: String) throws {
        guard text.hasPrefix(Self.prefix) else { throw HubError.badName(text, reason: "it does not start with hf:") }
        let rest = text.dropFirst(Self.prefix.count)
        let at = rest.firstIndex(of: "@")
        let repository = String(rest[..<(at ?? rest.endIndex)])
        let revision = at.map { String(rest[rest.index(after: $0)...]) } ?? "main"
        let parts = repository.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw HubError.badName(text, reason: "'\(repository)' is not ORG/NAME")
        }
        for part in parts {
            guard Self.isRepositoryPart(part) else {
                throw HubError.badName(
                    text, reason: "'\(part)' may hold only letters, digits, '-', '_' and '.' (not first or last, no '..')")
            }
        }
        guard !revision.isEmpty, revision.count <= 255, !revision.hasPrefix("/"), !revision.hasSuffix("/"),
            !revision.contains(".."), !revision.contains("//"),
            revision.unicodeScalars.allSatisfy({ Self.isPlain($0) || "/".unicodeScalars.contains($0) })
        else {
            throw HubError.badName(text, reason: "'\(revision)' is not a branch, tag or commit name")
        }
        self.repository = repository
        self.revision = revision
    }

    /// The same model at another revision.
    public func withRevision(_ revision: String) -> String { Self.prefix + repository + "@" + revision }

    public var description: String { revision == "main" ? Self.prefix + repository : withRevision(revision) }

    /// Whether the revision is a full commit id (40 hex digits).
    var isCommit: Bool { Self.isCommit(revision) }

    static func isCommit(_ s: String) -> Bool { s.utf8.count == 40 && s.utf8.allSatisfy { isHexDigit($0) } }

    private static func isHexDigit(_ c: UInt8) -> Bool { (48...57).contains(c) || (97...102).contains(c) }

    private static func isPlain(_ u: Unicode.Scalar) -> Bool {
        (u.value >= 48 && u.value <= 57) || (u.value >= 65 && u.value <= 90) || (u.value >= 97 && u.value <= 122)
            || "-_.".unicodeScalars.contains(u)
    }

    private static func isRepositoryPart(_ part: Substring) -> Bool {
        guard let first = part.first, let last = part.last else { return false }
        return part.count <= 96 && part.unicodeScalars.allSatisfy(isPlain) && !part.contains("..")
            && !"-.".contains(first) && !"-.".contains(last)
    }
}

/// One file of a revision, as the hub lists it.
public struct HubFile: Equatable, Sendable {
    public var path: String
    public var size: Int
    /// SHA-256 of an LFS file (the weights); nil for a file kept in git itself.
    public var sha256: String?
    /// Git's blob id (SHA-1) of a file kept in git itself.
    public var gitBlobID: String?
}

/// A revision resolved to its commit, with its files.
public struct HubRevision: Equatable, Sendable {
    public var commit: String
    public var files: [HubFile]

    /// The files a model directory needs besides the weights.
    public static let companionFiles: Set<String> = [
        "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
        "tokenizer.model", "model.safetensors.index.json",
    ]
    static let weightSuffixes = [".bin", ".pth", ".pt", ".gguf", ".onnx", ".h5", ".msgpack", ".ckpt", ".safetensors"]

    /// The top-level safetensors and companion files, and the names of weight files left out (other
    /// formats, or safetensors in subfolders). Throws when there are no top-level safetensors.
    public func selection(for model: HubModelName) throws -> (files: [HubFile], skipped: [String]) {
        let chosen = files.filter { f in
            !f.path.contains("/") && (f.path.hasSuffix(".safetensors") || Self.companionFiles.contains(f.path))
        }
        let skipped = files.filter { f in
            !chosen.contains(f) && Self.weightSuffixes.contains { f.path.hasSuffix($0) }
        }.map(\.path)
        guard chosen.contains(where: { $0.path.hasSuffix(".safetensors") }) else {
            throw HubError.noSafetensors(model: model, weights: skipped)
        }
        return (chosen, skipped)
    }
}

/// The hub's HTTP API as huggingface_hub uses it: `HF_ENDPOINT` (default https://huggingface.co),
/// `Authorization: Bearer $HF_TOKEN` when set (the token is never printed).
public struct HubClient: Sendable {
    public var endpoint: String
    var token: String?

    public init(endpoint: String? = nil, token: String? = nil) {
        var e = endpoint ?? getenv("HF_ENDPOINT").map { String(cString: $0) } ?? ""
        if e.isEmpty { e = "https://huggingface.co" }
        while e.hasSuffix("/") { e.removeLast() }
        self.endpoint = e
        let t = token ?? getenv("HF_TOKEN").map { String(cString: $0) }
        self.token = (t?.isEmpty ?? true) ? nil : t
    }

    public var hasToken: Bool { token != nil }

    var authorization: [String] { token.map { ["Authorization: Bearer \($0)"] } ?? [] }

    /// The revision API: `GET {endpoint}/api/models/{repo}/revision/{revision}?blobs=true`.
    public func revision(of model: HubModelName) throws -> HubRevision {
        let url = "\(endpoint)/api/models/\(model.repository)/revision/\(Self.percentEncoded(model.revision, keepSlash: false))?blobs=true"
        var body: [UInt8] = []
        let response: (head: HTTP.Head, errorBody: [UInt8])
        do {
            response = try HTTP.fetch(url, headers: authorization, stallSeconds: 60) { _, bytes in
                guard body.count + bytes.count <= 64 << 20 else {
                    throw HubError.badResponse(url: url, message: "the file list is larger than 64 MiB")
                }
                body.append(contentsOf: bytes)
            }
        } catch let e as HTTP.TransferError {
            throw HubError.unreachable(endpoint: endpoint, reason: e.reason)
        }
        try check(response.head, errorBody: response.errorBody, model: model, what: "\(model)")
        let json: JSONValue
        do {
            json = try JSONValue.parse(body, path: url)
        } catch {
            throw HubError.badResponse(url: url, message: "the answer is not JSON (\(error))")
        }
        guard let commit = json["sha"]?.stringValue, HubModelName.isCommit(commit) else {
            throw HubError.badResponse(url: url, message: "the answer has no commit id ('sha')")
        }
        guard let siblings = json["siblings"]?.arrayValue else {
            throw HubError.badResponse(url: url, message: "the answer has no file list ('siblings')")
        }
        var files: [HubFile] = []
        for s in siblings {
            guard let path = s["rfilename"]?.stringValue, let size = s["lfs"]?["size"]?.intValue ?? s["size"]?.intValue,
                size >= 0
            else {
                throw HubError.badResponse(url: url, message: "a file in 'siblings' lacks 'rfilename' or 'size': \(s)")
            }
            let sha256 = s["lfs"]?["sha256"]?.stringValue
            files.append(HubFile(path: path, size: size, sha256: sha256, gitBlobID: sha256 == nil ? s["blobId"]?.stringValue : nil))
        }
        return HubRevision(commit: commit, files: files)
    }

    /// `{endpoint}/{repo}/resolve/{commit}/{path}`: the file, or a redirect to it on the CDN.
    func fileURL(_ model: HubModelName, commit: String, path: String) -> String {
        "\(endpoint)/\(model.repository)/resolve/\(commit)/\(Self.percentEncoded(path, keepSlash: true))"
    }

    /// Maps an error status to a `HubError` (nothing for < 400).
    func check(_ head: HTTP.Head, errorBody: [UInt8], model: HubModelName, what: String) throws {
        guard head.status >= 400 else { return }
        var message = head.headers["x-error-message"] ?? ""
        if message.isEmpty, let e = try? JSONValue.parse(errorBody, path: "error")["error"]?.stringValue { message = e }
        switch head.status {
        case 401, 403:
            throw HubError.refused(
                model: model, status: head.status, tokenSet: hasToken, hubMessage: message, page: endpoint + "/" + model.repository)
        case 404:
            let code = head.headers["x-error-code"]
            let subject = code == "RevisionNotFound" ? "revision '\(model.revision)' of \(model.repository)"
                : code == "RepoNotFound" ? "repository \(model.repository)" : what
            throw HubError.notFound(model: model, what: subject, hubMessage: message)
        default:
            throw HubError.badResponse(url: endpoint, message: "HTTP \(head.status) for \(what)\(message.isEmpty ? "" : ": " + message)")
        }
    }

    /// Percent-encodes all but unreserved characters (and `/` when `keepSlash`), as Python's `quote`.
    static func percentEncoded(_ s: String, keepSlash: Bool) -> String {
        var out = ""
        for b in s.utf8 {
            let c = Unicode.Scalar(b)
            if (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || "-_.~".unicodeScalars.contains(c)
                || (keepSlash && b == 47)
            {
                out.unicodeScalars.append(c)
            } else {
                let h = String(b, radix: 16, uppercase: true)
                out += "%" + (h.count == 1 ? "0" + h : h)
            }
        }
        return out
    }
}
