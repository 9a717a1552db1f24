import Checkpoint
import Tensor

/// How linear layers obtain float32 weights from the stored (usually fp16) tensors.
public enum WeightMode: Sendable, Equatable {
    /// Widen `rows` output rows of W at a time into a reused scratch buffer and multiply panel by
    /// panel: memory stays at the mapped file plus one panel. This is the path for real-size models.
    case panels(rows: Int)
    /// Widen every weight once at load and keep the float32 copy (only sensible for tiny models).
    case widened

    /// Panels of 128 rows: 2 MiB of scratch for a 4096-wide layer, large enough for BLAS to be efficient.
    public static let `default` = WeightMode.panels(rows: 128)
}

/// Reusable float32 scratch shared by the linear layers of one model (models are not thread-safe).
final class PanelScratch {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity: Int

    init() {
        capacity = 1
        pointer = .allocate(capacity: 1)
    }

    deinit { pointer.deallocate() }

    func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            capacity = count
            pointer = .allocate(capacity: count)
        }
        return pointer
    }
}

/// y = x Wᵀ (+ b) with W stored [out, in] as in PyTorch.
final class Linear {
    let weight: StoredTensor
    let outFeatures: Int
    let inFeatures: Int
    let bias: [Float]?
    let mode: WeightMode
    private var widened: [Float]?

    /// `weight` must be 2-D [out, in]; `bias` (if any) 1-D [out]. Shapes are checked against the
    /// expectation so a config/weights mismatch names the tensor.
    init(weight: StoredTensor, bias: StoredTensor?, out: Int, in inFeatures: Int, mode: WeightMode) throws {
        try WeightStore.expectShape(weight, [out, inFeatures])
        if let bias { try WeightStore.expectShape(bias, [out]) }
        self.weight = weight
        self.outFeatures = out
        self.inFeatures = inFeatures
        self.bias = bias?.floats().data
        self.mode = mode
        if mode == .widened { widened = weight.floats().data }
    }

    /// Loads `prefix.weight` (and `prefix.bias` when `hasBias`) from a store.
    convenience init(_ store: WeightStore, _ prefix: String, out: Int, in inFeatures: Int, bias hasBias: Bool, mode: WeightMode) throws {
        try self.init(weight: store.tensor(prefix + ".weight"),
                      bias: hasBias ? store.tensor(prefix + ".bias") : nil,
                      out: out, in: inFeatures, mode: mode)
    }

    /// Computes `rows` output rows into `y` (row stride `outFeatures`).
    func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, scratch: PanelScratch) {
        guard rows > 0 else { return }
        let xv = MatrixView(base: UnsafeMutablePointer(mutating: x), rows: rows, cols: inFeatures)
        let yv = MatrixView(base: y, rows: rows, cols: outFeatures)
        switch mode {
        case .widened:
            widened!.withUnsafeMutableBufferPointer { w in
                sgemm(xv, .none, MatrixView(base: w.baseAddress!, rows: outFeatures, cols: inFeatures), .transposed, into: yv)
            }
        case .panels(let panelRows):
            let step = max(1, panelRows)
            let panel = scratch.reserve(step * inFeatures)
            var r0 = 0
            while r0 < outFeatures {
                let p = min(step, outFeatures - r0)
                weight.convert((r0 * inFeatures)..<((r0 + p) * inFeatures), into: panel)
                sgemm(xv, .none, MatrixView(base: panel, rows: p, cols: inFeatures), .transposed,
                      into: yv.columnBlock(r0, p))
                r0 += p
            }
        }
        if let bias {
            bias.withUnsafeBufferPointer { b in
                for r in 0..<rows { Ops.add(y + r * outFeatures, b.baseAddress!, count: outFeatures) }
            }
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
