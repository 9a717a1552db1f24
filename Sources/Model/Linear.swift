import Checkpoint
import Foundation
import Tensor

/// How linear layers obtain their weights from the stored (usually fp16) tensors.
public enum WeightMode: Sendable, Equatable {
    /// Keep W in its stored precision, repacked once at load into 16-output panels (`WeightPanels`, as
    /// many bytes as the stored weight): the products widen it in registers (decode) or block by block
    /// while packing it (prefill); with the `VISPRUNER_PREFILL=openblas` opt-in, many-row products widen
    /// `rows` rows of the mapped W at a time into a scratch panel that OpenBLAS multiplies.
    /// This is the path for real-size models.
    case panels(rows: Int)
    /// Widen every weight once at load and keep the float32 copy (only sensible for tiny models).
    case widened

    /// Panels of 512 rows for the OpenBLAS path: 8 MiB of scratch for a 4096-wide layer. OpenBLAS
    /// repacks the activations once per panel, so narrow panels spend much of prefill copying
    /// (128-row panels ran prefill at about half the sgemm peak).
    public static let `default` = WeightMode.panels(rows: 512)
}

/// Arithmetic of the linear layers.
public enum ComputePrecision: String, Sendable, Equatable, CaseIterable {
    /// Float32 activations and sums, weights widened exactly: the parity mode, and the default.
    case float32
    /// Activations rounded to bfloat16, float32 sums (`vdpbf16ps` on CPUs with AVX512_BF16 when the
    /// weights are stored in bf16; the same products formed in float32 elsewhere). Faster where the
    /// hardware has bf16 dot products; answers drift slightly from float32 (see EVAL.md).
    case bfloat16

    var linearPrecision: LinearPrecision { self == .float32 ? .float32 : .bfloat16Activations }
}

/// Scratch memory shared by the linear layers of one model (models are not thread-safe).
final class PanelScratch {
    var buffers = LinearScratch()
}

/// y = x Wᵀ (+ b) with W stored [out, in] as in PyTorch.
final class Linear {
    let weight: StoredTensor
    let outFeatures: Int
    let inFeatures: Int
    let bias: Buffer?
    let mode: WeightMode
    let config: LinearConfig
    private let widened: Buffer?
    /// The weight repacked for the products (`.panels` mode); the stored tensor stays mapped for the
    /// OpenBLAS opt-in.
    private let panels: WeightPanels?

    /// `weight` must be 2-D [out, in]; `bias` (if any) 1-D [out]. Shapes are checked against the
    /// expectation so a config/weights mismatch names the tensor.
    init(weight: StoredTensor, bias: StoredTensor?, out: Int, in inFeatures: Int, mode: WeightMode,
         precision: ComputePrecision = .float32) throws {
        try WeightStore.expectShape(weight, [out, inFeatures])
        if let bias { try WeightStore.expectShape(bias, [out]) }
        self.weight = weight
        self.outFeatures = out
        self.inFeatures = inFeatures
        self.bias = bias.map { Buffer(copying: $0.floats().data) }
        self.mode = mode
        var config = LinearConfig.default
        config.precision = precision.linearPrecision
        if case .panels(let rows) = mode { config.panelRows = max(1, rows) }
        self.config = config
        widened = mode == .widened ? Buffer(copying: weight.floats().data) : nil
        panels = mode == .widened ? nil
            : WeightPanels(weight: weight.pointer, dtype: weight.dtype.weightDType, outFeatures: out, inFeatures: inFeatures,
                           threads: Kernels.threads)
    }

    /// Loads `prefix.weight` (and `prefix.bias` when `hasBias`) from a store.
    convenience init(_ store: WeightStore, _ prefix: String, out: Int, in inFeatures: Int, bias hasBias: Bool,
                     mode: WeightMode, precision: ComputePrecision = .float32) throws {
        try self.init(weight: store.tensor(prefix + ".weight"),
                      bias: hasBias ? store.tensor(prefix + ".bias") : nil,
                      out: out, in: inFeatures, mode: mode, precision: precision)
    }

    /// Computes `rows` output rows into `y` (row stride `outFeatures`).
    func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, scratch: PanelScratch,
                 kernel: LinearKernelChoice = .byRowCount) {
        guard rows > 0 else { return }
        let xv = MatrixView(base: UnsafeMutablePointer(mutating: x), rows: rows, cols: inFeatures)
        let yv = MatrixView(base: y, rows: rows, cols: outFeatures)
        let w: UnsafeRawPointer = widened.map { UnsafeRawPointer($0.pointer) } ?? weight.pointer
        let dtype: WeightDType = widened != nil ? .float32 : weight.dtype.weightDType
        // The process-wide path and thread count at call time (the same bits on every path and count).
        var config = self.config
        config.path = KernelPath.active
        config.threads = Kernels.threads
        linear(xv, weight: w, dtype: dtype, outFeatures: outFeatures, inFeatures: inFeatures,
               bias: bias.map { UnsafePointer($0.pointer) }, into: yv, scratch: &scratch.buffers, config: config,
               kernel: kernel, panels: panels.map { UnsafeRawPointer($0.pointer) })
    }
}

extension StoredDType {
    var weightDType: WeightDType {
        switch self {
        case .float16: return .float16
        case .bfloat16: return .bfloat16
        case .float32: return .float32
        }
    }
}

extension StoredTensor {
    /// The tensor widened, with its element count checked (for norms and biases).
    func vector(_ count: Int) throws -> [Float] {
        try WeightStore.expectShape(self, [count])
        return floats().data
    }
}
