import ArgumentParser
import IFTCore

@main
struct IFTGPU: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ift-gpu",
        abstract: "Instruction fine-tuning for Llama-family language models on any Vulkan GPU, or the CPU.",
        discussion: """
            Backends: `vulkan` (any Vulkan 1.2 device; Mesa's lavapipe without a GPU), `cpu` (OpenBLAS
            and threads) and `cpu-ref` (plain loops, the numerical reference).

            Examples:
              ift-gpu devices
              ift-gpu bench kernels --quick
            """,
        subcommands: [Devices.self, Bench.self]
    )
}

/// Options shared by commands that run on a backend.
struct BackendOptions: ParsableArguments {
    @Option(name: .long, help: "Backend: vulkan, cpu or cpu-ref.")
    var backend: String = "vulkan"

    @Option(name: .long, help: "Vulkan device index from `ift-gpu devices` (default: IFT_DEVICE, else the first GPU).")
    var device: Int?

    func validate() throws {
        guard BackendKind(rawValue: backend) != nil else {
            throw ValidationError("unknown backend '\(backend)'; choose one of: vulkan, cpu, cpu-ref")
        }
        if let device, device < 0 {
            throw ValidationError("--device must be a device index >= 0 (see `ift-gpu devices`)")
        }
    }
}
