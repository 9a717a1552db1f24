import CKernels
import Foundation

/// How a Linear layer's weight matrix is stored in memory.
public enum WeightDType: Sendable, Equatable {
    case float16, bfloat16, float32

    /// Bytes per element.
    public var byteSize: Int { self == .float32 ? 4 : 2 }

    var ck: Int32 {
        switch self {
        case .float32: return Int32(CK_DT_F32)
        case .float16: return Int32(CK_DT_F16)
        case .bfloat16: return Int32(CK_DT_BF16)
        }
    }
}

/// Which compiled variant of the streaming kernels runs. Chosen at run time from the CPU, and
/// overridable with `VISPRUNER_KERNELS=portable|avx2|avx512bf16`.
public enum KernelPath: String, Sendable, CaseIterable, Comparable {
    /// Plain C, any CPU.
    case portable
    /// AVX2 + FMA + F16C.
    case avx2
    /// AVX-512F/VL + AVX512_BF16 (`vdpbf16ps` in reduced-precision mode).
    case avx512bf16

    var ck: Int32 {
        switch self {
        case .portable: return Int32(CK_PATH_PORTABLE)
        case .avx2: return Int32(CK_PATH_AVX2)
        case .avx512bf16: return Int32(CK_PATH_AVX512BF16)
        }
    }

    public static func < (a: KernelPath, b: KernelPath) -> Bool { a.ck < b.ck }

    /// Whether this CPU can run the path.
    public var isSupported: Bool { ck_linear_path_supported(ck) != 0 }

    /// The fastest path this CPU supports.
    public static var best: KernelPath {
        switch ck_linear_best_path() {
        case Int32(CK_PATH_AVX512BF16): return .avx512bf16
        case Int32(CK_PATH_AVX2): return .avx2
        default: return .portable
        }
    }

    /// The path that actually runs when this one is requested: itself if supported, else the
    /// next lower supported path (the C side never executes instructions the CPU lacks).
    public var effective: KernelPath {
        switch ck_linear_effective_path(ck) {
        case Int32(CK_PATH_AVX512BF16): return .avx512bf16
        case Int32(CK_PATH_AVX2): return .avx2
        default: return .portable
        }
    }

    /// Every path this CPU supports, slowest first.
    public static var supported: [KernelPath] { allCases.filter(\.isSupported) }

    /// Interprets a `VISPRUNER_KERNELS` value: empty or absent means `best`; a name this CPU
    /// cannot run, or an unknown name, is an error (a silently ignored override would make
    /// benchmark numbers lie about which code ran).
    public static func resolve(environmentValue value: String?) throws -> KernelPath {
        guard let raw = value?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return best }
        guard let path = KernelPath(rawValue: raw.lowercased()) else {
            throw KernelSelectionError.unknownPath(raw)
        }
        guard path.isSupported else { throw KernelSelectionError.unsupportedPath(path, CPUFeatures.summary) }
        return path
    }
}

/// A rejected kernel override.
public enum KernelSelectionError: Error, CustomStringConvertible, Equatable {
    case unknownPath(String)
    case unsupportedPath(KernelPath, String)
    case badThreadCount(String)
    case unknownPrefill(String)

    public var description: String {
        switch self {
        case .unknownPath(let s):
            return "VISPRUNER_KERNELS=\(s) is not one of \(KernelPath.allCases.map(\.rawValue).joined(separator: ", "))"
        case .unsupportedPath(let p, let cpu):
            return "VISPRUNER_KERNELS=\(p.rawValue) needs CPU features this machine lacks (\(cpu)); supported: "
                + KernelPath.supported.map(\.rawValue).joined(separator: ", ")
        case .badThreadCount(let s):
            return "VISPRUNER_KERNEL_THREADS=\(s) is not a thread count between 1 and 64"
        case .unknownPrefill(let s):
            return "VISPRUNER_PREFILL=\(s) is not one of \(PrefillKernel.allCases.map(\.rawValue).joined(separator: ", "))"
        }
    }
}

/// Arithmetic used by `linear` for the activations.
public enum LinearPrecision: Sendable, Equatable {
    /// Activations in float32, weights widened exactly, float32 sums (parity mode).
    case float32
    /// Activations rounded to bf16 first, float32 sums: y = bf16(x)·Wᵀ. With bf16 weights on an
    /// AVX512_BF16 CPU this runs `vdpbf16ps`; elsewhere the same products are formed in float32
    /// (bf16×bf16 products are exact in float32), so results differ only by summation order.
    case bfloat16Activations
}

/// How work is spread over threads for the streaming (few-row) kernel.
public enum LinearThreading: Sendable, Equatable {
    /// The C pool of persistent, briefly spinning pthreads (cheapest per call; default).
    case pool
    /// `DispatchQueue.concurrentPerform` (kept for comparison).
    case dispatch
}

