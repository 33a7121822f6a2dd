#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import IFTCPU
import IFTCore

@main
struct IFTGPU: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ift-gpu",
        abstract: "Instruction fine-tuning for Llama-family language models on any Vulkan GPU, or the CPU.",
        discussion: """
            Backends: `vulkan` (any Vulkan 1.2 device; Mesa's lavapipe without a GPU), \
            `cpu` (OpenBLAS and threads) and `cpu-ref` (plain loops, the numerical \
            reference).

            Examples:
              ift-gpu devices
              ift-gpu model pull smollm2-135m-instruct
              ift-gpu model info smollm2-135m-instruct
              ift-gpu bench kernels --quick
            """,
        subcommands: [
            Devices.self, ModelCommand.self, Generate.self, Tokenize.self, DataCommand.self, Train.self, Eval.self, Bench.self,
            Serve.self, Export.self, SynthCommand.self,
        ]
    )

    /// Parses and runs the command. A `ValidationError` thrown while running (a missing dataset, a
    /// bad config file: found after parsing) is printed as one `Error:` line: ArgumentParser would
    /// add the root command's usage, which says nothing about the option at fault.
    static func main() async {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var c = command
                try c.run()
            }
        } catch let error as ValidationError {
            fputs("Error: \(error.message)\n", stderr)
            processExit(64)  // EX_USAGE, as ArgumentParser's own validation errors
        } catch {
            exit(withError: error)
        }
    }
}

/// `exit(3)`, named so that `ParsableCommand.exit(withError:)` does not shadow it.
private func processExit(_ code: Int32) -> Never {
    #if canImport(Glibc)
    Glibc.exit(code)
    #else
    Darwin.exit(code)
    #endif
}

/// Options shared by commands that run on a backend.
struct BackendOptions: ParsableArguments {
    @Option(name: .long, help: "Backend: auto (a Vulkan GPU if there is one, else cpu), vulkan, cpu or cpu-ref.")
    var backend: String = "auto"

    @Option(name: .long, help: "Vulkan device index from `ift-gpu devices` (default: IFT_DEVICE, else the first GPU).")
    var device: Int?

    @Option(name: .long, help: "CPU threads of the cpu backend, BLAS included (default: IFT_THREADS, else every core this process may use).")
    var threads: Int?

    /// The chosen backend, opened (after setting the CPU thread count).
    func makeBackend() throws -> any Backend {
        guard let kind = BackendKind(rawValue: backend) else {
            throw ValidationError("unknown backend '\(backend)'; choose one of: auto, vulkan, cpu, cpu-ref")
        }
        if let threads { try CPUThreads.set(threads) }
        return try kind.make(device: device)
    }

    func validate() throws {
        guard BackendKind(rawValue: backend) != nil else {
            throw ValidationError("unknown backend '\(backend)'; choose one of: auto, vulkan, cpu, cpu-ref")
        }
        if let device, device < 0 {
            throw ValidationError("--device must be a device index >= 0 (see `ift-gpu devices`)")
        }
        if let threads, threads < 1 {
            throw ValidationError("--threads must be at least 1")
        }
    }
}
