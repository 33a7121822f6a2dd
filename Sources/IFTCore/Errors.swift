/// Every error the engine reports. Each case carries enough context (which tensor, which file,
/// which offset, what was expected) for the message alone to tell a user what to fix.
public enum IFTError: Error, CustomStringConvertible, Equatable {
    /// Operand shapes do not fit the op: names the op and what was expected.
    case shapeMismatch(String)
    /// An operand has a dtype the op does not take.
    case dtypeMismatch(String)
    /// A bad argument that is not a shape or dtype problem.
    case invalidArgument(String)
    /// A tensor belongs to another backend.
    case wrongBackend(expected: String, got: String)
    /// No Vulkan loader, driver, or device; the string says which and what to install.
    case vulkanUnavailable(String)
    /// `--device N` / `IFT_DEVICE` named a device that does not exist.
    case deviceIndexOutOfRange(index: Int, count: Int)
    /// A Vulkan call failed.
    case vulkan(call: String, result: Int32)
    /// The device ran out of memory or a request exceeds a device limit.
    case outOfDeviceMemory(String)
    /// A file could not be read or has bad content: path, byte offset (or line), what was expected.
    case file(path: String, location: String, message: String)
    /// The validation layer reported errors (only with validation enabled).
    case validation([String])
    /// The cpu backend's BLAS library could not be loaded; the string says what to install.
    case blasUnavailable(String)
    /// The Vulkan device was lost (a GPU hang or reset, a driver timeout, a removed device): the
    /// string says during which call. Nothing more can run on it in this process.
    case deviceLost(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let s): return "shape mismatch: \(s)"
        case .dtypeMismatch(let s): return "dtype mismatch: \(s)"
        case .invalidArgument(let s): return "invalid argument: \(s)"
        case .wrongBackend(let e, let g):
            return "tensor belongs to backend '\(g)' but was passed to backend '\(e)'"
        case .vulkanUnavailable(let s): return "Vulkan unavailable: \(s)"
        case .deviceIndexOutOfRange(let i, let n):
            return n == 0
                ? "device index \(i) is out of range: no Vulkan devices were found"
                : "device index \(i) is out of range: there are \(n) Vulkan device(s), numbered 0..\(n - 1) (see `ift-gpu devices`)"
        case .vulkan(let call, let r): return "\(call) failed with VkResult \(r)"
        case .outOfDeviceMemory(let s): return "out of device memory: \(s)"
        case .file(let p, let loc, let m): return "\(p):\(loc): \(m)"
        case .validation(let msgs):
            return "Vulkan validation reported \(msgs.count) message(s):\n" + msgs.joined(separator: "\n")
        case .blasUnavailable(let s): return "BLAS unavailable: \(s)"
        case .deviceLost(let s):
            return "the Vulkan device was lost: \(s). The GPU hung or was reset, or its driver timed out, and "
                + "nothing more can run on it in this process. Run the command again (on a desktop GPU a long "
                + "kernel can trip the driver's watchdog: try a smaller --batch), or use --backend cpu"
        }
    }
}
