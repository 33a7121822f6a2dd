import ArgumentParser
import IFTCore

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks: kernels on each backend, training steps, batched generation.",
        subcommands: [BenchKernels.self, BenchTrain.self, BenchGenerate.self])
}

struct BenchKernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Time every kernel on shapes of a real model, per backend, with the ratio to `cpu`.",
        usage: "ift-gpu bench kernels [<options>]",
        discussion: """
            Shapes are those of SmolLM2-135M (d=576, FFN 1536, vocab 49152) with 4096 \
            tokens: the projections' matmuls in the three layouts a training step uses \
            (X·Wᵀ forward, dY·W and dYᵀ·X backward), the LM head, elementwise ops on \
            activations, softmax over the vocabulary, casts, and dequantization of the \
            embedding matrix. Vulkan times come from GPU timestamps, CPU times from the \
            wall clock; each is the median of --repeat runs after one warm-up. `ratio` \
            is the cpu backend's median time divided by this backend's (higher is \
            faster).

            Examples:
              ift-gpu bench kernels --quick
              ift-gpu bench kernels --kernels matmul --backends cpu,vulkan --repeat 3
              ift-gpu bench kernels --quick --json
            """)

    @Option(help: "Comma-separated backends to time (vulkan, cpu, cpu-ref).")
    var backends: String = "cpu,vulkan"

    @Option(help: "Only kernels whose name contains one of these comma-separated words (e.g. matmul,softmax).")
    var kernels: String?

    @Option(name: .customLong("repeat"), help: "Timed runs per kernel and backend (the median is reported).")
    var repeats: Int = 5

    @Flag(help: "Small shapes (256 tokens instead of 4096; a reduced LM head): a fast smoke run.")
    var quick = false

    @Option(help: "Vulkan device index (see `ift-gpu devices`).")
    var device: Int?

    @Flag(help: "Print one JSON object per line instead of the table.")
    var json = false

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeat must be at least 1") }
        for b in backends.split(separator: ",") where BackendKind(rawValue: String(b)) == nil || b == "auto" {
            throw ValidationError("unknown backend '\(b)' in --backends; choose from vulkan, cpu, cpu-ref")
        }
    }

    func run() throws {
        let kinds = backends.split(separator: ",").compactMap { BackendKind(rawValue: String($0)) }
        var cases = KernelBenchCase.all(quick: quick)
        if let kernels {
            let words = kernels.split(separator: ",").map(String.init)
            cases = cases.filter { c in words.contains { c.kernel.contains($0) } }
        }
        // cpu is always timed: every ratio is against it.
        var order = kinds
        if !order.contains(.cpu) { order.insert(.cpu, at: 0) }
        var backendsByKind: [(BackendKind, any Backend)] = []
        for k in order { backendsByKind.append((k, try k.make(device: device))) }
        if !json, let vk = backendsByKind.first(where: { $0.0 == .vulkan })?.1 as? VulkanBackendDescribing {
            print("vulkan device: \(vk.deviceDescription)")
        }
        if !json {
            print(pad("kernel", 14) + pad("shape", 26) + pad("backend", 9) + lpad("median", 11) + lpad("rate", 14) + lpad("ratio", 9))
        }
        for c in cases {
            var cpuTime: Double?
            var rows: [(BackendKind, Double)] = []
            for (kind, backend) in backendsByKind {
                if kind == .cpuRef && c.work > 2e10 { continue }  // the plain loops would take minutes
                let t = try c.measure(on: backend, repeats: repeats)
                if kind == .cpu { cpuTime = t }
                if kinds.contains(kind) { rows.append((kind, t)) }
            }
            for (kind, t) in rows {
                let rate = c.work / t / 1e9
                let ratio = cpuTime.map { $0 / t }
                if json {
                    print(
                        "{\"kernel\":\"\(c.kernel)\",\"shape\":\"\(c.shape)\",\"backend\":\"\(kind.rawValue)\","
                            + "\"median_ms\":\(format(t * 1e3, 4)),\"\(c.unit == "GFLOP/s" ? "gflops" : "gbps")\":\(format(rate, 3)),"
                            + "\"ratio_to_cpu\":\(ratio.map { format($0, 3) } ?? "null")}")
                } else {
                    print(
                        pad(c.kernel, 14) + pad(c.shape, 26) + pad(kind.rawValue, 9) + lpad(format(t * 1e3, 3) + " ms", 11)
                            + lpad(format(rate, 1) + " " + c.unit, 14) + lpad(ratio.map { format($0, 2) + "x" } ?? "-", 9))
                }
            }
        }
    }
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s }
