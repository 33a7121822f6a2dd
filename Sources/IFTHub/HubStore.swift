import IFTCore
import IFTModel

#if canImport(Glibc)
import Glibc
#endif

/// Hugging Face Hub models in the store, laid out by commit:
///
///     <models>/hf/ORG/NAME/<commit>/            a complete model directory (what `--model` gets)
///     <models>/hf/ORG/NAME/<commit>.partial/    a download in progress (`NAME.part` files resume)
///     <models>/hf/ORG/NAME/refs/<revision>      the commit a branch or tag pointed to when pulled
///
/// The `.partial` directory is renamed to `<commit>` only once every file is in and checked, so a
/// cut download never leaves a directory that `--model` accepts.
extension ModelStore {
    /// Where `model`'s commits go.
    public func directory(of model: HubModelName) -> String { modelsDirectory + "/hf/" + model.repository }

    /// The complete directory of a pulled `hf:` model.
    public func resolve(_ model: HubModelName) throws -> String {
        let repo = directory(of: model)
        var commit = model.revision
        if !model.isCommit {
            let text = (try? FileSystem.readText(repo + "/refs/" + model.revision)) ?? ""
            commit = String(text.filter { !$0.isWhitespace })
        }
        let path = repo + "/" + commit
        guard HubModelName.isCommit(commit), FileSystem.isDirectory(path) else {
            throw HubError.notPulled(model: model, directory: repo)
        }
        return path
    }

    /// Downloads `model`'s safetensors, config and tokenizer files (see `HubRevision.selection`)
    /// into the store, or finishes an interrupted download; returns the model directory. Notes on
    /// what is downloaded and skipped go to `log`.
    @discardableResult
    public func pull(
        _ model: HubModelName, client: HubClient = HubClient(), progress: Bool = true,
        log: (String) -> Void = { fputs($0 + "\n", stderr) }
    ) throws -> String {
        let revision = try client.revision(of: model)
        var (files, skipped) = try revision.selection(for: model)
        let repo = directory(of: model)
        let final = repo + "/" + revision.commit
        try Self.makeDirectories(repo)
        let lock = open(repo + "/.lock", O_CREAT | O_RDWR, 0o644)
        guard lock >= 0 else { throw HubFileDownload.diskError(repo + "/.lock", "cannot create") }
        defer { close(lock) }
        guard flock(lock, LOCK_EX | LOCK_NB) == 0 else { throw HubError.busy(model: model) }
        if FileSystem.isDirectory(final) {
            log("\(model) is already downloaded (commit \(revision.commit))")
            try writeReference(model, commit: revision.commit)
            return final
        }
        let partial = final + ".partial"
        try Self.makeDirectories(partial)
        func download(_ list: [HubFile]) throws {
            for file in list {
                try HubFileDownload(
                    client: client, model: model, commit: revision.commit, file: file, directory: partial, progress: progress
                ).run()
            }
        }
        // Config and tokenizer first: a sharded model's index then says which safetensors to take.
        try download(files.filter { !$0.path.hasSuffix(".safetensors") })
        if files.contains(where: { $0.path == "model.safetensors.index.json" }) {
            let shards = try Self.shards(inIndex: partial + "/model.safetensors.index.json", of: files)
            skipped += files.filter { $0.path.hasSuffix(".safetensors") && !shards.contains($0.path) }.map(\.path)
            files.removeAll { $0.path.hasSuffix(".safetensors") && !shards.contains($0.path) }
        }
        let weights = files.filter { $0.path.hasSuffix(".safetensors") }
        let total = files.reduce(0) { $0 + $1.size }
        log("\(model): commit \(revision.commit), \(files.count) files, \(ProgressBar.bytes(Double(total)))"
            + (skipped.isEmpty ? "" : "; not downloaded: " + skipped.sorted().joined(separator: ", ")))
        try download(weights)
        // Leftovers of an earlier attempt at another selection do not belong in the model.
        let keep = Set(files.map(\.path))
        for name in FileSystem.list(partial) where !keep.contains(name) { unlink(partial + "/" + name) }
        guard rename(partial, final) == 0 else { throw HubFileDownload.diskError(final, "cannot rename \(partial) to it") }
        try writeReference(model, commit: revision.commit)
        // Unfinished downloads of commits the revision no longer names would never be finished.
        for entry in FileSystem.list(repo) where entry.hasSuffix(".partial") {
            FileSystem.removeDirectory(repo + "/" + entry)
            log("removed the unfinished download of commit \(entry.dropLast(".partial".count)) of \(model.repository)")
        }
        return final
    }

