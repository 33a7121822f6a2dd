#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore
import IFTModel

/// Appends lines to a file (metrics JSONL); a line that cannot be written (a full disk) throws.
final class LineWriter {
    let path: String
    private let file: UnsafeMutablePointer<FILE>

    init(path: String, append: Bool) throws {
        guard let f = fopen(path, append ? "a" : "w") else {
            throw IFTError.file(path: path, location: "open", message: String(cString: strerror(errno)))
        }
        self.path = path
        file = f
    }

    func write(_ line: String) throws {
        guard fputs(line + "\n", file) >= 0, fflush(file) == 0 else {
            let why = String(cString: strerror(errno))
            clearerr(file)
            throw IFTError.file(path: path, location: "write", message: "cannot append a line: \(why)")
        }
    }

    deinit { fclose(file) }

    /// Keeps the lines of a metrics file up to optimizer step `step` (a run killed after writing a
    /// step's line but before its checkpoint repeats that step on resume), and drops a last line cut
    /// short by the kill. Rewritten atomically; a missing file is left missing.
    static func truncateMetrics(_ path: String, toStep step: Int) throws {
        guard FileSystem.exists(path) else { return }
        let text = try FileSystem.readText(path)
        var kept: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let s = try? JSONValue.parse(Array(line.utf8), path: path)["step"]?.intValue else { continue }
            if s <= step { kept.append(line) }
        }
        let out = kept.map { $0 + "\n" }.joined()
        guard out != text else { return }
        try AtomicFileWriter.write(to: path) { try $0.write(Array(out.utf8)) }
    }
}
