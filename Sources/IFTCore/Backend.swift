/// The ops of the engine, each named once. Three backends implement this protocol:
/// `cpu-ref` (plain loops, the numerical truth), `cpu` (OpenBLAS + threads) and `vulkan`.
///
/// Ops may run asynchronously (the Vulkan backend records them into a command buffer); `read`
/// and `synchronize` wait for everything recorded before them. All math accumulates in fp32.
public protocol Backend: AnyObject {
    /// `cpu-ref`, `cpu` or `vulkan`.
    var name: String { get }

    /// A new zero-filled tensor.
    func makeTensor(shape: [Int], dtype: DType) throws -> Tensor
    /// Copies `bytes` (exactly `tensor.byteCount` of them) into the tensor.
    func write(_ tensor: Tensor, from bytes: UnsafeRawBufferPointer) throws
    /// Copies the tensor's bytes out, after all previously recorded work has finished.
    func read(_ tensor: Tensor, into bytes: UnsafeMutableRawBufferPointer) throws
    /// Waits for all recorded work.
    func synchronize() throws

    /// `C = alpha * op(A) · op(B) + beta * C`, batched and strided; see `MatmulDescriptor`.
    /// A, B, C are f32.
    func matmul(_ a: Tensor, _ b: Tensor, _ c: Tensor, _ desc: MatmulDescriptor) throws
    /// `out[i] = a[i] (op) b[i % b.count]`: same shape, or `b` broadcast over the rows of `a`.
    func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: Tensor) throws
    /// `out[i] = s * a[i]`.
    func scale(_ a: Tensor, by s: Float, into out: Tensor) throws
    /// Reduces each row of `a` (viewed as `[rows, a.count / rows]`) to one value: `out` has `rows`
    /// elements.
    func reduceRows(_ op: ReduceOp, _ a: Tensor, into out: Tensor) throws
    /// Numerically stable softmax over each row (the last dimension).
    func softmaxRows(_ a: Tensor, into out: Tensor) throws
    /// Converts between f32, f16 and bf16 (round to nearest even).
    func cast(_ a: Tensor, into out: Tensor) throws
    /// Dequantizes Q8_0, Q4_0, Q4_1, Q4_K or NF4 blocks to f32.
    func dequantize(_ q: Tensor, into out: Tensor) throws
    /// Fused quantized linear: `y = alpha * x · dequant(w)ᵀ + beta * y` for x f32 `[m, k]`
    /// (`lda`, `offsetA`), w `[n, k]` in Q8_0, Q4_0, Q4_1, Q4_K or NF4 blocks along k, y f32 `[m, n]`
    /// (`ldc`, `offsetC`); `desc` has batch 1, `transposeB` and not `transposeA` (see
    /// `OpChecks.matmulQuantized`). Weights are dequantized bit-identically to `dequantize`, block by
    /// block, never into a whole f32 matrix; when `beta == 0`, y is not read.
    func matmulQuantized(_ x: Tensor, _ w: Tensor, _ y: Tensor, _ desc: MatmulDescriptor) throws

    // MARK: Llama forward pass

    /// `out[i, :] = table[ids[i], :]` as f32: `table` is `[vocab, dim]` in f32, f16, bf16 or a
    /// quantized type (rows dequantized bit-identically to `dequantize`), `ids` i32, `out` holds
    /// `ids.count * dim` values. An id outside `0..<vocab`: the CPU backends throw (naming the
    /// position and id); Vulkan writes a zero row (it cannot see the ids without a sync).
    func embedding(_ table: Tensor, ids: Tensor, into out: Tensor) throws
    /// RMS normalization over the last dimension (`weight.count` elements), Hugging Face Llama's
    /// order: `out = weight * (x * (1 / sqrt(mean(x^2) + eps)))`. `out` may be `x`.
    func rmsNorm(_ x: Tensor, weight: Tensor, eps: Float, into out: Tensor) throws
    /// Rotate-half rotary embedding of `x` (see `RopeDescriptor`) at i32 `positions` (one per
    /// token), with cos/sin from `table` (`[maxPositions, headDim]`, see `RopeTable`). `out` may be
    /// `x`. A position outside the table: the CPU backends throw; Vulkan copies the input unchanged.
    func rope(_ x: Tensor, positions: Tensor, table: Tensor, _ desc: RopeDescriptor, into out: Tensor) throws
    /// `out = (gate / (1 + exp(-gate))) * up`, elementwise. `out` may be `gate` or `up`.
    func swiglu(gate: Tensor, up: Tensor, into out: Tensor) throws
    /// Grouped-query causal scaled-dot-product attention (see `AttentionDescriptor`), numerically
    /// stable. `logSumExp` (optional, f32 `[batch, heads, queryLength]`) receives each query's
    /// `max + log(sum(exp))` of its scaled scores; `segments` (optional, i32 `[batch, keyLength]`)
    /// restricts attention to keys of the query's segment (packed sequences). A query with no key
    /// to attend gets zeros and log-sum-exp `-inf`. `out` must not overlap q, k or v.
    func attention(
        q: Tensor, k: Tensor, v: Tensor, into out: Tensor, logSumExp: Tensor?, segments: Tensor?, _ desc: AttentionDescriptor
    ) throws
    /// 2-D strided copy of f32 elements (see `CopyDescriptor`); `src` and `dst` may be the same
    /// tensor when the ranges do not overlap.
    func copy(_ src: Tensor, into dst: Tensor, _ desc: CopyDescriptor) throws

    // MARK: Loss and backward pass

    /// Cross-entropy of each row of `logits` (f32 `[rows, vocab]`) against i32 `targets` (`rows`),
    /// fp32 and max-subtracted: `losses[r] = logsumexp(row) - row[target]` (f32 `[rows]`). With
    /// `dlogits` (same shape as `logits`; may be `logits` itself, in place),
    /// `dlogits[r] = scale * (softmax(row) - onehot(target))`: pass `scale = 1 / n` to average over
    /// the `n` non-ignored targets of a whole (accumulated) batch. A target of -100
    /// (`OpChecks.ignoreIndex`) gives loss 0 and zero gradients. Any other target outside
    /// `0..<vocab`: the CPU backends throw (naming the row); Vulkan treats the row as ignored.
    func crossEntropy(logits: Tensor, targets: Tensor, losses: Tensor, dlogits: Tensor?, scale: Float) throws
    /// Gradients of `rmsNorm` (`out = weight * (x * rstd)`): with `xh = x * rstd`,
    /// `dx = rstd * (weight * dy - xh * mean(weight * dy * xh))` per row. `dweight`, when given,
    /// ACCUMULATES: `dweight += sum over rows of dy * xh` (zero it first for a plain gradient).
    /// `dx` must not be `x` or `dy`.
    func rmsNormBackward(x: Tensor, weight: Tensor, dy: Tensor, eps: Float, dx: Tensor, dweight: Tensor?) throws
    /// Gradients of `swiglu` (`out = silu(gate) * up`): with `s = sigmoid(gate)`,
    /// `dup = dout * gate * s` and `dgate = dout * up * s * (1 + gate * (1 - s))`, elementwise.
    /// `dgate` may be `gate` or `dout` and `dup` may be `up`; `dgate` and `dup` must differ.
    func swigluBackward(gate: Tensor, up: Tensor, dout: Tensor, dgate: Tensor, dup: Tensor) throws
    /// Gradient of `embedding` for an f32 table: ACCUMULATES `dtable[ids[i], :] += dout[i, :]` in
    /// the order of `ids` (deterministic; zero `dtable` first for a plain gradient). `dtable` is f32
    /// `[vocab, dim]`. An id outside `0..<vocab`: the CPU backends throw; Vulkan skips it.
    func embeddingBackward(ids: Tensor, dout: Tensor, dtable: Tensor) throws
    /// Gradients of `attention` (FlashAttention-2's backward): given the forward's `q`, `k`, `v`,
    /// `out`, its `logSumExp` (f32 `[batch, heads, queryLength]`), optional `segments`, and `dout`
    /// (laid out like `out`), OVERWRITES `dq` (laid out like `q`), `dk` and `dv` (laid out like `k`
    /// and `v`; with grouped-query attention each kv head's gradient sums over its query heads).
    /// With `P[t, j] = exp(s[t, j] - logSumExp[t])` for allowed keys, `D[t] = dot(dout[t], out[t])`:
    /// `dv[j] = sum_t P[t,j] dout[t]`, `dS[t,j] = P[t,j] (dot(dout[t], v[j]) - D[t])`,
    /// `dq[t] = scale * sum_j dS[t,j] k[j]`, `dk[j] = scale * sum_t dS[t,j] q[t]`. Uses the same
    /// `AttentionDescriptor` as the forward (dq/dk/dv use the q/kv/kv strides and offsets).
    /// Deterministic (no atomics). A query whose log-sum-exp is `-inf` contributes nothing.
    func attentionBackward(
        q: Tensor, k: Tensor, v: Tensor, out: Tensor, dout: Tensor, logSumExp: Tensor, segments: Tensor?,
        dq: Tensor, dk: Tensor, dv: Tensor, _ desc: AttentionDescriptor
    ) throws

    // MARK: Optimizer

    /// One AdamW step (PyTorch's `torch.optim.AdamW`, decoupled weight decay) IN PLACE on f32
    /// `params`, `m`, `v` from f32 `grads`, all of equal count and four different tensors. Per element,
    /// in fp32: `g = grads * gradScale`, `m = beta1*m + (1-beta1)*g`, `v = beta2*v + (1-beta2)*g*g`,
    /// `p = p * (1 - lr*weightDecay)` (the decay first, as PyTorch), then
    /// `p = p - lr * ((m / (1-beta1^step)) / (sqrt(v / (1-beta2^step)) + eps))`; the per-step
    /// constants come from `AdamWParameters.constants` (Double on the host), see `AdamWConstants`.
    func adamw(params: Tensor, grads: Tensor, m: Tensor, v: Tensor, _ h: AdamWParameters) throws
    /// `out = (accumulate ? out : 0) + sum(x^2)` for f32 `x` and f32 `out` of one element (e.g. the
    /// squared global gradient norm over many tensors), fp32 with a deterministic tree/pairwise
    /// summation (no atomics); backends differ only in the summation order.
    func sumOfSquares(_ x: Tensor, into out: Tensor, accumulate: Bool) throws

    // MARK: Training

    /// Inverted dropout with a counter-based mask: `out[i] = keep(i) ? x[i] / (1 - probability) : 0`
    /// where `keep(i)` is `Dropout.keeps(seed:index:probability:)` (a hash of the seed and the element
    /// index, identical on every backend). Applying it with the same seed to a gradient is its
    /// backward. `probability` in `[0, 1)`; `out` may be `x`. Exactly, in fp32: a kept element is
    /// `x[i] * Dropout.scale(probability:)` (one rounding) and a dropped one is +0, so all backends
    /// agree bit for bit. f32 `x` and `out` of equal count (at most 2^32 elements).
    func dropout(_ x: Tensor, probability: Float, seed: UInt64, into out: Tensor) throws
}

