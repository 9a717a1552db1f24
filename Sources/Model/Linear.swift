import Checkpoint
import Dispatch
import Foundation
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
            // Few rows (decoding): the product is cheap and widening W dominates, so use larger
            // panels and widen them on several threads. Many rows: BLAS dominates and threads itself.
            let decoding: Bool = rows <= Linear.decodeRows
            var step: Int = max(1, panelRows)
            if decoding { step = max(step, Linear.decodePanelElements / max(inFeatures, 1)) }
            let panel = scratch.reserve(step * inFeatures)
            var r0 = 0
            while r0 < outFeatures {
                let p = min(step, outFeatures - r0)
                Linear.widen(weight, rows: r0..<(r0 + p), width: inFeatures, into: panel, parallel: decoding)
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

extension Linear {
    /// Inputs with at most this many rows take the decoding path (large panels, threaded widening).
    static let decodeRows: Int = 8
    /// Elements per panel on the decoding path (4 MiB of float32).
    static let decodePanelElements: Int = 1 << 20
    /// Panels smaller than this are widened on one thread (dispatch would cost more than it saves).
    static let parallelWidenMinimum: Int = 1 << 17
    static let widenWorkers: Int = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))

    /// Widens rows `rows` of a [out, width] tensor into `dst`, split across threads when worthwhile.
    static func widen(_ w: StoredTensor, rows: Range<Int>, width: Int, into dst: UnsafeMutablePointer<Float>, parallel: Bool) {
        let total: Int = rows.count * width
        let base: Int = rows.lowerBound * width
        var workers: Int = 1
        if parallel && total >= parallelWidenMinimum { workers = widenWorkers }
        if workers == 1 {
            w.convert(base..<(base + total), into: dst)
            return
        }
        let chunk: Int = (total + workers - 1) / workers
        DispatchQueue.concurrentPerform(iterations: workers) { (i: Int) in
            let lo: Int = i * chunk
            let hi: Int = min(total, lo + chunk)
            if lo < hi { w.convert((base + lo)..<(base + hi), into: dst + lo) }
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
