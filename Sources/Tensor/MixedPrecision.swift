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

/// Which compiled variant of the kernels runs. Chosen at run time from the CPU, and overridable with
/// `VISPRUNER_KERNELS=portable|avx2|avx512bf16`. Every path computes the same bits (numerics `Numerics.version`,
/// see CKernels.h); they differ only in speed. (`avx512bf16` runs the AVX2 kernels for float32 arithmetic
/// and adds `vdpbf16ps` for the machine-dependent bfloat16 mode.)
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
    public static var best: KernelPath { from(ck_linear_best_path()) }

    /// The path that actually runs when this one is requested: itself if supported, else the
    /// next lower supported path (the C side never executes instructions the CPU lacks).
    public var effective: KernelPath { KernelPath.from(ck_linear_effective_path(ck)) }

    /// The path every kernel runs, process-wide: `VISPRUNER_KERNELS` (or the best path) at startup.
    public static var active: KernelPath {
        _ = LinearConfig.default
        return KernelPath.from(ck_kernel_path())
    }

    /// Switches every kernel to `path` (its effective form); for tests and tools comparing paths.
    public static func setActive(_ path: KernelPath) {
        _ = LinearConfig.default
        ck_set_kernel_path(path.ck)
    }

    static func from(_ ck: Int32) -> KernelPath {
        switch ck {
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
    /// AVX512_BF16 CPU this runs `vdpbf16ps` (its own summation order: machine-dependent); elsewhere the
    /// same products go through the float32 kernels (bf16×bf16 products are exact in float32).
    case bfloat16Activations
}

/// How `linear` multiplies many activation rows (`LinearKernelChoice.byRowCount` above `streamingMaxRows`).
public enum PrefillKernel: String, Sendable, Equatable, CaseIterable {
    /// Our kernels (rule P1 of CKernels.h: the AVX2 packed GEMM, or the portable loops): the same bits on
    /// every machine and path. The default.
    case packed
    /// Opt-in, machine-dependent: widen `panelRows` rows of W into a float32 panel and multiply it with
    /// OpenBLAS sgemm (float32 weights go to sgemm directly). OpenBLAS's blocking and kernels depend on
    /// the CPU and on `OPENBLAS_CORETYPE`, so answers computed this way are not host-invariant
    /// (`Numerics.arithmetic` names them).
    case openblas

    /// The kernel that runs for a request (both exist on every path).
    func effective(path: KernelPath) -> PrefillKernel { self }
}

/// Which kernel family `linear` uses for a call.
///
/// Under the default arithmetic every family computes each output element as the same fmaf chain, so
/// the choice only matters with the OpenBLAS opt-in: the language model asks for a fixed family per
/// purpose (prompt rows: `rowInvariant`; decode steps and the LM head: `streaming`) so that a row's
/// result never depends on how many rows share the call, and only `byRowCount` calls (vision tower,
/// projector) may go to OpenBLAS.
public enum LinearKernelChoice: Sendable, Equatable {
    /// Up to `streamingMaxRows` rows: our kernels; more: `LinearConfig.prefill`.
    case byRowCount
    /// Our kernels, any row count (decode steps, the LM head); also selects the bf16 dot path.
    case streaming
    /// Our kernels, any row count (prompt rows).
    case rowInvariant

    func usesOpenBLAS(rows m: Int, config: LinearConfig) -> Bool {
        self == .byRowCount && config.prefill == .openblas && m > config.streamingMaxRows
    }

    func streams(rows m: Int, config: LinearConfig) -> Bool {
        switch self {
        case .byRowCount: return m <= config.streamingMaxRows
        case .streaming: return true
        case .rowInvariant: return false
        }
    }
}

/// Tuning and dispatch choices for `linear`. `LinearConfig.default` reads the environment once.
public struct LinearConfig: Sendable, Equatable {
    /// Kernel variant (an unsupported request falls back to the next lower supported path).
    public var path: KernelPath
    /// Threads the products split their output columns over.
    public var threads: Int
    public var precision: LinearPrecision
    /// With the OpenBLAS opt-in: up to this many activation rows stay on our kernels.
    public var streamingMaxRows: Int
    /// W rows widened per sgemm panel in the `openblas` prefill path.
    public var panelRows: Int
    /// Kernel for more than `streamingMaxRows` rows of `byRowCount` calls.
    public var prefill: PrefillKernel

    public init(path: KernelPath = .best, threads: Int = LinearConfig.availableCores,
                precision: LinearPrecision = .float32, streamingMaxRows: Int = 8, panelRows: Int = 128,
                prefill: PrefillKernel = .packed) {
        self.path = path
        self.threads = max(1, min(threads, 64))
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
    /// Also sets the process-wide kernel path (`KernelPath.active`) the row kernels and attention follow.
    public static let `default`: LinearConfig = {
        let config: LinearConfig
        do {
            config = try fromEnvironment()
        } catch {
            FileHandle.standardError.write(Data("warning: \(error); using \(KernelPath.best.rawValue)\n".utf8))
            config = LinearConfig()
        }
        ck_set_kernel_path(config.path.ck)
        return config
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
/// PyTorch stores it) stays in its stored precision: rule P1 of CKernels.h (each output one fmaf chain
/// over k, then + bias), on `config.path` (AVX2: the packed GEMM, which widens W block by block while
/// packing it; portable: plain loops), output columns split over `config.threads` threads. Every path,
/// thread count and row count gives the same bits. With `config.prefill == .openblas`, `byRowCount`
/// calls of more than `streamingMaxRows` rows go to OpenBLAS instead (machine-dependent).
///
/// `x` is [m, inFeatures] and `y` is [m, outFeatures]; both may be strided views and must not
/// overlap. `bias` holds `outFeatures` values or is nil. `panels`, when given, is the same weight repacked
/// by `WeightPanels` (16 outputs side by side per k): the products then read it instead of `weight`
/// (decode steps several times faster, the same bits).
public func linear(_ x: MatrixView, weight: UnsafeRawPointer, dtype: WeightDType, outFeatures: Int, inFeatures: Int,
                   bias: UnsafePointer<Float>?, into y: MatrixView, scratch: inout LinearScratch,
                   config: LinearConfig = .default, kernel: LinearKernelChoice = .byRowCount,
                   panels: UnsafeRawPointer? = nil) {
    precondition(x.cols == inFeatures, "linear: x has \(x.cols) columns, weight expects \(inFeatures)")
    precondition(y.rows == x.rows && y.cols == outFeatures,
                 "linear: y is \(y.rows)x\(y.cols), expected \(x.rows)x\(outFeatures)")
    let m = x.rows
    if m == 0 || outFeatures == 0 { return }
    let openblas = kernel.usesOpenBLAS(rows: m, config: config)

    var input = x
    if config.precision == .bfloat16Activations && inFeatures > 0 {
        let useDot = dtype == .bfloat16 && config.path.effective == .avx512bf16 && kernel.streams(rows: m, config: config)
        if useDot {
            let packed = scratch.halfBuffer(m * inFeatures)
            ck_pack_bf16(x.base, x.rowStride, packed, inFeatures, m, inFeatures)
            ck_linear_dpbf16(weight.assumingMemoryBound(to: UInt16.self), outFeatures, inFeatures, packed, inFeatures, m,
                             bias, y.base, y.rowStride, Int32(config.threads))
            return
        }
        // The rounded copy lives after the product's own scratch in the same float buffer.
        let own = openblas ? openBLASScratchFloats(inFeatures, dtype, config) : matmulScratchFloats(m, inFeatures, config)
        let base = scratch.floatBuffer(own + m * inFeatures) + own
        ck_round_to_bf16(x.base, x.rowStride, base, inFeatures, m, inFeatures)
        input = MatrixView(base: base, rows: m, cols: inFeatures)
    }

    if openblas {
        openBLASLinear(input, weight: weight, dtype: dtype, outFeatures: outFeatures, inFeatures: inFeatures,
                       bias: bias, into: y, scratch: &scratch, config: config)
        return
    }
    let work = scratch.floatBuffer(matmulScratchFloats(m, inFeatures, config))
    var args = ck_matmul_args(path: config.path.ck, dtype: dtype.ck, b_layout: Int32(panels == nil ? CK_B_ROWS : CK_B_PANELS),
                              a: UnsafePointer(input.base), lda: input.rowStride, m: m, k: inFeatures, b: panels ?? weight,
                              ldb: inFeatures, n: outFeatures, bias: bias, c: y.base, ldc: y.rowStride, scratch: work)
    ck_matmul(&args, Int32(config.threads))
}

private func matmulScratchFloats(_ m: Int, _ inFeatures: Int, _ config: LinearConfig) -> Int {
    Int(ck_matmul_scratch_floats(m, inFeatures, Int32(config.threads)))
}

private func openBLASScratchFloats(_ inFeatures: Int, _ dtype: WeightDType, _ config: LinearConfig) -> Int {
    dtype == .float32 ? 0 : config.panelRows * inFeatures
}

/// The OpenBLAS opt-in: W widened panel by panel (float32 weights directly) and multiplied with sgemm.
private func openBLASLinear(_ x: MatrixView, weight: UnsafeRawPointer, dtype: WeightDType, outFeatures: Int,
                            inFeatures: Int, bias: UnsafePointer<Float>?, into y: MatrixView,
                            scratch: inout LinearScratch, config: LinearConfig) {
    let m = x.rows
    if inFeatures == 0 {
        for r in 0..<m { for o in 0..<outFeatures { y[r, o] = bias?[o] ?? 0 } }
        return
    }
    if dtype == .float32 {
        let w = MatrixView(base: UnsafeMutablePointer(mutating: weight.assumingMemoryBound(to: Float.self)),
                           rows: outFeatures, cols: inFeatures)
        sgemm(x, .none, w, .transposed, into: y)
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

/// A Linear weight [out, in] repacked once into the panel layout the products read fastest (CK_B_PANELS in
/// CKernels.h: 16 outputs side by side for each k, same dtype, bits copied; `out` padded to 16 with zeros).
/// Owns its memory (as many bytes as the stored weight, plus the padding).
public final class WeightPanels {
    public let pointer: UnsafeMutableRawPointer
    public let byteCount: Int

    public init(weight: UnsafeRawPointer, dtype: WeightDType, outFeatures: Int, inFeatures: Int, threads: Int = 1) {
        byteCount = max(1, Int(ck_panel_elements(outFeatures, inFeatures)) * dtype.byteSize)
        pointer = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
        ck_pack_panels(dtype.ck, weight, outFeatures, inFeatures, pointer, Int32(threads))
    }

    deinit { pointer.deallocate() }
}
