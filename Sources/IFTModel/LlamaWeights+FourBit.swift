import IFTCPU
import IFTCore

/// How a loader stores the seven projection weights of each block.
public enum ProjectionFormat: Sendable, Equatable {
    /// As the file holds them (inference, LoRA and full fine-tuning start from this).
    case stored
    /// QLoRA's frozen 4-bit base, made while loading: blocks the kernels read as they are (Q4_0,
    /// Q4_1, Q4_K) stay as stored; any other type (F32, F16, BF16, Q8_0, Q6_K) is converted and
    /// quantized to NF4 on the host a few rows at a time, straight from the mapped file, so neither
    /// the model nor one whole tensor ever exists in full precision. The NF4 bytes are those that
    /// quantizing the loaded float weight would give (`TrainableLlama`'s QLoRA set-up).
    case fourBit
}

extension LlamaWeights {
    /// The weight types QLoRA keeps as loaded (the quantized matmul reads them directly).
    public static let fourBitTypes: Set<DType> = [.q4_0, .q4_1, .q4_k, .nf4]

    /// The most f32 values converted at a time when quantizing a weight while it streams in (4 MiB).
    static let streamingScratchElements = 1 << 20

    /// The error for a weight whose rows are not whole NF4 blocks.
    public static func notNF4Compatible(_ what: String) -> IFTError {
        .invalidArgument(
            "qlora: weight \(what) cannot be stored as NF4 (its input dimension must be a multiple of \(DType.nf4.blockSize)); use --mode lora")
    }

    /// The NF4 bytes of a `[rows, cols]` weight stored as `type` in `bytes`: a few rows at a time
    /// (at most `streamingScratchElements` values) are converted to f32 and quantized, blocks of 64
    /// along each row; source row `r` lands in row `destinationRow(r)` (llama.cpp's Q/K order back
    /// to Hugging Face's). `name` is for errors; `scratchElements` bounds the f32 values at a time.
    static func nf4Bytes(
        _ bytes: UnsafeRawBufferPointer, type: GGMLType, rows: Int, cols: Int, name: String,
        scratchElements: Int = streamingScratchElements, destinationRow: (Int) -> Int = { $0 }
    ) throws -> [UInt8] {
        guard cols > 0, cols % DType.nf4.blockSize == 0, cols % type.blockSize == 0,
              let sourceRowBytes = type.byteCount(elements: cols), bytes.count == rows * sourceRowBytes
        else { throw notNF4Compatible("\(name) \(type) [\(rows), \(cols)]") }
        let rowBytes = try DType.nf4.byteCount(elements: cols)
        let chunk = max(1, scratchElements / cols)
        var out = [UInt8](repeating: 0, count: rows * rowBytes)
        var quantized = [UInt8](repeating: 0, count: min(chunk, rows) * rowBytes)
        var start = 0
        while start < rows {
            let n = min(chunk, rows - start)
            let source = UnsafeRawBufferPointer(rebasing: bytes[(start * sourceRowBytes)..<((start + n) * sourceRowBytes)])
            let values = try GGMLDequantize.floats(source, type: type, count: n * cols)
            try values.withUnsafeBufferPointer { v in
                try quantized.withUnsafeMutableBytes { q in
                    try Reference.quantize(.nf4, v, into: UnsafeMutableRawBufferPointer(rebasing: q[0..<(n * rowBytes)]))
                }
            }
            quantized.withUnsafeBytes { q in
                out.withUnsafeMutableBytes { o in
                    for r in 0..<n {
                        let to = destinationRow(start + r) * rowBytes
                        o.baseAddress!.advanced(by: to).copyMemory(from: q.baseAddress! + r * rowBytes, byteCount: rowBytes)
                    }
                }
            }
            start += n
        }
        return out
    }

    /// Random NF4 blocks for a `[rows, cols]` weight, made directly (no f32 values): each block's
    /// absmax is `absmax`, its 64 codes uniform over the 16 levels (normal quantiles: the values
    /// have a standard deviation of about 0.52 x `absmax`).
    /// Deterministic for the generator's state.
    static func randomNF4(rows: Int, cols: Int, absmax: Float, rng: inout SeededGenerator) throws -> [UInt8] {
        guard cols % DType.nf4.blockSize == 0 else { throw notNF4Compatible("[\(rows), \(cols)]") }
        let blocks = rows * cols / DType.nf4.blockSize
        var out = [UInt8](repeating: 0, count: blocks * DType.nf4.blockBytes)
        out.withUnsafeMutableBytes { o in
            for b in 0..<blocks {
                let p = o.baseAddress! + b * DType.nf4.blockBytes
                p.storeBytes(of: absmax.bitPattern.littleEndian, as: UInt32.self)
                for i in 0..<4 { (p + 4 + 8 * i).storeBytes(of: rng.next().littleEndian, as: UInt64.self) }
            }
        }
        return out
    }
}
