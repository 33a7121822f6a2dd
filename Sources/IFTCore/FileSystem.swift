#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore

/// Small POSIX file helpers (no Foundation), shared by the model store, model loading and training.
public enum FileSystem {
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// The size in bytes of a regular file; nil when there is none at `path`.
    public static func fileSize(_ path: String) -> Int? {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG ? Int(st.st_size) : nil
    }

    /// `mkdir -p`.
    public static func makeDirectories(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw IFTError.file(path: current, location: "mkdir", message: String(cString: strerror(errno)))
            }
        }
    }

    public static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Checks, before any work, that `path` is a directory this process can write files into, or
    /// that it can be created: the nearest existing ancestor must be a writable directory. A file is
    /// created there and removed at once (the real test: permissions, read-only mounts, a full
    /// inode table); nothing is left behind. `option` names the setting in the error (`--output`).
    public static func checkWritableDirectory(_ path: String, option: String) throws {
        var probeIn = path
        if !exists(path) {
            var parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            repeat {
                parts.removeLast()
                probeIn = (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
                if probeIn.isEmpty { probeIn = "." }
            } while !parts.isEmpty && !exists(probeIn)
        }
        guard isDirectory(probeIn) else {
            throw IFTError.file(
                path: path, location: option,
                message: probeIn == path
                    ? "is a file, not a directory; choose another \(option)"
                    : "cannot be created: \(probeIn) is a file, not a directory; choose another \(option)")
        }
        var template = Array((probeIn + "/.ift-gpu-write-test-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            let why = String(cString: strerror(errno))
            throw IFTError.file(
                path: path, location: option,
                message: (probeIn == path ? "is not writable" : "cannot be created in \(probeIn)")
                    + " (\(why)); choose a writable \(option) directory")
        }
        close(fd)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    }

    /// `rm -r` of a directory of plain files (one level, as checkpoints are).
    public static func removeDirectory(_ path: String) {
        for name in list(path) { unlink(path + "/" + name) }
        rmdir(path)
    }

    /// The whole file as UTF-8 text.
    public static func readText(_ path: String) throws -> String {
        guard let f = fopen(path, "rb") else {
            throw IFTError.file(path: path, location: "open", message: String(cString: strerror(errno)))
        }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            bytes.append(contentsOf: buf[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Replaces directory `path` by `temp` (already complete). Where the kernel and file system
    /// can swap two names in one step (Linux `renameat2(RENAME_EXCHANGE)`), `path` always names a
    /// complete directory, the old or the new. Elsewhere the old one is moved aside first and removed
    /// after, and a crash between the two renames leaves it as `<path>.old` (`Checkpoint.recover`
    /// moves it back).
    public static func replaceDirectory(_ path: String, with temp: String) throws {
        let old = path + ".old"
        if exists(old) { removeDirectory(old) }
        if exists(path), exchange(temp, path) {
            TestHooks.pause("IFT_TEST_CHECKPOINT_RENAME_PAUSE_MS")  // the new directory is in place, the old one at `temp`
            removeDirectory(temp)
            return
        }
        if exists(path) {
            guard rename(path, old) == 0 else {
                throw IFTError.file(path: path, location: "rename", message: "cannot move the previous checkpoint aside: \(String(cString: strerror(errno)))")
            }
        }
        TestHooks.pause("IFT_TEST_CHECKPOINT_RENAME_PAUSE_MS")  // only the old checkpoint, moved aside, exists now
        guard rename(temp, path) == 0 else {
            let msg = String(cString: strerror(errno))
            if exists(old) { rename(old, path) }
            throw IFTError.file(path: path, location: "rename", message: "cannot move \(temp) into place: \(msg)")
        }
        if exists(old) { removeDirectory(old) }
    }

    /// Swaps the names `a` and `b` atomically; false where that is not possible (no `renameat2`, a
    /// file system without RENAME_EXCHANGE, or `IFT_TEST_NO_RENAME_EXCHANGE=1` to test the fallback).
    public static func exchange(_ a: String, _ b: String) -> Bool {
        guard let renameat2 = renameat2Function, getenv("IFT_TEST_NO_RENAME_EXCHANGE") == nil else { return false }
        let renameExchange: UInt32 = 2  // RENAME_EXCHANGE, <linux/fs.h>
        return renameat2(AT_FDCWD, a, AT_FDCWD, b, renameExchange) == 0
    }

    private typealias Renameat2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
    /// glibc's `renameat2` (2.28+), looked up at run time: Swift's Glibc module does not declare it.
    private static let renameat2Function: Renameat2? = {
        #if os(Linux)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: Renameat2.self)
        #else
        return nil
        #endif
    }()
}
