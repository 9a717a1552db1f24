import Foundation
import Tensor

/// Element-wise and row-wise float32 kernels on raw buffers. The matrix products go through
/// OpenBLAS; these loops are written as `while` loops over unsafe pointers because unoptimised
/// (debug) builds turn `for i in 0..<n` into generic iterator calls that are ~50× slower.
enum Ops {
    /// LayerNorm over each of `rows` rows of width `dim` (biased variance, as torch), in place.
    static func layerNorm(_ x: UnsafeMutablePointer<Float>, rows: Int, dim: Int,
                          weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, eps: Float) {
        var r = 0
        while r < rows {
            let p = x + r * dim
            var mean: Float = 0
            var i = 0
            while i < dim { mean += p[i]; i += 1 }
            mean /= Float(dim)
            var variance: Float = 0
            i = 0
            while i < dim { let d = p[i] - mean; variance += d * d; i += 1 }
            variance /= Float(dim)
            let inv = 1 / (variance + eps).squareRoot()
            i = 0
            while i < dim { p[i] = (p[i] - mean) * inv * weight[i] + bias[i]; i += 1 }
            r += 1
        }
    }

    /// LLaMA RMSNorm: weight · (x · rsqrt(mean(x²) + eps)), from `src` into `dst` (may alias).
    static func rmsNorm(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, rows: Int, dim: Int,
                        weight: UnsafePointer<Float>, eps: Float) {
        var r = 0
        while r < rows {
            let s = src + r * dim, d = dst + r * dim
            var ss: Float = 0
            var i = 0
            while i < dim { ss += s[i] * s[i]; i += 1 }
            let inv = 1 / (ss / Float(dim) + eps).squareRoot()
            i = 0
            while i < dim { d[i] = weight[i] * (s[i] * inv); i += 1 }
            r += 1
        }
    }

    /// Numerically stable softmax over the first `n` entries of a row, in place.
    static func softmaxRow(_ p: UnsafeMutablePointer<Float>, count n: Int) {
        var m = -Float.infinity
        var i = 0
        while i < n { if p[i] > m { m = p[i] }; i += 1 }
        var sum: Float = 0
        i = 0
        while i < n { let e = expf(p[i] - m); p[i] = e; sum += e; i += 1 }
        let inv = 1 / sum
        i = 0
        while i < n { p[i] *= inv; i += 1 }
    }

    /// CLIP's quick_gelu: x · sigmoid(1.702 x).
    static func quickGELU(_ p: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i < count { let x = p[i]; p[i] = x / (1 + expf(-1.702 * x)); i += 1 }
    }

    /// Exact GELU: 0.5 x (1 + erf(x / √2)), as torch.nn.GELU() defaults to.
    static func gelu(_ p: UnsafeMutablePointer<Float>, count: Int) {
        let r: Float = 0.70710678118654752
        var i = 0
        while i < count { let x = p[i]; p[i] = 0.5 * x * (1 + erff(x * r)); i += 1 }
    }

    /// gate ← silu(gate) · up.
    static func siluMul(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i < count { let g = gate[i]; gate[i] = g / (1 + expf(-g)) * up[i]; i += 1 }
    }

    static func add(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i < count { dst[i] += src[i]; i += 1 }
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

    deinit { pointer.deallocate() }

    func view(rows: Int, cols: Int, stride: Int? = nil) -> MatrixView {
        MatrixView(base: pointer, rows: rows, cols: cols, rowStride: stride)
    }
}
