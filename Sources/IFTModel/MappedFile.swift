#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore

/// The read-only bytes of a model file: memory-mapped from disk (`init(path:)`), or an owned copy
/// of an in-memory buffer (`init(bytes:name:)`, used by tests and for parsing downloaded data).
/// The bytes stay valid, and every `UnsafeRawBufferPointer` handed out into them stays valid, for
/// as long as this object is alive.
public final class MappedFile: @unchecked Sendable {
    /// The path (or the name given to an in-memory buffer), used in error messages.
    public let path: String
    /// All the bytes of the file.
    public let bytes: UnsafeRawBufferPointer
    private let mapped: Bool

    /// Maps the whole file read-only. Throws `IFTError.file` when it cannot be opened or mapped.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw IFTError.file(path: path, location: "open", message: "cannot open: \(Self.errnoString())")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw IFTError.file(path: path, location: "open", message: "cannot stat: \(Self.errnoString())")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw IFTError.file(path: path, location: "open", message: "not a regular file")
        }
        let size = Int(st.st_size)
        if size == 0 {
            // mmap rejects a zero length; an empty file is simply an empty buffer.
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            mapped = false
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw IFTError.file(path: path, location: "open", message: "cannot mmap \(size) bytes: \(Self.errnoString())")
        }
        bytes = UnsafeRawBufferPointer(start: p, count: size)
        mapped = true
    }

    /// An owned copy of `bytes`; `name` stands for the path in error messages.
    public init(bytes source: [UInt8], name: String) {
        path = name
        mapped = false
        if source.isEmpty {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
        } else {
            // 64-byte alignment, like a page-aligned mapping, so that in-file alignment is real.
            let p = UnsafeMutableRawPointer.allocate(byteCount: source.count, alignment: 64)
            source.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: source.count) }
            bytes = UnsafeRawBufferPointer(start: p, count: source.count)
        }
    }

    deinit {
        guard let base = bytes.baseAddress else { return }
        if mapped {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        } else {
            base.deallocate()
        }
    }

    public var count: Int { bytes.count }

    /// Lets the kernel drop the pages wholly inside `range` from this process's resident set (a
    /// later read maps them in again from the file). Loaders call it after each tensor they have
    /// copied out, so that reading a model once does not leave the whole file counted in RSS.
    /// No-op for in-memory buffers.
    public func releasePages(_ range: Range<Int>) {
        guard mapped, let base = bytes.baseAddress else { return }
        let page = max(1, Int(sysconf(Int32(_SC_PAGESIZE))))
        let start = (max(0, range.lowerBound) + page - 1) / page * page
        let end = min(range.upperBound, count) / page * page
        guard end > start else { return }
        // The mapping is read-only and private: its pages are never dirty, so dropping them loses nothing.
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, Int32(MADV_DONTNEED))
    }

    /// The bytes in `range`, which the caller has checked lies inside the file.
    func slice(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        guard let base = bytes.baseAddress, !range.isEmpty else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    static func errnoString() -> String {
        String(cString: strerror(errno))
    }
}

/// A bounds-checked little-endian cursor over a `MappedFile`. Every read checks the remaining
/// length first and throws `IFTError.file(path:, location: "offset N", ...)` instead of reading
/// past the end.
struct ByteCursor {
    let file: MappedFile
    private(set) var offset: Int

    init(_ file: MappedFile, offset: Int = 0) {
        self.file = file
        self.offset = offset
    }

    var remaining: Int { file.count - offset }

    func error(_ message: String, at position: Int? = nil) -> IFTError {
        IFTError.file(path: file.path, location: "offset \(position ?? offset)", message: message)
    }

    /// Throws unless `n` more bytes are available; `what` names the thing being read.
    func need(_ n: Int, _ what: String) throws {
        guard n >= 0, n <= remaining else {
            throw error("truncated: \(what) needs \(n) bytes but only \(remaining) remain (file is \(file.count) bytes)")
        }
    }

    mutating func skip(_ n: Int, _ what: String) throws {
        try need(n, what)
        offset += n
    }

