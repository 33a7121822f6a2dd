import IFTCore
import IFTModel

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

/// HTTP downloads through libcurl (opened at run time, see `CCurl`), streamed to disk atomically
/// with a checksum and a progress bar.
enum Downloader {
    static let index = "https://pypi.org/simple/"

    /// The URL of `wheel` from the package's PyPI simple index page.
    static func wheelURL(package: String, wheel: String) throws -> String {
        let page = index + package + "/"
        let html = try fetchText(page)
        // Links look like: <a href="https://files.pythonhosted.org/.../NAME.whl#sha256=...">NAME.whl</a>
        for part in html.split(separator: "\"") where part.hasPrefix("http") {
            let url = part.split(separator: "#").first.map(String.init) ?? String(part)
            if url.hasSuffix("/" + wheel) { return url }
        }
        throw IFTError.invalidArgument("\(page) does not list \(wheel)")
    }

    /// The body of `url` as text (at most 16 MiB).
    static func fetchText(_ url: String) throws -> String {
        var body: [UInt8] = []
        try HTTP.get(url, stallSeconds: 60) { bytes in
            guard body.count + bytes.count <= 16 << 20 else {
                throw IFTError.invalidArgument("GET \(url): the page is larger than 16 MiB")
            }
            body.append(contentsOf: bytes)
        }
        return String(decoding: body, as: UTF8.self)
    }

    /// Streams `url` into `path` (temp file + rename), verifying its SHA-256.
    static func download(_ url: String, to path: String, sha256 expected: String, progress: Bool) throws {
        let name = String(path.split(separator: "/").last ?? "")
        var bar: ProgressBar?  // made once the size is known
        var writer = try AtomicFileWriter(path: path)
        var hasher = SHA256Stream()
        do {
            try HTTP.get(url, stallSeconds: 120, body: { bytes in
                hasher.update(bytes)
                try writer.write(bytes)
            }, progress: { total, received in
                if bar == nil, progress, total > 0 {
                    bar = ProgressBar(
                        label: "downloading \(name)", total: Double(total), rateUnit: "MB/s", rateScale: 1e6,
                        formatAmount: ProgressBar.bytes)
                }
                bar?.update(Double(received))
            })
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
