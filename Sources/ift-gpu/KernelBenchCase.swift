import IFTCPU
import IFTCore
import IFTVulkan

protocol VulkanBackendDescribing { var deviceDescription: String { get } }

extension VulkanBackend: VulkanBackendDescribing {
    var deviceDescription: String { "\(device.info.name) (driver \(device.info.driverName), Vulkan \(device.info.apiVersion))" }
}

/// One kernel on one shape: how to set it up on a backend and how much work one run is.
struct KernelBenchCase {
    var kernel: String
    var shape: String
    /// FLOPs (for matmul) or bytes moved (others) per run.
    var work: Double
    var unit: String
    /// Allocates inputs on a backend and returns the op to time.
    var setup: (any Backend) throws -> () throws -> Void

    /// Median seconds of `repeats` runs after one warm-up run.
    func measure(on backend: any Backend, repeats: Int) throws -> Double {
        let op = try setup(backend)
        try op()
        try backend.synchronize()
        var times: [Double] = []
        for _ in 0..<repeats {
            if let vk = backend as? VulkanBackend, vk.device.info.timestampsSupported {
                try vk.device.recorder.timestamp("start")
                try op()
                try vk.device.recorder.timestamp("end")
                try vk.synchronize()
                let ts = vk.device.recorder.lastTimestamps
                if ts.count == 2 {
                    times.append((ts[1].ns - ts[0].ns) / 1e9)
                    continue
                }
            }
            let clock = ContinuousClock()
            let start = clock.now
            try op()
            try backend.synchronize()
            let d = clock.now - start
            times.append(Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
        }
        times.sort()
        return times[times.count / 2]
    }

    static func all(quick: Bool) -> [KernelBenchCase] {
        let t = quick ? 256 : 4096  // tokens
        let d = 576, f = 1536
        let vocab = quick ? 4096 : 49152
        var cases: [KernelBenchCase] = []
        func mm(_ label: String, _ m: Int, _ n: Int, _ k: Int, transA: Bool = false, transB: Bool = false) {
            let desc = MatmulDescriptor(m: m, n: n, k: k, transposeA: transA, transposeB: transB)
            cases.append(
                KernelBenchCase(
                    kernel: "matmul " + label, shape: "\(m)x\(n)x\(k)", work: desc.flops, unit: "GFLOP/s",
                    setup: { b in
                        var g = SeededGenerator(seed: 1)
                        let a = try b.tensor(g.uniformArray(m * k), shape: [m * k])
                        let bb = try b.tensor(g.uniformArray(k * n), shape: [k * n])
                        let c = try b.makeTensor(shape: [m, n], dtype: .f32)
                        return { try b.matmul(a, bb, c, desc) }
                    }))
        }
        mm("A·Bᵀ", t, d, d, transB: true)  // attention projection forward
        mm("A·Bᵀ", t, f, d, transB: true)  // MLP up/gate forward
        mm("A·Bᵀ", t, vocab, d, transB: true)  // LM head forward
        mm("A·B", t, d, f)  // MLP down backward: dX = dY · W
        mm("Aᵀ·B", f, d, t, transA: true)  // weight gradient: dW = dYᵀ · X

        let n = t * f
        for op in BinaryOp.allCases {
            cases.append(
                KernelBenchCase(
                    kernel: op.rawValue, shape: "\(t)x\(f)", work: Double(n * 12), unit: "GB/s",
                    setup: { b in
                        var g = SeededGenerator(seed: 2)
                        let x = try b.tensor(g.uniformArray(n), shape: [t, f])
                        let y = try b.tensor(g.uniformArray(n), shape: [t, f])
                        let o = try b.makeTensor(shape: [t, f], dtype: .f32)
                        return { try b.binary(op, x, y, into: o) }
                    }))
        }
        cases.append(
            KernelBenchCase(
                kernel: "scale", shape: "\(t)x\(f)", work: Double(n * 8), unit: "GB/s",
                setup: { b in
                    var g = SeededGenerator(seed: 3)
                    let x = try b.tensor(g.uniformArray(n), shape: [t, f])
                    let o = try b.makeTensor(shape: [t, f], dtype: .f32)
                    return { try b.scale(x, by: 0.5, into: o) }
                }))
        let rows = quick ? 64 : 512
        for op in ReduceOp.allCases {
            cases.append(
                KernelBenchCase(
                    kernel: "reduce_\(op.rawValue)", shape: "\(rows)x\(vocab)", work: Double(rows * vocab * 4), unit: "GB/s",
                    setup: { b in
                        var g = SeededGenerator(seed: 4)
                        let x = try b.tensor(g.uniformArray(rows * vocab), shape: [rows, vocab])
                        let o = try b.makeTensor(shape: [rows], dtype: .f32)
                        return { try b.reduceRows(op, x, into: o) }
                    }))
        }
        cases.append(
            KernelBenchCase(
                kernel: "softmax", shape: "\(rows)x\(vocab)", work: Double(rows * vocab * 8), unit: "GB/s",
                setup: { b in
                    var g = SeededGenerator(seed: 5)
                    let x = try b.tensor(g.uniformArray(rows * vocab, -10, 10), shape: [rows, vocab])
                    let o = try b.makeTensor(shape: [rows, vocab], dtype: .f32)
                    return { try b.softmaxRows(x, into: o) }
                }))
        for (from, to) in [(DType.f32, DType.f16), (.f32, .bf16), (.f16, .f32)] {
            cases.append(
                KernelBenchCase(
                    kernel: "cast \(from)>\(to)", shape: "\(t)x\(f)",
                    work: Double(n * (from.blockBytes + to.blockBytes)), unit: "GB/s",
                    setup: { b in
                        var g = SeededGenerator(seed: 6)
                        let src = try b.tensor(g.uniformArray(n), shape: [t, f])
                        let x: Tensor
                        if from == .f32 {
                            x = src
                        } else {
                            x = try b.makeTensor(shape: [t, f], dtype: from)
                            try b.cast(src, into: x)
                        }
                        let o = try b.makeTensor(shape: [t, f], dtype: to)
                        return { try b.cast(x, into: o) }
                    }))
        }
        let rowsQ = quick ? 4096 : 49152
        for q in [DType.q8_0, .q4_0, .q4_1, .q4_k, .nf4] {
            let count = rowsQ * d
            cases.append(
                KernelBenchCase(
                    kernel: "dequant \(q)", shape: "\(rowsQ)x\(d)",
                    work: Double(count / q.blockSize * q.blockBytes + count * 4), unit: "GB/s",
                    setup: { b in
                        var g = SeededGenerator(seed: 7)
                        let bytes = try Reference.quantize(q, g.uniformArray(count))
                        let x = try b.tensor(bytes: bytes, shape: [count], dtype: q)
                        let o = try b.makeTensor(shape: [count], dtype: .f32)
                        return { try b.dequantize(x, into: o) }
                    }))
        }
        return cases + forward(quick: quick)
    }
}
