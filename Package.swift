// swift-tools-version:6.1
import PackageDescription

// Architecture, bottom to top:
//   CVulkan, CBLAS, CShaders  — C modules: the Vulkan headers (loaded at run time with dlopen),
//                               the BLAS loader (OpenBLAS opened with dlopen after its kernel is
//                               chosen; cpuid), and the embedded SPIR-V of every shader in Shaders/.
//   IFTCore                   — dtypes, tensors, the Backend protocol (every op named once), errors.
//   IFTCPU                    — the `cpu-ref` backend (plain loops: the numerical truth) and the
//                               `cpu` backend (OpenBLAS sgemm, multithreaded elementwise).
//   IFTVulkan                 — the Vulkan runtime (device, memory, pipelines, recorder) and backend.
//   IFTModel                  — GGUF and safetensors files, the BPE tokenizer, Llama-family models.
//   IFTData                   — instruction datasets: formats, prompt styles, collate, masking, packing, splits.
//   IFTTrain                  — training: LoRA/QLoRA/full fine-tuning steps, AdamW, schedules,
//                               the trainer, checkpoints.
//   IFTConfig                 — `train --config`: a YAML training config as command-line arguments.
//   IFTEval                   — evaluation: reference metrics (BLEU, chrF, ROUGE, EM/F1), IFEval,
//                               HumanEval, scoring existing response files.
//   IFTSynth                  — instruction-data generation (Magpie, Self-Instruct, from-text) through
//                               the local engine or an OpenAI-compatible endpoint; quality filters
//                               and the data-quality report.
//   IFTHub                    — the model store: known models, downloads (PyPI wheels, through
//                               libcurl opened at run time), checksums.
//   IFTServe                  — `ift-gpu serve`: an OpenAI-compatible HTTP server (Hummingbird)
//                               over one batched generation engine.
//   ift-gpu                   — the command-line tool.
// YAML training configs use Yams, which imports all of Foundation (about 45 MB more in a static
// binary). `IFT_NO_YAML=1 swift build` leaves it out (the small binary carried to GPU machines);
// `ift-gpu train --config` then explains that the binary was built without YAML.
let withYAML = Context.environment["IFT_NO_YAML"] == nil
// `ift-gpu serve` (IFTServe: an OpenAI-compatible HTTP server) uses Hummingbird and SwiftNIO, with
// Hummingbird's default traits off (FullFoundation, ConfigurationSupport) so that it needs only
// FoundationEssentials (tools version 6.1 for `traits:`). `IFT_NO_SERVER=1 swift build` leaves it
// out (a faster build: no SwiftNIO); `ift-gpu serve` then explains that the binary was built
// without it.
let withServer = Context.environment["IFT_NO_SERVER"] == nil
let serverPackages: [Package.Dependency] =
    withServer
    ? [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0", traits: []),
        // Hummingbird's own dependencies, named because IFTServe imports them.
        .package(url: "https://github.com/apple/swift-nio", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
    ] : []
let serverTargets: [Target] =
    withServer
    ? [
        .target(
            name: "IFTServe",
            dependencies: [
                "IFTCore", "IFTModel", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/IFTServe"),
        .testTarget(
            name: "IFTServeTests", dependencies: ["IFTCore", "IFTCPU", "IFTModel", "IFTServe", "IFTTestSupport"], path: "Tests/IFTServeTests"),
    ] : []
let serverDependencies: [Target.Dependency] = withServer ? ["IFTServe"] : []

let package = Package(
    name: "ift-gpu",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "ift-gpu", targets: ["ift-gpu"]),
        .library(name: "IFTCore", targets: ["IFTCore"]),
        .library(name: "IFTCPU", targets: ["IFTCPU"]),
        .library(name: "IFTVulkan", targets: ["IFTVulkan"]),
        .library(name: "IFTModel", targets: ["IFTModel"]),
        .library(name: "IFTData", targets: ["IFTData"]),
        .library(name: "IFTEval", targets: ["IFTEval"]),
        .library(name: "IFTTrain", targets: ["IFTTrain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ] + (withYAML ? [.package(url: "https://github.com/jpsim/Yams", from: "5.0.0")] : []) + serverPackages,
    targets: [
        .systemLibrary(name: "CVulkan", path: "Sources/CVulkan"),
        .target(name: "CBLAS", path: "Sources/CBLAS", linkerSettings: [.linkedLibrary("dl")]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // libcurl for downloads, opened with dlopen (headers from libcurl4-openssl-dev at build time).
        .target(name: "CCurl", path: "Sources/CCurl", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CShaders", path: "Sources/CShaders"),
        .target(name: "IFTCore", path: "Sources/IFTCore"),
        .target(name: "IFTCPU", dependencies: ["IFTCore", "CBLAS"], path: "Sources/IFTCPU"),
        .target(
            name: "IFTVulkan",
            dependencies: ["IFTCore", "CVulkan", "CShaders"],
            path: "Sources/IFTVulkan",
            linkerSettings: [.linkedLibrary("dl")]
        ),
        .target(name: "IFTModel", dependencies: ["IFTCore", "IFTCPU"], path: "Sources/IFTModel"),
        .target(name: "IFTData", dependencies: ["IFTCore", "IFTModel"], path: "Sources/IFTData"),
        .target(name: "IFTTrain", dependencies: ["IFTCore", "IFTCPU", "IFTModel", "IFTData"], path: "Sources/IFTTrain"),
        // `train --config`: the YAML config file as command-line arguments (without Yams, an explanation).
        .target(
            name: "IFTConfig", dependencies: ["IFTCore"] + (withYAML ? [.product(name: "Yams", package: "Yams")] : []),
            path: "Sources/IFTConfig"),
        .target(name: "IFTEval", dependencies: ["IFTCore", "IFTModel", "IFTData", "IFTHub", "CZlib"], path: "Sources/IFTEval"),
        .target(name: "IFTSynth", dependencies: ["IFTCore", "IFTModel", "IFTData", "IFTEval"], path: "Sources/IFTSynth"),
        .target(
            name: "IFTHub",
            dependencies: [
                "IFTCore", "IFTModel", "CZlib", "CCurl",
            ],
            path: "Sources/IFTHub"),
        .executableTarget(
            name: "ift-gpu",
            dependencies: [
                "IFTCore", "IFTCPU", "IFTVulkan", "IFTModel", "IFTData", "IFTTrain", "IFTConfig", "IFTHub", "IFTEval", "IFTSynth",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ] + serverDependencies,
            path: "Sources/ift-gpu",
            swiftSettings: withServer ? [.define("IFT_SERVER")] : []
        ),
        // Helpers shared by several test targets (a tiny random model, the fake judge, the random
        // op cases run against cpu-ref); only test targets depend on it, never a product.
        .target(name: "IFTTestSupport", dependencies: ["IFTCore", "IFTCPU", "IFTModel"], path: "Tests/IFTTestSupport"),
        .testTarget(name: "IFTCoreTests", dependencies: ["IFTCore"], path: "Tests/IFTCoreTests"),
        .testTarget(
            name: "IFTCPUTests", dependencies: ["IFTCore", "IFTCPU", "CBLAS", "IFTTestSupport"], path: "Tests/IFTCPUTests", exclude: ["Fixtures"]),
        .testTarget(
            name: "IFTModelTests", dependencies: ["IFTCore", "IFTCPU", "IFTModel", "IFTTestSupport"], path: "Tests/IFTModelTests",
            exclude: ["Fixtures"]),
        .testTarget(
            name: "IFTDataTests", dependencies: ["IFTCore", "IFTModel", "IFTData"], path: "Tests/IFTDataTests",
            exclude: ["Fixtures"]),
        .testTarget(
            name: "IFTHubTests", dependencies: ["IFTCore", "IFTHub"], path: "Tests/IFTHubTests", exclude: ["Fixtures"]),
        .testTarget(
            name: "IFTTrainTests", dependencies: ["IFTCore", "IFTCPU", "IFTModel", "IFTData", "IFTTrain"],
            path: "Tests/IFTTrainTests", exclude: ["Fixtures"]),
        .testTarget(
            name: "IFTEvalTests", dependencies: ["IFTCore", "IFTModel", "IFTEval", "IFTTestSupport"], path: "Tests/IFTEvalTests",
            exclude: ["Fixtures"]),
        .testTarget(
            name: "IFTSynthTests", dependencies: ["IFTCore", "IFTCPU", "IFTModel", "IFTData", "IFTEval", "IFTSynth", "IFTTestSupport"],
            path: "Tests/IFTSynthTests",
            exclude: ["Fixtures"]),
        .testTarget(name: "CLITests", dependencies: ["ift-gpu"], path: "Tests/CLITests", exclude: ["Fixtures"]),
    ] + serverTargets + [
        .testTarget(
            name: "IFTVulkanTests",
            dependencies: ["IFTCore", "IFTCPU", "IFTVulkan", "IFTModel", "IFTData", "IFTTrain", "CShaders", "IFTTestSupport"],
            path: "Tests/IFTVulkanTests"
        ),
    ],
    swiftLanguageModes: [.v5]
)
