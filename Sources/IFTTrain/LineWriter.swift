#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore

/// Appends lines to a file (metrics JSONL).
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

    func write(_ line: String) {
        fputs(line + "\n", file)
        fflush(file)
    }

    deinit { fclose(file) }
}
