import IFTCore
import IFTModel

/// Rows of an existing responses file (a JSON array of objects, or JSONL with one object per line),
/// for scoring without generating: each metric reads the fields it needs by name.
public struct ResponseRows {
    /// The rows in file order, with the 1-based line (JSONL) or element index (JSON array) each came from.
    public var rows: [(location: Int, object: JSONValue)]
    public let path: String
    /// "line" for JSONL files, "element" for JSON arrays (how `location` reads in messages).
    public let locationName: String

    /// Reads `path`; a malformed line or a row that is not an object is an error naming the file and line.
    public init(path: String) throws {
        self.path = path
        let text = try FileSystem.readText(path)
        let trimmed = text.drop { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" || $0 == "\u{FEFF}" }
        var rows: [(Int, JSONValue)] = []
        if trimmed.first == "[" {
            locationName = "element"
            guard let array = try JSONValue.parse(text, path: path).arrayValue else {
                throw IFTError.file(path: path, location: "1", message: "expected a JSON array of objects")
            }
            for (i, v) in array.enumerated() {
                guard v.objectValue != nil else {
                    throw IFTError.file(path: path, location: "element \(i + 1)", message: "expected an object")
                }
                rows.append((i + 1, v))
            }
        } else {
            locationName = "line"
            for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let s = line.trimmingSuffix { $0 == "\r" }
                if s.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
                let v = try JSONValue.parse(String(s), path: "\(path):\(i + 1)")
                guard v.objectValue != nil else {
                    throw IFTError.file(path: path, location: "\(i + 1)", message: "expected a JSON object on this line")
                }
                rows.append((i + 1, v))
            }
        }
        guard !rows.isEmpty else { throw IFTError.file(path: path, location: "1", message: "no rows") }
        self.rows = rows
    }

    /// The string field `key` of every row; a missing or non-string field is an error naming the row.
    public func strings(_ key: String) throws -> [String] {
        try rows.map { row in
            guard let s = row.object[key]?.stringValue else {
                let have = row.object.objectValue.map { $0.keys.sorted().joined(separator: ", ") } ?? ""
                throw IFTError.file(
                    path: path, location: "\(locationName == "line" ? "" : "element ")\(row.location)",
                    message: "expected a string field '\(key)' (the row has: \(have))")
            }
            return s
        }
    }
}

extension Substring {
    fileprivate func trimmingSuffix(while drop: (Character) -> Bool) -> Substring {
        var s = self
        while let last = s.last, drop(last) { s = s.dropLast() }
        return s
    }
}
