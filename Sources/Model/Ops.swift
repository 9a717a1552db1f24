import Foundation
import Tensor

/// Element-wise and row-wise float32 kernels on raw buffers. They run on unsafe pointers so
/// debug builds stay usable; the heavy lifting (matrix products) goes through OpenBLAS.
enum Ops {
    /// LayerNorm over each of `rows` rows of width `dim` (biased variance, as torch), in place.
    static func layerNorm(_ x: UnsafeMutablePointer<Float>, rows: Int, dim: Int,
                          weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, eps: Float) {
        for r in 0..<rows {
            let p = x + r * dim
            var mean: Float = 0
            for i in 0..<dim { mean += p[i] }
            mean /= Float(dim)
            var variance: Float = 0
            for i in 0..<dim { let d = p[i] - mean; variance += d * d }
            variance /= Float(dim)
            let inv = 1 / (variance + eps).squareRoot()
            for i in 0..<dim { p[i] = (p[i] - mean) * inv * weight[i] + bias[i] }
        }
    }

    /// LLaMA RMSNorm: x · rsqrt(mean(x²) + eps) · weight, from `src` into `dst` (may alias).
    static func rmsNorm(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, rows: Int, dim: Int,
                        weight: UnsafePointer<Float>, eps: Float) {
        for r in 0..<rows {
            let s = src + r * dim, d = dst + r * dim
            var ss: Float = 0
            for i in 0..<dim { ss += s[i] * s[i] }
            let inv = 1 / (ss / Float(dim) + eps).squareRoot()
            for i in 0..<dim { d[i] = weight[i] * (s[i] * inv) }
        }
    }

    /// Numerically stable softmax over the first `n` entries of each row, in place.
    static func softmaxRow(_ p: UnsafeMutablePointer<Float>, count n: Int) {
        var m = -Float.infinity
        for i in 0..<n where p[i] > m { m = p[i] }
        var sum: Float = 0
        for i in 0..<n { let e = expf(p[i] - m); p[i] = e; sum += e }
        let inv = 1 / sum
        for i in 0..<n { p[i] *= inv }
    }

    /// CLIP's quick_gelu: x · sigmoid(1.702 x).
    static func quickGELU(_ p: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { let x = p[i]; p[i] = x / (1 + expf(-1.702 * x)) }
    }

    /// Exact GELU: 0.5 x (1 + erf(x / √2)), as torch.nn.GELU() defaults to.
    static func gelu(_ p: UnsafeMutablePointer<Float>, count: Int) {
        let r: Float = 0.70710678118654752
        for i in 0..<count { let x = p[i]; p[i] = 0.5 * x * (1 + erff(x * r)) }
    }

    /// gate ← silu(gate) · up.
    static func siluMul(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { let g = gate[i]; gate[i] = g / (1 + expf(-g)) * up[i] }
    }

    static func add(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { dst[i] += src[i] }
    }

    static func scale(_ p: UnsafeMutablePointer<Float>, count: Int, by s: Float) {
        for i in 0..<count { p[i] *= s }
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

    func tensor(shape: [Int]) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, data: Array(UnsafeBufferPointer(start: pointer, count: n)))
    }
}