    /// Pulled `hf:` models: each revision pulled (`refs`) and each commit directory, as names for
    /// `--model`, with their directories; downloads still in progress are listed as `nil` paths.
    public func pulledHubModels() -> [(name: String, path: String?)] {
        var out: [(name: String, path: String?)] = []
        let root = modelsDirectory + "/hf"
        for org in FileSystem.list(root).sorted() {
            for name in FileSystem.list(root + "/" + org).sorted() {
                let repo = root + "/" + org + "/" + name
                var named = Set<String>()
                for ref in Self.files(under: repo + "/refs").sorted() {
                    guard let m = try? HubModelName(parsing: "hf:\(org)/\(name)@\(ref)"), let path = try? resolve(m) else { continue }
                    out.append((m.description, path))
                    named.insert(path)
                }
                for entry in FileSystem.list(repo).sorted() {
                    let path = repo + "/" + entry
                    if HubModelName.isCommit(entry), !named.contains(path) {
                        out.append(("hf:\(org)/\(name)@\(entry)", path))
                    } else if entry.hasSuffix(".partial") {
                        out.append(("hf:\(org)/\(name)@\(entry.dropLast(".partial".count))", nil))
                    }
                }
            }
        }
        return out
    }

    /// Records which commit `model`'s revision named (nothing to record for a commit).
    private func writeReference(_ model: HubModelName, commit: String) throws {
        guard !model.isCommit else { return }
        let path = directory(of: model) + "/refs/" + model.revision
        if let slash = path.lastIndex(of: "/") { try Self.makeDirectories(String(path[..<slash])) }
        do {
            try AtomicFileWriter.write(to: path) { try $0.write(Array(commit.utf8)) }
        } catch {
            throw HubError.disk(path: path, message: "cannot record the pulled commit: \(error)")
        }
    }

    /// The shard files a `model.safetensors.index.json` names (its `weight_map` values), each of
    /// which the revision must have.
    static func shards(inIndex path: String, of files: [HubFile]) throws -> Set<String> {
        guard let map = try JSONValue.parse(contentsOf: path)["weight_map"]?.objectValue else {
            throw IFTError.file(path: path, location: "weight_map", message: "missing or not an object")
        }
        var shards = Set<String>()
        for (tensor, value) in map.members {
            guard let shard = value.stringValue, files.contains(where: { $0.path == shard }) else {
                throw IFTError.file(
                    path: path, location: "weight_map.\(tensor)", message: "names \(value), which is not a safetensors file of this revision")
            }
            shards.insert(shard)
        }
        return shards
    }

    /// Paths of the plain files under `dir`, relative to it (refs such as `refs/pr/1` nest).
    private static func files(under dir: String, prefix: String = "") -> [String] {
        FileSystem.list(dir).flatMap { name -> [String] in
            let path = dir + "/" + name
            return FileSystem.isDirectory(path) ? files(under: path, prefix: prefix + name + "/") : [prefix + name]
        }
    }

    private static func makeDirectories(_ path: String) throws {
        do {
            try FileSystem.makeDirectories(path)
        } catch let IFTError.file(p, _, message) {
            throw HubError.disk(path: p, message: "cannot create the directory: \(message)")
        }
    }
}
