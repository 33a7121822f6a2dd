import IFTCore

/// Host side of `Shaders/reduce_rows.comp` and `Shaders/softmax_rows.comp` (CPU references:
/// `Sources/IFTCPU/Reference/ReduceRows.swift`, `SoftmaxRows.swift`). One workgroup per row.
extension VulkanBackend {
    /// Workgroup size for rows of `cols` elements: a power of two from 32 to 256.
    func rowWorkgroup(_ cols: Int) -> Int {
        var wg = 32
        while wg < 256 && wg < cols { wg *= 2 }
        return wg
    }

    /// Calls `body(firstRow, rowCount)` over bands of rows whose bindings fit the device's limit;
    /// bands start at multiples of 64 rows so every binding offset is aligned.
    func forEachRowBand(rows: Int, rowBytes: Int, _ body: (Int, Int) throws -> Void) throws {
        guard rowBytes <= maxBindingBytes else {
            throw IFTError.outOfDeviceMemory(
                "a row of \(rowBytes) bytes exceeds the device's maxStorageBufferRange (\(maxBindingBytes))")
        }
        let band = max(64, maxBindingBytes / rowBytes / 64 * 64)
        var r0 = 0
        while r0 < rows {
            let n = min(band, rows - r0)
            try body(r0, n)
            r0 += n
        }
    }

    public func reduceRows(_ op: ReduceOp, _ a: Tensor, into out: Tensor) throws {
        try OpChecks.backend([a, out], name)
        let (rows, cols) = try OpChecks.reduceRows(a, out)
        let wg = rowWorkgroup(cols)
        let pipeline = try device.pipelines.pipeline(
            "reduce_rows", bindings: 2, constants: [UInt32(wg), op == .sum ? 0 : 1])
        try forEachRowBand(rows: rows, rowBytes: cols * 4) { r0, n in
            try recorder.dispatch(
                pipeline,
                bindings: [
                    try binding(a, byteOffset: r0 * cols * 4, byteCount: n * cols * 4),
                    try binding(out, byteOffset: r0 * 4, byteCount: n * 4),
                ], writes: [1], push: [UInt32(n), UInt32(cols)], groups: (gridGroups(n, 1), 1, 1))
        }
    }

    public func softmaxRows(_ a: Tensor, into out: Tensor) throws {
        try OpChecks.backend([a, out], name)
        let (rows, cols) = try OpChecks.softmaxRows(a, out)
        let wg = rowWorkgroup(cols)
        let pipeline = try device.pipelines.pipeline("softmax_rows", bindings: 2, constants: [UInt32(wg)])
        try forEachRowBand(rows: rows, rowBytes: cols * 4) { r0, n in
            try recorder.dispatch(
                pipeline,
                bindings: [
                    try binding(a, byteOffset: r0 * cols * 4, byteCount: n * cols * 4),
                    try binding(out, byteOffset: r0 * cols * 4, byteCount: n * cols * 4),
                ], writes: [1], push: [UInt32(n), UInt32(cols)], groups: (gridGroups(n, 1), 1, 1))
        }
    }
}
