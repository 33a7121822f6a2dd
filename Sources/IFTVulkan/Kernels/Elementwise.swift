import IFTCore

/// Host side of `Shaders/binary.comp` and `Shaders/scale.comp` (CPU references:
/// `Sources/IFTCPU/Reference/Binary.swift`, `Scale.swift`).
extension VulkanBackend {
    static let elementwiseWorkgroup = 256

    public func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: Tensor) throws {
        try OpChecks.backend([a, b, out], name)
        try OpChecks.binary(op, a, b, out)
        let n = a.count, nb = b.count
        guard n > 0 else { return }
        let wg = Self.elementwiseWorkgroup
        let pipeline = try device.pipelines.pipeline(
            "binary", bindings: 3, constants: [UInt32(wg), op == .add ? 0 : 1])
        // Chunks start at multiples of 64 elements (aligned bindings) and, when b is broadcast, of nb.
        let broadcast = nb < n
        let unit = broadcast ? lcm(64, nb) : 64
        let chunk = max(unit, maxBindingBytes / 4 / unit * unit)
        var start = 0
        while start < n {
            let len = min(chunk, n - start)
            let bA = try binding(a, byteOffset: start * 4, byteCount: len * 4)
            let bO = try binding(out, byteOffset: start * 4, byteCount: len * 4)
            let bB = broadcast ? try binding(b) : try binding(b, byteOffset: start * 4, byteCount: len * 4)
            try recorder.dispatch(
                pipeline, bindings: [bA, bB, bO], writes: [2], push: [UInt32(len), UInt32(broadcast ? nb : len)],
                groups: (gridGroups(len, wg), 1, 1))
            start += len
        }
    }

    public func scale(_ a: Tensor, by s: Float, into out: Tensor) throws {
        try OpChecks.backend([a, out], name)
        try OpChecks.scale(a, out)
        try dispatchElementwise("scale", [a, out], writes: [1], push: [s.word])
    }

    /// Runs an elementwise shader over f32 tensors of the same element count (binding `i` is
    /// `tensors[i]`), in chunks that fit one binding and start at multiples of 64 elements (aligned
    /// offsets). The shader's push constants are the chunk's element count, then `push`.
    func dispatchElementwise(_ shader: String, _ tensors: [Tensor], writes: Set<Int>, push: [UInt32] = []) throws {
        guard let n = tensors.first?.count, n > 0 else { return }
        let wg = Self.elementwiseWorkgroup
        let pipeline = try device.pipelines.pipeline(shader, bindings: tensors.count, constants: [UInt32(wg)])
        let chunk = max(64, maxBindingBytes / 4 / 64 * 64)
        var start = 0
        while start < n {
            let len = min(chunk, n - start)
            let bindings = try tensors.map { try binding($0, byteOffset: start * 4, byteCount: len * 4) }
            try recorder.dispatch(
                pipeline, bindings: bindings, writes: writes, push: [UInt32(len)] + push, groups: (gridGroups(len, wg), 1, 1))
            start += len
        }
    }
}

func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
func lcm(_ a: Int, _ b: Int) -> Int { a / gcd(a, b) * b }