/// How `linear` multiplies many activation rows by weights stored in fp16/bf16.
public enum PrefillKernel: String, Sendable, Equatable, CaseIterable {
    /// Our packed GEMM (AVX2+FMA+F16C): W is widened inside the packing step, block by block.
    /// The default where the CPU has AVX2 (see Benchmarks/README.md for the measurements).
    case packed
    /// Widen `panelRows` rows of W into a float32 panel and multiply it with OpenBLAS sgemm.
    case openblas

    /// The kernel that runs for a request: `packed` needs AVX2 (and a non-portable kernel path).
    func effective(path: KernelPath) -> PrefillKernel {
        self == .packed && path.effective >= .avx2 ? .packed : .openblas
    }
}

/// Which kernel family `linear` uses for a call.
///
/// The language model asks for a fixed family per purpose (prompt rows: `rowInvariant`; decode steps and
/// the LM head: `streaming`) instead of letting the row count decide, because a row's result must not
/// depend on how many rows share the call: a question prefilled on top of a reused prefix, or decoded
/// in a batch, must get bit for bit the numbers it gets alone. Both families compute each output
/// element with the same operations in the same order whatever the row count, the row's place in the
/// call or the thread count (threads split output columns, never the sum).
public enum LinearKernelChoice: Sendable, Equatable {
    /// Up to `streamingMaxRows` rows stream W, more go to the prefill GEMM (vision tower, projector).
    case byRowCount
    /// Always the streaming kernel (any row count).
    case streaming
    /// Always a row-invariant GEMM: the packed GEMM for every weight type where the CPU has AVX2 (never
    /// OpenBLAS, whose blocking follows the matrix sizes), else the streaming kernel.
    case rowInvariant

    func streams(rows m: Int, config: LinearConfig) -> Bool {
        switch self {
        case .byRowCount: return m <= config.streamingMaxRows
        case .streaming: return true
        case .rowInvariant: return config.path.effective < .avx2
        }
    }
}

/// Tuning and dispatch choices for `linear`. `LinearConfig.default` reads the environment once.
public struct LinearConfig: Sendable, Equatable {
    /// Kernel variant (an unsupported request falls back to the next lower supported path).
    public var path: KernelPath
    /// Threads for the streaming kernel and panel widening.
    public var threads: Int
    public var threading: LinearThreading
    public var precision: LinearPrecision
    /// Up to this many activation rows use the streaming kernel; more use widened panels + sgemm.
    public var streamingMaxRows: Int
    /// W rows widened per sgemm panel in the `openblas` prefill path.
    public var panelRows: Int
    /// Kernel for more than `streamingMaxRows` rows with fp16/bf16 weights (float32 weights always
    /// go to OpenBLAS sgemm directly).
    public var prefill: PrefillKernel

    public init(path: KernelPath = .best, threads: Int = LinearConfig.availableCores, threading: LinearThreading = .pool,
                precision: LinearPrecision = .float32, streamingMaxRows: Int = 8, panelRows: Int = 128,
                prefill: PrefillKernel = .packed) {
        self.path = path
        self.threads = max(1, min(threads, 64))
        self.threading = threading
        self.precision = precision
        self.streamingMaxRows = max(0, streamingMaxRows)
        self.panelRows = max(1, panelRows)
        self.prefill = prefill
    }

    /// The prefill kernel that actually runs on this CPU.
    public var effectivePrefill: PrefillKernel { prefill.effective(path: path) }

    /// Cores this process may use (its CPU affinity mask).
    public static var availableCores: Int { Int(ck_available_cores()) }

    /// Reads `VISPRUNER_KERNELS`, `VISPRUNER_KERNEL_THREADS` and `VISPRUNER_PREFILL` from
    /// `environment`, rejecting unknown or unsupported values.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> LinearConfig {
        var config = LinearConfig()
        config.path = try KernelPath.resolve(environmentValue: environment["VISPRUNER_KERNELS"])
        if let t = environment["VISPRUNER_KERNEL_THREADS"]?.trimmingCharacters(in: .whitespaces), !t.isEmpty {
            guard let n = Int(t), (1...64).contains(n) else { throw KernelSelectionError.badThreadCount(t) }
            config.threads = n
        }
        if let p = environment["VISPRUNER_PREFILL"]?.trimmingCharacters(in: .whitespaces), !p.isEmpty {
            guard let kernel = PrefillKernel(rawValue: p.lowercased()) else { throw KernelSelectionError.unknownPrefill(p) }
            config.prefill = kernel
        }
        return config
    }

    /// The configuration from the environment; a rejected override is reported once on stderr
    /// and replaced by the CPU's defaults (call `fromEnvironment()` at startup to fail instead).
    public static let `default`: LinearConfig = {
        do {
            return try fromEnvironment()
        } catch {
            FileHandle.standardError.write(Data("warning: \(error); using \(KernelPath.best.rawValue)\n".utf8))
            return LinearConfig()
        }
    }()
}

