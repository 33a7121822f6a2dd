import ArgumentParser
import IFTCPU
import IFTCore
import IFTData
import IFTHub
import IFTModel
import IFTTrain
import IFTVulkan

struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Time training steps (full, LoRA or QLoRA) on random data for a model architecture.",
        usage: "ift-gpu bench train [<options>]",
        discussion: """
            Builds a random-weight model of a published architecture (--shape: \
            smollm2-135m, the default, llama-3.2-1b, llama-3.1-8b or qwen2.5-0.5b, with \
            their config.json numbers) or loads --model, and runs --steps optimizer steps \
            (after --warmup untimed ones) on random tokens, batch x seq per step, every \
            target learned. Prints tokens/s, milliseconds per step, the activations' bytes \
            (far fewer with --checkpoint-activations) and peak memory: the process's peak \
            resident set (getrusage ru_maxrss, mapped file pages included) after loading \
            and after the steps, and on Vulkan the device tensors' peak.

            With --mode qlora no full-precision projection weight is made: a random model's \
            projections are random NF4 blocks made directly (embedding and head bf16, as a \
            bf16 checkpoint gives them), and a --model with 16/32-bit weights is quantized \
            to NF4 tensor by tensor as it streams in from the mapped file \
            (`Tools/gpu-run.sh` measures the llama-3.1-8b shape at batch 1 x 2048). \
            `Tools/bench-train.sh` runs this beside PyTorch + peft on the same workload \
            (`Tools/bench-train-torch.py`) and prints the ratio.

            Examples:
              ift-gpu bench train --backend cpu --mode lora --batch 4 --seq 256 --steps 3
              ift-gpu bench train --mode qlora --layers 4 --steps 2
              ift-gpu bench train --shape llama-3.2-1b --mode qlora --layers 2 --seq 64
              ift-gpu bench train --backend cpu --seq 1024 --checkpoint-activations
              ift-gpu bench train --backend vulkan --mode full --batch 8 --seq 512 --json
            """)

    @Option(help: "full, lora or qlora.")
    var mode: String = "lora"

    @Option(help: "Sequences per step.")
    var batch: Int = 4

    @Option(help: "Tokens per sequence.")
    var seq: Int = 256

    @Option(help: "Timed optimizer steps.")
    var steps: Int = 3

    @Option(help: "Untimed steps first.")
    var warmup: Int = 1

    @Option(help: "LoRA rank (alpha = 2 x rank), on all seven projections.")
    var rank: Int = 16

    @Option(help: "A model to load instead of random weights (name, .gguf or Hugging Face directory).")
    var model: String?

    @Option(help: "Override the number of layers of the random model (a quick run).")
    var layers: Int?

    @Option(help: "The random model's architecture: \(LlamaConfig.namedShapes.map(\.name).joined(separator: ", ")) (default: the first).")
    var shape: String?

    @Flag(name: .customLong("checkpoint-activations"), help: "Activation checkpointing: keep each layer's input only, recompute the rest in the backward pass.")
    var checkpointActivations = false

    @Flag(help: "Print one JSON line.")
    var json = false

    @OptionGroup var backendOptions: BackendOptions

    func validate() throws {
        guard TrainingMode(rawValue: mode) != nil else { throw ValidationError("unknown --mode '\(mode)'; choose full, lora or qlora") }
        guard batch >= 1, seq >= 2, steps >= 1, warmup >= 0, rank >= 1 else {
            throw ValidationError("--batch, --steps and --rank must be >= 1, --seq >= 2, --warmup >= 0")
        }
        if let layers, layers < 1 { throw ValidationError("--layers must be >= 1") }
        if let shape {
            guard model == nil else { throw ValidationError("--shape describes a random model; drop it with --model") }
            do { _ = try LlamaConfig.shape(named: shape) } catch { throw ValidationError("--shape: \(error)") }
        }
        try backendOptions.validate()
    }

    func run() throws {
        let backend = try backendOptions.makeBackend()
        let m = TrainingMode(rawValue: mode)!
        let lora = LoRAConfig(rank: rank, alpha: Float(2 * rank), dropout: 0)
        let model: TrainableLlama
        if let path = self.model {
            let files = try ModelFiles(path: try ModelStore().resolve(path))
            model = try TrainableLlama(files: files, backend: backend, mode: m, lora: lora, maxPositions: seq + 1)
        } else {
            var c = try LlamaConfig.shape(named: shape ?? LlamaConfig.namedShapes[0].name)
            if let layers { c.layerCount = layers }
            model = try TrainableLlama(
                config: c, weights: try LlamaWeights.random(c, on: backend, projections: m == .qlora ? .fourBit : .stored),
                backend: backend, mode: m, lora: lora, maxPositions: seq + 1)
        }
        let loadRSS = Trainer.peakRSSMB()
        let architecture = self.model ?? shape ?? LlamaConfig.namedShapes[0].name
        model.checkpointActivations = checkpointActivations
        let c = model.config
        var rng = SeededGenerator(seed: 1)
        let n = batch * seq
        let batchData = Batch(
            batchSize: batch, length: seq, inputs: (0..<n).map { _ in Int32(rng.next() % UInt64(c.vocabSize)) },
            targets: (0..<n).map { _ in Int32(rng.next() % UInt64(c.vocabSize)) }, lengths: [Int](repeating: seq, count: batch))
        let optimizer = try AdamW(backend: backend)
        var times: [Double] = []
        var lastLoss = 0.0, firstLoss = 0.0
        let vulkan = backend as? VulkanBackend
        for i in 0..<(warmup + steps) {
            if i == warmup { vulkan?.device.recorder.resetProfile() }
            let start = ContinuousClock.now
            try model.zeroGradients()
            let r = try model.step(batchData, lossScale: 1 / Float(n))
            try optimizer.step(model.parameters, lr: 1e-4)
            try backend.synchronize()
            let d = ContinuousClock.now - start
            if i >= warmup { times.append(ProgressBar.seconds(d)) }
            lastLoss = r.lossSum / Double(r.tokens)
            if i == 0 { firstLoss = lastLoss }
        }
        let mean = times.reduce(0, +) / Double(times.count)
        if let r = vulkan?.device.recorder, r.profiling {
            // IFT_VULKAN_PROFILE=1: GPU time per kernel over the timed steps.
            let total = r.profile.values.reduce(0) { $0 + $1.ns }
            print("GPU time per step by kernel (IFT_VULKAN_PROFILE), \(ProgressBar.fixed(total / 1e6 / Double(steps), 1)) ms in all:")
            for (name, v) in r.profile.sorted(by: { $0.value.ns > $1.value.ns }).prefix(16) {
                print("  \(name + String(repeating: " ", count: max(0, 28 - name.count))) \(ProgressBar.fixed(v.ns / 1e6 / Double(steps), 2)) ms  \(v.count / steps) dispatches  \(ProgressBar.fixed(100 * v.ns / max(total, 1), 1))%")
            }
        }
        let tps = Double(n) / mean
        let rss = Trainer.peakRSSMB()
        let device = (backend as? DeviceMemoryReporting).map { Double($0.peakDeviceBytes) / 1_048_576 }
        // The CPU and its BLAS kernel, for the cpu backend (bench-train.sh prints them).
        var cpuFields = ""
        if let cpu = backend as? CPUBackend {
            cpuFields = ",\"cpu\":\(JSONValue.string(cpu.blas.features.brand)),\"cpu_tier\":\"\(cpu.blas.features.tier)\","
                + "\"blas_kernel\":\(JSONValue.string(cpu.blas.kernel ?? cpu.blas.path)),\"threads\":\(CPUThreads.count)"
        }
        if json {
            print(
                "{\"framework\":\"ift-gpu\",\"backend\":\"\(backend.name)\",\"mode\":\"\(mode)\",\"model\":\(JSONValue.string(architecture)),\"batch\":\(batch),\"seq\":\(seq),\"layers\":\(c.layerCount),\"tokens_per_s\":\(ProgressBar.fixed(tps, 2)),\"step_ms\":\(ProgressBar.fixed(mean * 1000, 1)),\"peak_rss_mb\":\(ProgressBar.fixed(rss, 0)),\"load_peak_rss_mb\":\(ProgressBar.fixed(loadRSS, 0)),\(device.map { "\"peak_device_mb\":\(ProgressBar.fixed($0, 0))," } ?? "")\"checkpoint_activations\":\(checkpointActivations),\"activation_mb\":\(ProgressBar.fixed(Double(model.activationBytes) / 1_048_576, 1)),\"trainable_params\":\(model.trainableCount),\"base_weight_mb\":\(ProgressBar.fixed(Double(model.baseWeightBytes) / 1e6, 1)),\"first_loss\":\(ProgressBar.fixed(firstLoss, 6)),\"loss\":\(ProgressBar.fixed(lastLoss, 6))\(cpuFields)}")
        } else {
            print("bench train: \(mode) on \(backend.name), \(architecture), \(c.layerCount) layers, batch \(batch) x \(seq) tokens, \(model.trainableCount) trainable parameters")
            if let cpu = backend as? CPUBackend {
                print("  \(cpu.blas.features.summary); BLAS kernel \(cpu.blas.kernel ?? cpu.blas.path), \(CPUThreads.count) threads")
            }
            print("  \(ProgressBar.fixed(tps, 1)) tokens/s, \(ProgressBar.fixed(mean * 1000, 1)) ms per step (mean of \(steps) after \(warmup) warm-up)")
            print("  activations: \(ProgressBar.bytes(Double(model.activationBytes)))\(checkpointActivations ? " (checkpointed: layer inputs + one layer)" : "")")
            print("  peak memory: process RSS \(ProgressBar.fixed(rss, 0)) MB (\(ProgressBar.fixed(loadRSS, 0)) MB after loading)\(device.map { ", device tensors \(ProgressBar.fixed($0, 0)) MB" } ?? ""); base weights \(ProgressBar.bytes(Double(model.baseWeightBytes))); loss \(ProgressBar.fixed(lastLoss, 4))")
        }
    }
}