extension Backend {
    /// `attention` without segment ids.
    public func attention(q: Tensor, k: Tensor, v: Tensor, into out: Tensor, logSumExp: Tensor?, _ desc: AttentionDescriptor) throws {
        try attention(q: q, k: k, v: v, into: out, logSumExp: logSumExp, segments: nil, desc)
    }
}

public enum BinaryOp: String, Sendable, CaseIterable {
    case add, mul
}

public enum ReduceOp: String, Sendable, CaseIterable {
    case sum, max
}

/// Describes `C[b] = alpha * op(A[b]) · op(B[b]) + beta * C[b]` for `b` in `0..<batch`, row-major:
/// `op(A)` is `m x k` (A is stored `k x m` when `transposeA`), `op(B)` is `k x n` (B stored `n x k`
/// when `transposeB`), C is `m x n`. Leading dimensions are row strides in elements; batch strides
/// are in elements (0 broadcasts one matrix over the batch); offsets are where matrix 0 starts.
public struct MatmulDescriptor: Sendable, Equatable {
    public var m: Int, n: Int, k: Int
    public var batch: Int
    public var transposeA: Bool, transposeB: Bool
    public var lda: Int, ldb: Int, ldc: Int
    public var strideA: Int, strideB: Int, strideC: Int
    public var offsetA: Int, offsetB: Int, offsetC: Int
    public var alpha: Float, beta: Float