/// Reusable buffers for `linear` (a widened weight panel, rounded activations). Keep one per
/// engine thread and pass it to every call so no layer allocates.
public struct LinearScratch {
    private var storage = ScratchStorage()

    public init() {}

    mutating func floatBuffer(_ count: Int) -> UnsafeMutablePointer<Float> {
        if !isKnownUniquelyReferenced(&storage) { storage = ScratchStorage() }
        return storage.floats(count)
    }

    mutating func halfBuffer(_ count: Int) -> UnsafeMutablePointer<UInt16> {
        if !isKnownUniquelyReferenced(&storage) { storage = ScratchStorage() }
        return storage.halves(count)
    }

    /// Bytes currently held.
    public var allocatedBytes: Int { storage.floatCapacity * 4 + storage.halfCapacity * 2 }
}

/// Owns the scratch memory (a class so copies of `LinearScratch` never share a live buffer).
private final class ScratchStorage {
    private var floatBase: UnsafeMutablePointer<Float>?
    private var halfBase: UnsafeMutablePointer<UInt16>?
    private(set) var floatCapacity = 0
    private(set) var halfCapacity = 0

    func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
        if let p = floatBase, count <= floatCapacity { return p }
        floatBase?.deallocate()
        floatCapacity = max(count, 1)
        let p = UnsafeMutablePointer<Float>.allocate(capacity: floatCapacity)
        floatBase = p
        return p
    }

    func halves(_ count: Int) -> UnsafeMutablePointer<UInt16> {
        if let p = halfBase, count <= halfCapacity { return p }
        halfBase?.deallocate()
        halfCapacity = max(count, 1)
        let p = UnsafeMutablePointer<UInt16>.allocate(capacity: halfCapacity)
        halfBase = p
        return p
    }

    deinit {
        floatBase?.deallocate()
        halfBase?.deallocate()
    }
}

/// y = x · Wᵀ (+ bias) for a Linear layer whose weight W [outFeatures, inFeatures] (row-major, as
/// PyTorch stores it) stays in its stored precision.
///
/// - Up to `config.streamingMaxRows` rows of x: the streaming kernel reads W once, widening it in
///   registers, split by output rows over `config.threads` threads.
/// - More rows: W is widened `config.panelRows` rows at a time into `scratch` and multiplied with
///   OpenBLAS sgemm (float32 weights go to sgemm directly).
///
/// `x` is [m, inFeatures] and `y` is [m, outFeatures]; both may be strided views and must not
/// overlap. `bias` holds `outFeatures` values or is nil.
public func linear(_ x: MatrixView, weight: UnsafeRawPointer, dtype: WeightDType, outFeatures: Int, inFeatures: Int,
                   bias: UnsafePointer<Float>?, into y: MatrixView, scratch: inout LinearScratch,
                   config: LinearConfig = .default, kernel: LinearKernelChoice = .byRowCount) {
    precondition(x.cols == inFeatures, "linear: x has \(x.cols) columns, weight expects \(inFeatures)")
    precondition(y.rows == x.rows && y.cols == outFeatures,
                 "linear: y is \(y.rows)x\(y.cols), expected \(x.rows)x\(outFeatures)")
    let m = x.rows
    if m == 0 || outFeatures == 0 { return }
    let streaming = kernel.streams(rows: m, config: config)

    var input = x
    if config.precision == .bfloat16Activations && inFeatures > 0 {
        let useDot = dtype == .bfloat16 && ck_linear_effective_path(config.path.ck) == Int32(CK_PATH_AVX512BF16)
            && streaming
        if useDot {
            let packed = scratch.halfBuffer(m * inFeatures)
            ck_pack_bf16(x.base, x.rowStride, packed, inFeatures, m, inFeatures)
            var args = kernelArgs(x, weight, dtype, outFeatures, inFeatures, bias, y, config)
            args.xb = UnsafePointer(packed)
            args.xbs = inFeatures
            runStreaming(&args, config)
            return
        }
        // The rounded copy lives after the prefill path's own scratch in the same float buffer.
        let panel = streaming ? 0 : prefillScratchFloats(m, inFeatures, dtype, config, kernel)
        let base = scratch.floatBuffer(panel + m * inFeatures) + panel
        ck_round_to_bf16(x.base, x.rowStride, base, inFeatures, m, inFeatures)
        input = MatrixView(base: base, rows: m, cols: inFeatures)
    }

    if streaming {
        var args = kernelArgs(input, weight, dtype, outFeatures, inFeatures, bias, y, config)
        runStreaming(&args, config)
    } else {
        panelLinear(input, weight: weight, dtype: dtype, outFeatures: outFeatures, inFeatures: inFeatures,
                    bias: bias, into: y, scratch: &scratch, config: config, kernel: kernel)
    }
}

