#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZlib
import IFTCore
import IFTModel

/// JSON Lines files (one JSON object per line), plain or gzip-compressed, as HumanEval's problem
/// and sample files are: reading with errors naming the file and line, and writing.
public enum JSONLines {
    /// The string field `key` of the row at `line` of `path`: a missing or non-string field is an
    /// `IFTError.file` naming the file and line.
    public static func string(_ key: String, of object: JSONObject, path: String, line: Int) throws -> String {
        guard let value = object[key] else {
            throw IFTError.file(
                path: path, location: "\(line)",
                message: "missing field '\(key)' (the row has: \(object.keys.joined(separator: ", ")))")
        }
        guard let s = value.stringValue else {
            throw IFTError.file(path: path, location: "\(line)", message: "field '\(key)' must be a string, found \(value.typeName)")
        }
        return s
    }

    /// The objects of the JSONL file at `path`, each with its 1-based line number; blank lines are
    /// skipped. A gzip file (recognised by its magic bytes, whatever its name) is inflated first.
    /// A malformed line or one that is not an object is an `IFTError.file` naming `path:line`.
    public static func read(path: String) throws -> [(line: Int, object: JSONObject)] {
        let file = try MappedFile(path: path)
        let bytes: [UInt8]
        if file.bytes.count >= 2, file.bytes[0] == 0x1F, file.bytes[1] == 0x8B {
            bytes = try gunzip(file.bytes, path: path)
        } else {
            bytes = Array(file.bytes)
        }
        var rows: [(line: Int, object: JSONObject)] = []
        var start = 0
        var line = 1
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            var last = end
            if last > start, bytes[last - 1] == 0x0D { last -= 1 }
            var first = start
            if line == 1, last - first >= 3, bytes[first] == 0xEF, bytes[first + 1] == 0xBB, bytes[first + 2] == 0xBF {
                first += 3  // a UTF-8 byte order mark
            }
            let blank = bytes[first..<last].allSatisfy { $0 == 0x20 || $0 == 0x09 }
            if !blank {
                let value = try bytes[first..<last].withUnsafeBytes { try JSONValue.parse($0, path: "\(path):\(line)") }
                guard let object = value.objectValue else {
                    throw IFTError.file(path: path, location: "\(line)", message: "expected a JSON object, found \(value.typeName)")
                }
                rows.append((line, object))
            }
            start = end + 1
            line += 1
        }
        return rows
    }

    /// Writes `rows` to `path`, one compact JSON value per line (replacing the file).
    public static func write(_ rows: [JSONValue], to path: String) throws {
        var text = ""
        for row in rows {
            row.write(to: &text)
            text += "\n"
        }
        guard let f = fopen(path, "wb") else {
            throw IFTError.file(path: path, location: "open", message: "cannot create: \(String(cString: strerror(errno)))")
        }
        let written = text.utf8.withContiguousStorageIfAvailable { fwrite($0.baseAddress, 1, $0.count, f) }
            ?? Array(text.utf8).withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        let closed = fclose(f)
        guard written == text.utf8.count, closed == 0 else {
            throw IFTError.file(path: path, location: "write", message: "cannot write: \(String(cString: strerror(errno)))")
        }
    }

    /// Inflates gzip data (one or more concatenated members).
    static func gunzip(_ data: UnsafeRawBufferPointer, path: String) throws -> [UInt8] {
        func fail(_ m: String) -> IFTError { .file(path: path, location: "gzip", message: m) }
        var stream = z_stream()
        // windowBits 15 + 16: a gzip wrapper, checked (CRC-32 and length) by zlib.
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw fail("zlib inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }
        var result: [UInt8] = []
        result.reserveCapacity(data.count * 4)
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        stream.next_in = UnsafeMutablePointer(mutating: data.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(data.count)
        while true {
            var status: Int32 = Z_OK
            let produced: Int = try chunk.withUnsafeMutableBytes { out in
                stream.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(out.count)
                status = inflate(&stream, Z_NO_FLUSH)
                guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                    throw fail("inflate failed (zlib status \(status)): the file is corrupt")
                }
                return out.count - Int(stream.avail_out)
            }
            result.append(contentsOf: chunk[0..<produced])
            if status == Z_STREAM_END {
                // Another member may follow (`cat a.gz b.gz`); trailing zero padding is allowed.
                guard stream.avail_in > 0 else { break }
                if let next = stream.next_in, UnsafeBufferPointer(start: next, count: Int(stream.avail_in)).allSatisfy({ $0 == 0 }) {
                    break
                }
                guard inflateReset(&stream) == Z_OK else { throw fail("zlib inflateReset failed") }
            } else if produced == 0 && (stream.avail_in == 0 || status == Z_BUF_ERROR) {
                throw fail("the compressed data ends before the end of the gzip stream (truncated file?)")
            }
        }
        return result
    }
}
