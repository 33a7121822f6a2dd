import IFTCore

/// What can go wrong pulling a model from the Hugging Face Hub; each message says what to do.
public enum HubError: Error, CustomStringConvertible, Equatable {
    /// Not of the form `hf:ORG/NAME[@REVISION]`.
    case badName(String, reason: String)
    /// 401/403: no token, a token without access, or a gated model whose license is not accepted.
    case refused(model: HubModelName, status: Int, tokenSet: Bool, hubMessage: String, page: String)
    /// 404: no such repository, revision or file.
    case notFound(model: HubModelName, what: String, hubMessage: String)
    /// The revision has no safetensors weights (only e.g. `.bin` or GGUF files).
    case noSafetensors(model: HubModelName, weights: [String])
    /// A downloaded file's SHA-256 (or git blob id) is not what the hub lists; the bytes are removed.
    case checksumMismatch(model: HubModelName, file: String, kind: String, got: String, expected: String)
    /// The connection broke or stalled mid-file; the partial file is kept for the next run.
    case interrupted(model: HubModelName, file: String, received: Int, size: Int, reason: String)
    /// The hub could not be reached at all, or answered something that is not the hub's API.
    case unreachable(endpoint: String, reason: String)
    case badResponse(url: String, message: String)
    /// Writing into the model store failed (disk full, permissions).
    case disk(path: String, message: String)
    /// `--model hf:...` names a model that has not been pulled.
    case notPulled(model: HubModelName, directory: String)
    /// Another `model pull` of the same model is running.
    case busy(model: HubModelName)

    public var description: String {
        switch self {
        case .badName(let text, let reason):
            return "'\(text)' is not a Hugging Face model name: \(reason); expected hf:ORG/NAME or hf:ORG/NAME@REVISION "
                + "(e.g. hf:HuggingFaceTB/SmolLM2-135M-Instruct or hf:Qwen/Qwen2.5-0.5B-Instruct@main)"
        case .refused(let m, let status, let tokenSet, let hubMessage, let page):
            let why = tokenSet
                ? "HF_TOKEN is set, but the hub refused it: check that the token is valid and has access to \(m.repository)"
                : "the repository may not exist, or it is private or gated"
            return "the Hugging Face Hub refused \(m) (HTTP \(status)\(hubMessage.isEmpty ? "" : ": " + hubMessage)): \(why); "
                + "set HF_TOKEN (a token with access to \(m.repository); gated models need their license accepted on the hub, "
                + "\(page))"
        case .notFound(let m, let what, let hubMessage):
            return "\(what) not found on the Hugging Face Hub (HTTP 404\(hubMessage.isEmpty ? "" : ": " + hubMessage)); "
                + "check the spelling of \(m) (ORG/NAME as in the model page's URL) and the revision (a branch, tag or commit)"
        case .noSafetensors(let m, let weights):
            let found = weights.isEmpty ? "no weight files at all" : "only " + weights.prefix(6).joined(separator: ", ")
            return "\(m) has no *.safetensors weights (\(found)); ift-gpu reads safetensors only: look for a revision "
                + "with safetensors (the hub's conversion bot often opens one as a pull request: "
                + "ift-gpu model pull \(m.withRevision("refs/pr/N"))), or convert locally with transformers "
                + "(AutoModelForCausalLM.from_pretrained(...).save_pretrained(DIR)) and pass --model DIR"
        case .checksumMismatch(let m, let file, let kind, let got, let expected):
            return "\(file) from \(m) is corrupt: its \(kind) is \(got), the hub lists \(expected); "
                + "the bad download was removed: run `ift-gpu model pull \(m)` again"
        case .interrupted(let m, let file, let received, let size, let reason):
            return "the download of \(file) from \(m) stopped at \(ProgressBar.bytes(Double(received))) of "
                + "\(ProgressBar.bytes(Double(size))) (\(reason)); run `ift-gpu model pull \(m)` again to continue where it stopped"
        case .unreachable(let endpoint, let reason):
            return "cannot reach the Hugging Face Hub at \(endpoint) (\(reason)); check the network connection, "
                + "or HF_ENDPOINT if it is set"
        case .badResponse(let url, let message):
            return "\(url): \(message); is HF_ENDPOINT a Hugging Face Hub?"
        case .disk(let path, let message):
            return "\(path): \(message); free space or fix permissions in the model store ($IFT_HOME/models), "
                + "then run the same `ift-gpu model pull` again (finished files are kept)"
        case .notPulled(let m, let directory):
            return "model \(m) is not downloaded yet: run `ift-gpu model pull \(m)` (it goes to \(directory))"
        case .busy(let m):
            return "another `ift-gpu model pull \(m)` is running; wait for it to finish"
        }
    }
}
