import CCurl
import IFTCore

/// HTTP(S) through libcurl, opened at run time (`CCurl`): streamed GETs for downloads and small
/// requests (POST with JSON) for API clients such as the evaluation judge.
public enum HTTP {
    /// A response: the status and the whole body.
    public struct Response: Sendable {
        public var status: Int
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// What one transfer's C callbacks reach through their context pointer.
    private final class Transfer {
        var body: (UnsafeRawBufferPointer) throws -> Void
        let progress: ((Int64, Int64) -> Void)?
        var error: Error?
        /// The latest response's status and headers (names lowercased), for `fetch`, and the
        /// headers of every response of the redirect chain (a later one's win).
        var status = 0
        var headers: [String: String] = [:]
        var chainHeaders: [String: String] = [:]
        init(body: @escaping (UnsafeRawBufferPointer) throws -> Void, progress: ((Int64, Int64) -> Void)?) {
            self.body = body
            self.progress = progress
        }

        /// One header line: a status line starts a new response (a redirect's headers are dropped).
        func header(_ line: String) {
            var text = Substring(line)
            while let last = text.last, last == "\r\n" || last == "\n" || last == "\r" { text = text.dropLast() }
            if text.hasPrefix("HTTP/") {
                let fields = text.split(separator: " ")
                status = fields.count > 1 ? Int(fields[1]) ?? 0 : 0
                headers = [:]
            } else if let colon = text.firstIndex(of: ":") {
                let name = text[..<colon].lowercased()
                headers[name] = String(text[text.index(after: colon)...].drop { $0 == " " })
                chainHeaders[name] = headers[name]
            }
        }
    }

    /// The final response of a `fetch`: its status and headers (names lowercased), and the
    /// headers of all the responses that led to it (redirects included; a later one's win).
    public struct Head: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var chainHeaders: [String: String] = [:]
    }

    /// A transfer that failed on the way (connection refused, cut, stalled, TLS): what libcurl said.
    public struct TransferError: Error, CustomStringConvertible {
        public var url: String
        public var reason: String
        public var description: String { "GET \(url) failed: \(reason)" }
    }

    private static let onBody: ift_http_body_fn = { context, bytes, count in
        let t = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
        do {
            try t.body(UnsafeRawBufferPointer(start: bytes, count: count))
            return 0
        } catch {
            t.error = error
            return 1
        }
    }

    private static let errorLength = 1024

    /// Runs one libcurl call with `transfer` as its callbacks' context and `headers` as C strings;
    /// rethrows what a callback threw, or `failure(libcurl's message)` when the call failed.
    /// Returns the HTTP status.
    private static func perform(
        _ transfer: Transfer, headers: [String] = [], failure: (String) -> Error,
        _ call: (UnsafeMutableRawPointer, UnsafePointer<UnsafePointer<CChar>?>?, Int32, UnsafeMutablePointer<Int>,
            UnsafeMutablePointer<CChar>) -> Int32
    ) throws -> Int {
        let context = Unmanaged.passRetained(transfer)
        defer { context.release() }
        var status = 0
        var error = [CChar](repeating: 0, count: errorLength)
        let cHeaders = headers.map { strdup($0) }
        defer { cHeaders.forEach { free($0) } }
        let result = cHeaders.map { UnsafePointer($0) }.withUnsafeBufferPointer { h in
            error.withUnsafeMutableBufferPointer { e in
                call(context.toOpaque(), h.baseAddress, Int32(h.count), &status, e.baseAddress!)
            }
        }
        if let e = transfer.error { throw e }
        guard result == 0 else { throw failure(message(error)) }
        return status
    }

    private static func message(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// GETs `url` (following redirects, failing on HTTP >= 400), handing the body to `body` piece
    /// by piece; an error thrown by `body` stops the transfer and is rethrown. A transfer that
    /// stalls (under 1 byte/s) for `stallSeconds` fails.
    public static func get(
        _ url: String, stallSeconds: Int, body: @escaping (UnsafeRawBufferPointer) throws -> Void,
        progress: ((Int64, Int64) -> Void)? = nil
    ) throws {
        let transfer = Transfer(body: body, progress: progress)
        _ = try perform(transfer, failure: { IFTError.invalidArgument("GET \(url) failed: \($0)") }) { context, _, _, status, error in
            ift_http_get(
                url, 30, stallSeconds, onBody,
                { context, total, received in
                    Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue().progress?(total, received)
                },
                context, status, error, errorLength)
        }
    }

    /// GETs `url` with extra `headers` ("Name: value"), following redirects. `body` gets the bytes of
    /// a response with status < 400 only, and is called after the status is known (`Head` so far is
    /// passed to it); an error response's body (up to 64 KiB) goes to `errorBody`. Throws
    /// `TransferError` when the transfer fails on the way, and what `body` throws.
    public static func fetch(
        _ url: String, headers: [String] = [], stallSeconds: Int,
        body: @escaping (Head, UnsafeRawBufferPointer) throws -> Void,
        progress: ((Int64, Int64) -> Void)? = nil
    ) throws -> (head: Head, errorBody: [UInt8]) {
        var errorBody: [UInt8] = []
        let transfer = Transfer(body: { _ in }, progress: progress)
        transfer.body = { [unowned transfer] bytes in
            let head = Head(status: transfer.status, headers: transfer.headers)
            if head.status >= 400 {
                errorBody.append(contentsOf: bytes.prefix(max(0, 65536 - errorBody.count)))
            } else {
                try body(head, bytes)
            }
        }
        let status = try perform(transfer, headers: headers, failure: { TransferError(url: url, reason: $0) }) {
            context, headers, count, status, error in
            ift_http_fetch(
                url, headers, count, 30, stallSeconds,
                { context, line, count in
                    let t = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
                    t.header(String(decoding: UnsafeRawBufferPointer(start: line, count: count), as: UTF8.self))
                }, onBody,
                { context, total, received in
                    Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue().progress?(total, received)
                },
                context, status, error, errorLength)
        }
        let head = Head(
            status: transfer.status != 0 ? transfer.status : status, headers: transfer.headers, chainHeaders: transfer.chainHeaders)
        return (head, errorBody)
    }

    /// Sends one request and returns the status and body (any status; transport failures and
    /// `timeoutSeconds` for the whole exchange throw). The body is limited to `maxBytes`.
    public static func request(
        _ url: String, method: String = "POST", headers: [String] = [], body: [UInt8] = [], timeoutSeconds: Int = 60,
        maxBytes: Int = 64 << 20
    ) throws -> Response {
        var received: [UInt8] = []
        let transfer = Transfer(body: { bytes in
            guard received.count + bytes.count <= maxBytes else {
                throw IFTError.invalidArgument("\(method) \(url): the response is larger than \(maxBytes) bytes")
            }
            received.append(contentsOf: bytes)
        }, progress: nil)
        let status = try perform(transfer, headers: headers, failure: { IFTError.invalidArgument("\(method) \(url) failed: \($0)") }) {
            context, headers, count, status, error in
            body.withUnsafeBytes { b in
                ift_http_request(
                    url, method, headers, count, b.baseAddress, b.count, 10, timeoutSeconds, onBody, context, status, error,
                    errorLength)
            }
        }
        return Response(status: status, body: received)
    }
}

#if canImport(Glibc)
import Glibc
#endif