private func kernelArgs(_ x: MatrixView, _ w: UnsafeRawPointer, _ dtype: WeightDType, _ out: Int, _ inF: Int,
                        _ bias: UnsafePointer<Float>?, _ y: MatrixView, _ config: LinearConfig) -> ck_linear_args {
    ck_linear_args(path: config.path.ck, dtype: dtype.ck, w: w, out: out, in: inF, x: UnsafePointer(x.base),
                   xs: x.rowStride, m: x.rows, xb: nil, xbs: 0, bias: bias, y: y.base, ys: y.rowStride)
}

private func runStreaming(_ args: inout ck_linear_args, _ config: LinearConfig) {
    switch config.threading {
    case .pool:
        ck_linear(&args, Int32(config.threads))
    case .dispatch:
        let parts = config.threads
        let work = args.out * args.in * args.m
        if parts <= 1 || work < 32768 {
            ck_linear(&args, 1)
            return
        }
        let shared = args
        withUnsafePointer(to: shared) { p in
            let box = UnsafeSendable(p)
            DispatchQueue.concurrentPerform(iterations: parts) { i in ck_linear_part(box.pointer, i, parts) }
        }
    }
}

/// Lets the read-only argument block cross into `concurrentPerform`'s closure.
private struct UnsafeSendable: @unchecked Sendable {
    let pointer: UnsafePointer<ck_linear_args>
    init(_ p: UnsafePointer<ck_linear_args>) { pointer = p }
}

/// Floats of scratch the prefill path uses at the start of the scratch buffer.
private func prefillScratchFloats(_ m: Int, _ inFeatures: Int, _ dtype: WeightDType, _ config: LinearConfig,
                                  _ kernel: LinearKernelChoice) -> Int {
    if inFeatures == 0 { return 0 }
    if kernel == .rowInvariant { return Int(ck_packed_gemm_scratch_floats(m, inFeatures, Int32(config.threads))) }
    if dtype == .float32 { return 0 }
    return config.effectivePrefill == .packed
        ? Int(ck_packed_gemm_scratch_floats(m, inFeatures, Int32(config.threads))) : config.panelRows * inFeatures
}

/// The prefill path: the packed GEMM, or W widened panel by panel for OpenBLAS.
private func panelLinear(_ x: MatrixView, weight: UnsafeRawPointer, dtype: WeightDType, outFeatures: Int,
                         inFeatures: Int, bias: UnsafePointer<Float>?, into y: MatrixView,
                         scratch: inout LinearScratch, config: LinearConfig, kernel: LinearKernelChoice) {
    let m = x.rows
    if inFeatures == 0 {
        for r in 0..<m { for o in 0..<outFeatures { y[r, o] = bias?[o] ?? 0 } }
        return
    }
    if kernel == .rowInvariant {
        let packed = scratch.floatBuffer(prefillScratchFloats(m, inFeatures, dtype, config, kernel))
        ck_packed_gemm(dtype.ck, x.base, x.rowStride, m, inFeatures, weight, outFeatures, y.base, y.rowStride, packed,
                       Int32(config.threads))
    } else if dtype == .float32 {
        let w = MatrixView(base: UnsafeMutablePointer(mutating: weight.assumingMemoryBound(to: Float.self)),
                           rows: outFeatures, cols: inFeatures)
        sgemm(x, .none, w, .transposed, into: y)
    } else if config.effectivePrefill == .packed {
        let packed = scratch.floatBuffer(prefillScratchFloats(m, inFeatures, dtype, config, kernel))
        ck_packed_gemm(dtype.ck, x.base, x.rowStride, m, inFeatures, weight, outFeatures, y.base, y.rowStride, packed,
                       Int32(config.threads))
    } else {
        let panelRows = min(config.panelRows, outFeatures)
        let panel = scratch.floatBuffer(panelRows * inFeatures)
        var o0 = 0
        while o0 < outFeatures {
            let rows = min(panelRows, outFeatures - o0)
            ck_widen_rows(dtype.ck, weight + o0 * inFeatures * dtype.byteSize, inFeatures, rows, panel,
                          Int32(config.threads))
            let w = MatrixView(base: panel, rows: rows, cols: inFeatures)
            sgemm(x, .none, w, .transposed, into: y.columnBlock(o0, rows))
            o0 += rows
        }
    }
    if let bias {
        for r in 0..<m { ck_add(y.base + r * y.rowStride, bias, outFeatures) }
    }
}
