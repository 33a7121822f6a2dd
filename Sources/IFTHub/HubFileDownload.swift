import IFTCore
import IFTModel

#if canImport(Glibc)
import Glibc
#endif

/// Downloads one file of a hub revision into a directory, resumably: the bytes go to `NAME.part`,
/// a later run continues it with an HTTP Range request, and only a file whose size and checksum
/// (SHA-256 for LFS files, the git blob id for the others) match what the hub lists is renamed to
/// `NAME`. A corrupt download is removed; a cut one is kept for the next run.
struct HubFileDownload {
    let client: HubClient
    let model: HubModelName
    let commit: String
    let file: HubFile
    let directory: String
    let progress: Bool

    var destination: String { directory + "/" + file.path }
    var partPath: String { destination + ".part" }

    /// A server that does not honour the range asked for: start over once.
    private struct RangeRefused: Error {}

    func run() throws {
        if FileSystem.fileSize(destination) == file.size { return }  // checked before it was renamed
        do {
            try fetch()
        } catch is RangeRefused {
            unlink(partPath)
            try fetch()
        }
    }

    private func fetch() throws {
        var have = FileSystem.fileSize(partPath) ?? 0
        if have > file.size {
            unlink(partPath)
            have = 0
        }
        let fd = open(partPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { throw Self.diskError(partPath, "cannot create") }
        defer { close(fd) }
        var checker = Checker(file)
        if have > 0 {
            let f = try MappedFile(path: partPath)
            checker.update(f.bytes)
        }
        var received = have
        var linkedSHA256: String?
        if have < file.size {
            let url = client.fileURL(model, commit: commit, path: file.path)
            var headers = client.authorization
            if have > 0 { headers.append("Range: bytes=\(have)-") }
            let bar: ProgressBar? = progress && file.size - have >= 1 << 20
                ? ProgressBar(
                    label: "downloading \(file.path)" + (have > 0 ? " (from \(ProgressBar.bytes(Double(have))))" : ""),
                    total: Double(file.size - have), rateUnit: "MB/s", rateScale: 1e6, formatAmount: ProgressBar.bytes)
                : nil
            var started = false
            let response: (head: HTTP.Head, errorBody: [UInt8])
            do {
                response = try HTTP.fetch(url, headers: headers, stallSeconds: 60, body: { head, bytes in
                    if !started {
                        started = true
                        if have > 0 && head.status != 206 {  // the whole file again: start over
                            guard ftruncate(fd, 0) == 0 else { throw Self.diskError(partPath, "cannot truncate") }
                            checker = Checker(file)
                            received = 0
                        } else if have > 0, !(head.headers["content-range"] ?? "").hasPrefix("bytes \(have)-") {
                            throw RangeRefused()
                        }
                    }
                    guard received + bytes.count <= file.size else {
                        throw HubError.checksumMismatch(
                            model: model, file: file.path, kind: "size", got: "over \(file.size) bytes", expected: "\(file.size) bytes")
                    }
                    try Self.writeAll(fd, bytes, path: partPath)
                    checker.update(bytes)
                    received += bytes.count
                }, progress: { _, now in bar?.update(Double(now)) })
            } catch let e as HTTP.TransferError {
                fsync(fd)
                bar?.finish(at: Double(max(0, received - have)))
                throw HubError.interrupted(model: model, file: file.path, received: received, size: file.size, reason: e.reason)
            } catch let e as HubError {
                if case .checksumMismatch = e { unlink(partPath) }
                throw e
            }
            if response.head.status == 416 { throw RangeRefused() }
            do {
                try client.check(response.head, errorBody: response.errorBody, model: model, what: "\(file.path) in \(model)")
                // As huggingface_hub reads them: the commit served, and an LFS file's SHA-256 (the
                // redirect's X-Linked-Etag), used when the file list gave none.
                let chain = response.head.chainHeaders
                if let served = chain["x-repo-commit"], served != commit {
                    throw HubError.badResponse(url: url, message: "served commit \(served), not the \(commit) asked for")
                }
                linkedSHA256 = chain["x-linked-etag"].map(Self.unquotedETag)
            } catch {
                if have == 0 || received != have { unlink(partPath) }  // nothing, or bytes of the wrong answer
                throw error
            }
            bar?.finish()
            guard received == file.size else {
                throw HubError.interrupted(
                    model: model, file: file.path, received: received, size: file.size, reason: "the server sent no more")
            }
        }
        if let (kind, got, expected) = checker.mismatch(file, linkedSHA256: linkedSHA256) {
            unlink(partPath)
            throw HubError.checksumMismatch(model: model, file: file.path, kind: kind, got: got, expected: expected)
        }
        guard fsync(fd) == 0 else { throw Self.diskError(partPath, "fsync failed") }
        guard rename(partPath, destination) == 0 else { throw Self.diskError(destination, "cannot rename \(partPath) to it") }
    }

    /// The hash the hub gives for `file`, computed as bytes arrive.
    struct Checker {
        private var sha256: SHA256Stream?
        private var blob: GitBlobHasher?

        init(_ file: HubFile) {
            if file.gitBlobID != nil && file.sha256 == nil {
                blob = GitBlobHasher(size: file.size)
            } else {
                sha256 = SHA256Stream()  // an LFS file, or one the list gave no checksum for
            }
        }

        mutating func update(_ bytes: UnsafeRawBufferPointer) {
            sha256?.update(bytes)
            blob?.update(bytes)
        }

        /// (what was checked, the digest, the hub's) when they differ. `linkedSHA256` is the
        /// hub's X-Linked-Etag, for a file the list gave no checksum for.
        func mismatch(_ file: HubFile, linkedSHA256: String?) -> (String, String, String)? {
            let listed = file.sha256 ?? (file.gitBlobID == nil ? linkedSHA256.flatMap { $0.utf8.count == 64 ? $0 : nil } : nil)
            if let expected = listed?.lowercased(), let got = sha256?.finalize(), got != expected {
                return ("SHA-256", got, expected)
            }
            if let expected = file.gitBlobID?.lowercased(), let got = blob?.finalize(), got != expected {
                return ("git blob id", got, expected)
            }
            return nil
        }
    }

    /// An ETag's value without its quotes and weak marker (`W/"abc"` → `abc`).
    static func unquotedETag(_ value: String) -> String {
        var v = Substring(value)
        if v.hasPrefix("W/") { v = v.dropFirst(2) }
        return String(v.filter { $0 != "\"" })
    }

    static func diskError(_ path: String, _ what: String) -> HubError {
        .disk(path: path, message: "\(what): \(String(cString: strerror(errno)))")
    }

    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var done = 0
        while done < bytes.count {
            guard let base = bytes.baseAddress else { return }
            let n = write(fd, base + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw diskError(path, "write failed")
            }
            done += n
        }
    }
}
