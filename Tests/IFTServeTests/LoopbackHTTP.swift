#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import IFTModel

/// A minimal HTTP/1.1 client for the tests, over a blocking socket to 127.0.0.1 only, with a
/// receive/send timeout on every call so that no test can hang. One request per connection
/// (`Connection: close`); understands Content-Length, chunked and read-to-close bodies.
struct LoopbackHTTP {
    let port: Int
    /// Seconds any one socket read or write may block.
    var timeout: Double = 120

    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: JSONValue? { try? JSONValue.parse(body, path: "response") }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// An open connection whose response is read incrementally (for streams).
    final class Connection {
        let fd: Int32
        private var buffer: [UInt8] = []
        private var closed = false

        init(port: Int, timeout: Double) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw Failure(description: "socket() failed") }
            var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard rc == 0 else {
                closeDescriptor(fd)
                throw Failure(description: "connect to 127.0.0.1:\(port) failed (errno \(errno))")
            }
        }

        deinit { close() }

        func close() {
            if !closed { closeDescriptor(fd) }
            closed = true
        }

        func write(_ bytes: [UInt8]) throws {
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { throw Failure(description: "send failed (errno \(errno))") }
                sent += n
            }
        }

        /// Reads more bytes into the buffer; false at end of stream. Throws on timeout.
        private func fill() throws -> Bool {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { throw Failure(description: "read failed or timed out (errno \(errno))") }
            if n == 0 { return false }
            buffer += chunk[0..<n]
            return true
        }

        /// Bytes up to and including `delimiter`, or nil at end of stream.
        func read(until delimiter: [UInt8]) throws -> [UInt8]? {
            while true {
                if let r = buffer.firstRange(of: delimiter) {
                    let out = Array(buffer[..<r.upperBound])
                    buffer.removeFirst(r.upperBound)
                    return out
                }
                guard try fill() else { return nil }
            }
        }

        func read(count: Int) throws -> [UInt8] {
            while buffer.count < count {
                guard try fill() else { throw Failure(description: "the connection closed in the middle of a body") }
            }
            let out = Array(buffer.prefix(count))
            buffer.removeFirst(count)
            return out
        }

        func readToEnd() throws -> [UInt8] {
            while try fill() {}
            defer { buffer.removeAll() }
            return buffer
        }

        /// The status line and headers.
        func readHead() throws -> (Int, [String: String]) {
            guard let head = try read(until: Array("\r\n\r\n".utf8)) else {
                throw Failure(description: "the connection closed before a response")
            }
            let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
            let parts = lines[0].split(separator: " ")
            guard parts.count >= 2, let status = Int(parts[1]) else { throw Failure(description: "bad status line \(lines[0])") }
            var headers: [String: String] = [:]
            for line in lines.dropFirst() where !line.isEmpty {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            return (status, headers)
        }

        /// The next piece of a chunked body, or nil after the last.
        func readChunk() throws -> [UInt8]? {
            guard let line = try read(until: Array("\r\n".utf8)),
                let size = Int(String(decoding: line.dropLast(2), as: UTF8.self).split(separator: ";")[0], radix: 16)
            else { throw Failure(description: "bad chunk header") }
            if size == 0 {
                _ = try read(until: Array("\r\n".utf8))
                return nil
            }
            let data = try read(count: size)
            _ = try read(count: 2)
            return data
        }
    }

    /// Opens a connection and sends a request; the response is read by the caller.
    func open(_ method: String, _ path: String, body: [UInt8]? = nil, headers: [String: String] = [:]) throws -> Connection {
        let c = try Connection(port: port, timeout: timeout)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        try c.write(Array((head + "\r\n").utf8) + (body ?? []))
        return c
    }

    /// A whole request and response.
    func request(_ method: String, _ path: String, body: [UInt8]? = nil, headers: [String: String] = [:]) throws -> Response {
        let c = try open(method, path, body: body, headers: headers)
        defer { c.close() }
        let (status, h) = try c.readHead()
        var data: [UInt8] = []
        if h["transfer-encoding"]?.lowercased() == "chunked" {
            while let chunk = try c.readChunk() { data += chunk }
        } else if let length = h["content-length"].flatMap(Int.init) {
            data = try c.read(count: length)
        } else {
            data = try c.readToEnd()
        }
        return Response(status: status, headers: h, body: data)
    }

    func get(_ path: String) throws -> Response { try request("GET", path) }

    func post(_ path: String, _ json: String) throws -> Response {
        try request("POST", path, body: Array(json.utf8), headers: ["Content-Type": "application/json"])
    }
}

/// `close(2)`, outside `Connection` (whose `close()` hides it).
private func closeDescriptor(_ fd: Int32) { _ = close(fd) }

/// The `data:` payloads of a server-sent event stream.
func sseData(_ body: String) -> [String] {
    body.components(separatedBy: "\n\n").compactMap { event in
        event.hasPrefix("data: ") ? String(event.dropFirst(6)) : nil
    }
}
