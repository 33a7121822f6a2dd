import CShaders
import Foundation
import XCTest

/// The SPIR-V embedded in CShaders (Sources/CShaders/shaders.c) must cover exactly the shaders in
/// Shaders/ and must be what Tools/build-shaders.sh produces from them now.
final class ShaderEmbeddingTests: XCTestCase {
    /// The package root: this file is <root>/Tests/IFTVulkanTests/ShaderEmbeddingTests.swift.
    private static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Names (without .comp) of the shader sources, sorted.
    private func shaderSourceNames() throws -> [String] {
        let dir = Self.repoRoot.appendingPathComponent("Shaders")
        return try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix(".comp") }
            .map { String($0.dropLast(".comp".count)) }
            .sorted()
    }

    private struct Entry {
        var name: String
        var code: UnsafePointer<UInt32>?
        var size: Int
    }

    private func embeddedShaders() -> [Entry] {
        var count = 0
        guard let table = ift_shader_table(&count) else { return [] }
        return (0..<count).map { i in
            let e = table[i]
            return Entry(name: e.name.map { String(cString: $0) } ?? "", code: e.code, size: e.size)
        }
    }

    func testEveryShaderSourceIsEmbedded() throws {
        let sources = try shaderSourceNames()
        XCTAssertFalse(sources.isEmpty, "no Shaders/*.comp found under \(Self.repoRoot.path)")
        let table = embeddedShaders()
        let names = table.map(\.name)
        XCTAssertEqual(Set(names).count, names.count, "duplicate names in ift_shader_table(): \(names)")
        for name in sources {
            XCTAssertTrue(names.contains(name),
                          "Shaders/\(name).comp has no entry in ift_shader_table(); run Tools/build-shaders.sh")
        }
        for name in names {
            XCTAssertTrue(sources.contains(name),
                          "ift_shader_table() has '\(name)' but Shaders/\(name).comp does not exist; run Tools/build-shaders.sh")
        }
        for entry in table {
            // A SPIR-V module has a 5-word header: magic, version, generator, bound, schema.
            XCTAssertGreaterThan(entry.size, 20, "\(entry.name): size \(entry.size)")
            XCTAssertEqual(entry.size % 4, 0, "\(entry.name): size \(entry.size) is not a whole number of words")
            guard let code = entry.code, entry.size >= 8 else {
                XCTFail("\(entry.name): no code")
                continue
            }
            XCTAssertEqual(code[0], 0x0723_0203, "\(entry.name): bad SPIR-V magic number")
            // Vulkan 1.2 consumes SPIR-V 1.0 ... 1.5.
            XCTAssertTrue((0x0001_0000...0x0001_0500).contains(code[1]),
                          "\(entry.name): SPIR-V version word \(String(code[1], radix: 16))")
        }
    }

    func testEmbeddedSPIRVIsUpToDate() throws {
        let script = Self.repoRoot.appendingPathComponent("Tools/build-shaders.sh")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["bash", script.path, "--check"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()  // until the script exits
        process.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        if process.terminationReason == .exit && process.terminationStatus == 77 {
            throw XCTSkip("glslc or spirv-val is not installed: \(output)")
        }
        XCTAssertEqual(process.terminationStatus, 0,
                       "Sources/CShaders/shaders.c does not match Shaders/ (run Tools/build-shaders.sh):\n\(output)")
    }
}
