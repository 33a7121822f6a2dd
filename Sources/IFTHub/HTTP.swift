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
        let body: (UnsafeRawBufferPointer) throws -> Void
        let progress: ((Int64, Int64) -> Void)?
        var error: Error?
        init(body: @escaping (UnsafeRawBufferPointer) throws -> Void, progress: ((Int64, Int64) -> Void)?) {
            self.body = body
            self.progress = progress
        }
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
        let context = Unmanaged.passRetained(transfer)
        defer { context.release() }
        var status = 0
        var error = [CChar](repeating: 0, count: 1024)
        let result = ift_http_get(
            url, 30, stallSeconds, onBody,
            { context, total, received in
                Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue().progress?(total, received)
            },
            context.toOpaque(), &status, &error, error.count)
        if let e = transfer.error { throw e }
        guard result == 0 else { throw IFTError.invalidArgument("GET \(url) failed: \(message(error))") }
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
        let context = Unmanaged.passRetained(transfer)
        defer { context.release() }
        var status = 0
        var error = [CChar](repeating: 0, count: 1024)
        let cHeaders = headers.map { strdup($0) }
        defer { cHeaders.forEach { free($0) } }
        let result = cHeaders.map { UnsafePointer($0) }.withUnsafeBufferPointer { h in
            body.withUnsafeBytes { b in
                ift_http_request(
                    url, method, h.baseAddress, Int32(h.count), b.baseAddress, b.count, 10, timeoutSeconds, onBody,
                    context.toOpaque(), &status, &error, error.count)
            }
        }
        if let e = transfer.error { throw e }
        guard result == 0 else { throw IFTError.invalidArgument("\(method) \(url) failed: \(message(error))") }
        return Response(status: status, body: received)
    }
}

#if canImport(Glibc)
import Glibc
#endif