    mutating func read<T: FixedWidthInteger>(_ type: T.Type, _ what: String) throws -> T {
        let size = MemoryLayout<T>.size
        try need(size, what)
        let v = file.bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(littleEndian: v)
    }

    mutating func readFloat(_ what: String) throws -> Float {
        Float(bitPattern: try read(UInt32.self, what))
    }

    mutating func readDouble(_ what: String) throws -> Double {
        Double(bitPattern: try read(UInt64.self, what))
    }

    /// Reads a count stored as UInt64 and checks that `count * minBytesEach` fits in the rest of
    /// the file, so that no caller allocates for elements that cannot be there.
    mutating func readCount(_ what: String, minBytesEach: Int) throws -> Int {
        let start = offset
        let raw = try read(UInt64.self, what)
        let limit = UInt64(remaining / max(minBytesEach, 1))
        guard raw <= limit else {
            throw error(
                "\(what) is \(raw), impossible: the \(remaining) remaining bytes hold at most \(limit) (at least \(minBytesEach) bytes each)",
                at: start)
        }
        return Int(raw)
    }

    /// Reads `n` raw bytes as a UTF-8 string (invalid sequences are replaced with U+FFFD).
    mutating func readUTF8(count n: Int, _ what: String) throws -> String {
        try need(n, what)
        let s = String(decoding: file.slice(offset..<(offset + n)), as: UTF8.self)
        offset += n
        return s
    }
}

/// Writes a file atomically: the bytes go to a temporary file in the same directory, which is
/// flushed and then renamed over `path`, so readers never see a half-written file.
public struct AtomicFileWriter {
    public let path: String
    private let tempPath: String
    private let fd: Int32
    private var buffer: [UInt8] = []

    public init(path: String) throws {
        self.path = path
        var template = Array((path + ".tmp-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw IFTError.file(path: path, location: "create", message: "cannot create a temporary file next to it: \(MappedFile.errnoString())")
        }
        self.fd = fd
        self.tempPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        // mkstemp creates 0600; give the final file the usual 0644. (Reading the umask would
        // mean setting it, which races with other threads creating files.)
        fchmod(fd, 0o644)
    }

    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        if buffer.count + bytes.count > 1 << 20 { try flush() }
        if bytes.count >= 1 << 20 {
            try writeAll(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    public mutating func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    public mutating func writeZeros(_ n: Int) throws {
        try write([UInt8](repeating: 0, count: n))
    }

    private mutating func flush() throws {
        let pending = buffer
        buffer.removeAll(keepingCapacity: true)
        try pending.withUnsafeBytes { try writeAll($0) }
    }

    private mutating func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = posixWrite(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw IFTError.file(path: tempPath, location: "write", message: "write failed: \(MappedFile.errnoString())")
            }
            done += n
        }
    }

    /// Flushes, syncs and renames the temporary file over `path`.
    public mutating func commit() throws {
        do {
            try flush()
            guard fsync(fd) == 0 else {
                throw IFTError.file(path: tempPath, location: "fsync", message: "fsync failed: \(MappedFile.errnoString())")
            }
            guard close(fd) == 0 else {
                throw IFTError.file(path: tempPath, location: "close", message: "close failed: \(MappedFile.errnoString())")
            }
        } catch {
            close(fd)
            unlink(tempPath)
            throw error
        }
        guard rename(tempPath, path) == 0 else {
            let msg = MappedFile.errnoString()
            unlink(tempPath)
            throw IFTError.file(path: path, location: "rename", message: "cannot rename \(tempPath) over it: \(msg)")
        }
    }

    /// Removes the temporary file (after a failure before `commit`).
    public func abandon() {
        close(fd)
        unlink(tempPath)
    }

    /// Runs `body` with a writer, commits on success and removes the temporary file on failure.
    public static func write(to path: String, _ body: (inout AtomicFileWriter) throws -> Void) throws {
        var w = try AtomicFileWriter(path: path)
        do {
            try body(&w)
        } catch {
            w.abandon()
            throw error
        }
        try w.commit()
    }
}

/// `write(2)`, named so that `AtomicFileWriter.write` does not shadow it.
private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    write(fd, p, n)
}