    /// A dense batched matmul: every leading dimension and batch stride as tight as possible.
    public init(
        m: Int, n: Int, k: Int, batch: Int = 1, transposeA: Bool = false, transposeB: Bool = false,
        alpha: Float = 1, beta: Float = 0
    ) {
        self.m = m
        self.n = n
        self.k = k
        self.batch = batch
        self.transposeA = transposeA
        self.transposeB = transposeB
        self.lda = transposeA ? m : k
        self.ldb = transposeB ? k : n
        self.ldc = n
        self.strideA = m * k
        self.strideB = k * n
        self.strideC = m * n
        self.offsetA = 0
        self.offsetB = 0
        self.offsetC = 0
        self.alpha = alpha
        self.beta = beta
    }

    /// Rows and columns of A and B as stored.
    public var storedA: (rows: Int, cols: Int) { transposeA ? (k, m) : (m, k) }
    public var storedB: (rows: Int, cols: Int) { transposeB ? (n, k) : (k, n) }

    /// One past the last element touched in a buffer holding `batch` matrices of `rows x cols`.
    static func extent(rows: Int, cols: Int, ld: Int, stride: Int, offset: Int, batch: Int) -> Int {
        if rows == 0 || cols == 0 || batch == 0 { return offset }
        return offset + (batch - 1) * stride + (rows - 1) * ld + cols
    }

