import Foundation
import Tensor

/// Element-wise and row-wise float32 kernels on raw buffers. The matrix products go through
/// OpenBLAS; these loops are written as `while` loops over unsafe pointers because unoptimised
/// (debug) builds turn `for i in 0..<n` into generic iterator calls that are ~50× slower.
enum Ops {
    /// Threads for the row kernels: the cores the Linear kernels use (`VISPRUNER_KERNEL_THREADS`).
    static let threads: Int = LinearConfig.default.threads

    /// LayerNorm over each of `rows` rows of width `dim` (biased variance, as torch), in place.
    static func layerNorm(_ x: UnsafeMutablePointer<Float>, rows: Int, dim: Int,
                          weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, eps: Float) {
        Kernels.layerNorm(x, gamma: weight, beta: bias, into: x, rows: rows, n: dim, eps: eps, threads: threads)
    }

    /// LLaMA RMSNorm: weight · (x · rsqrt(mean(x²) + eps)), from `src` into `dst` (may alias).
    static func rmsNorm(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, rows: Int, dim: Int,
                        weight: UnsafePointer<Float>, eps: Float) {
        Kernels.rmsNorm(src, weight: weight, into: dst, rows: rows, n: dim, eps: eps, threads: threads)
    }

    /// Numerically stable softmax over each of `rows` rows of `n` entries, `stride` apart, in place.
    static func softmax(_ p: UnsafeMutablePointer<Float>, rows: Int, count n: Int, stride: Int, threads: Int = Ops.threads) {
        Kernels.softmax(p, rows: rows, n: n, stride: stride, threads: threads)
    }

    /// Causal softmax of `rows` rows of `n` scores, row r at position `start + r`.
    static func causalSoftmax(_ p: UnsafeMutablePointer<Float>, rows: Int, count n: Int, start: Int, threads: Int = Ops.threads) {
        Kernels.causalSoftmax(p, rows: rows, n: n, start: start, threads: threads)
    }

    /// CLIP's quick_gelu: x · sigmoid(1.702 x).
    static func quickGELU(_ p: UnsafeMutablePointer<Float>, count: Int) {
        Kernels.quickGELU(p, count: count, threads: threads)
    }

    /// Exact GELU: 0.5 x (1 + erf(x / √2)), as torch.nn.GELU() defaults to.
    static func gelu(_ p: UnsafeMutablePointer<Float>, count: Int) {
        Kernels.gelu(p, count: count, threads: threads)
    }

    /// gate ← silu(gate) · up.
    static func siluMul(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
        Kernels.siluMul(gate, up: up, count: count, threads: threads)
    }

    static func add(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
        Kernels.add(src, into: dst, count: count, threads: threads)
    }

    static func scale(_ p: UnsafeMutablePointer<Float>, count: Int, by s: Float) {
        var i = 0
        while i < count { p[i] *= s; i += 1 }
    }

    /// Index of the largest value (first on ties, as torch.argmax) and its gap to the runner-up.
    static func argmax(_ p: UnsafePointer<Float>, count: Int) -> (index: Int, margin: Float) {
        var best = 0, bestV = -Float.infinity, second = -Float.infinity
        var i = 0
        while i < count {
            let x = p[i]
            if x > bestV { second = bestV; bestV = x; best = i } else if x > second { second = x }
            i += 1
        }
        return (best, bestV - second)
    }
}

/// A float32 heap buffer with a stable address, for activations reused across layers.
final class Buffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = max(count, 1)
        pointer = UnsafeMutablePointer<Float>.allocate(capacity: self.count)
        pointer.initialize(repeating: 0, count: self.count)
    }

    convenience init(copying values: [Float]) {
        self.init(count: values.count)
        pointer.update(from: values, count: values.count)
    }

    deinit { pointer.deallocate() }

    func view(rows: Int, cols: Int, stride: Int? = nil) -> MatrixView {
        MatrixView(base: pointer, rows: rows, cols: cols, rowStride: stride)
    }
}
