// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for every parser of outside input (see Tools/fuzz.sh). A package of its own so
// that the sanitizer build never touches the main one; its Sources/ are symbolic links to the
// library's sources, IFTConfig with Yams (and to the two request-parsing files of IFTServe, without the HTTP server).
let package = Package(
    name: "ift-fuzz",
    dependencies: [.package(url: "https://github.com/jpsim/Yams", from: "5.0.0")],
    targets: [
        .target(name: "CBLAS", path: "Sources/CBLAS", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "IFTCore", path: "Sources/IFTCore"),
        .target(name: "IFTCPU", dependencies: ["IFTCore", "CBLAS"], path: "Sources/IFTCPU"),
        .target(name: "IFTModel", dependencies: ["IFTCore", "IFTCPU"], path: "Sources/IFTModel"),
        .target(name: "IFTData", dependencies: ["IFTCore", "IFTModel"], path: "Sources/IFTData"),
        .target(name: "IFTTrain", dependencies: ["IFTCore", "IFTCPU", "IFTModel", "IFTData"], path: "Sources/IFTTrain"),
        .target(name: "IFTConfig", dependencies: ["IFTCore", .product(name: "Yams", package: "Yams")], path: "Sources/IFTConfig"),
        .target(name: "IFTServe", dependencies: ["IFTCore", "IFTModel"], path: "Sources/IFTServe"),
        // No main: libFuzzer's main calls LLVMFuzzerTestOneInput.
        .executableTarget(
            name: "ift-fuzz", dependencies: ["IFTCore", "IFTModel", "IFTData", "IFTTrain", "IFTConfig", "IFTServe"],
            path: "Sources/IFTFuzz",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
    ],
    swiftLanguageModes: [.v5]
)