    public var extentA: Int {
        Self.extent(rows: storedA.rows, cols: storedA.cols, ld: lda, stride: strideA, offset: offsetA, batch: batch)
    }
    public var extentB: Int {
        Self.extent(rows: storedB.rows, cols: storedB.cols, ld: ldb, stride: strideB, offset: offsetB, batch: batch)
    }
    public var extentC: Int {
        Self.extent(rows: m, cols: n, ld: ldc, stride: strideC, offset: offsetC, batch: batch)
    }

    /// Floating-point operations (multiply and add counted separately).
    public var flops: Double { 2 * Double(m) * Double(n) * Double(k) * Double(batch) }

    /// Throws a descriptive error unless the descriptor fits tensors of `countA`, `countB`, `countC`
    /// elements.
    public func validate(countA: Int, countB: Int, countC: Int) throws {
        guard m >= 0, n >= 0, k >= 0, batch >= 0 else {
            throw IFTError.shapeMismatch("matmul dimensions must be non-negative (m=\(m) n=\(n) k=\(k) batch=\(batch))")
        }
        guard offsetA >= 0, offsetB >= 0, offsetC >= 0, strideA >= 0, strideB >= 0, strideC >= 0 else {
            throw IFTError.shapeMismatch("matmul offsets and batch strides must be non-negative")
        }
        guard lda >= storedA.cols, ldb >= storedB.cols, ldc >= n else {
            throw IFTError.shapeMismatch(
                "matmul leading dimensions too small: lda=\(lda) (need >= \(storedA.cols)), ldb=\(ldb) (need >= \(storedB.cols)), ldc=\(ldc) (need >= \(n))")
        }
        guard extentA <= countA else {
            throw IFTError.shapeMismatch(
                "matmul A: \(transposeA ? "Aᵀ" : "A") of \(m)x\(k) (batch \(batch)) needs \(extentA) elements, A has \(countA)")
        }
        guard extentB <= countB else {
            throw IFTError.shapeMismatch(
                "matmul B: \(transposeB ? "Bᵀ" : "B") of \(k)x\(n) (batch \(batch)) needs \(extentB) elements, B has \(countB)")
        }
        guard extentC <= countC else {
            throw IFTError.shapeMismatch(
                "matmul C: \(m)x\(n) (batch \(batch)) needs \(extentC) elements, C has \(countC)")
        }
    }
}

/// A backend whose tensors live in device memory it can account for (Vulkan): training metrics and
/// benchmarks report its peak next to the process's resident memory.
public protocol DeviceMemoryReporting {
    /// Most bytes of tensor memory in use at once so far.
    var peakDeviceBytes: Int { get }
}
