import Tensor

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

    // `while` loops over raw pointers: unoptimised builds turn `for i in 0..<n` into generic iterator calls.

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

extension Kernels {
    /// Threads for the engine's kernels: `VISPRUNER_KERNEL_THREADS` or the available cores. Results do
    /// not depend on it (tests set it to compare thread counts).
    static var threads: Int = LinearConfig.default.threads
}
