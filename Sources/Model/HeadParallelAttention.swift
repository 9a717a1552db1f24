import Tensor

/// Runs the per-head part of attention (two small products and a softmax per head) with the heads
/// split over the cores. Each head's products are too small for OpenBLAS's own threading to pay
/// (it spent more time waking and yielding than multiplying), so OpenBLAS runs single-threaded
/// here and each core takes whole heads, with its own block of the score buffer.
enum HeadParallelAttention {
    /// Parts the heads are split into (one per engine thread); score buffers hold this many blocks.
    static let parts: Int = Kernels.threads

    /// Calls `body(head, scores)` for every head; `scores` points at the calling part's block of
    /// `scoresPerPart` floats inside `scores`.
    static func perHead(heads: Int, scoresPerPart: Int, scores: Buffer, _ body: (Int, UnsafeMutablePointer<Float>) -> Void) {
        let parts = min(parts, heads)
        precondition(scores.count >= parts * scoresPerPart, "attention score buffer too small")
        // Single-threaded OpenBLAS also when the heads run on one core: multi-threaded sgemm gave the
        // tower's attention different roundings than single-threaded (seen at 577×577 × 64), and an
        // answer must not depend on VISPRUNER_KERNEL_THREADS.
        let blasThreads = BLASThreads.count
        BLASThreads.set(1)
        defer { BLASThreads.set(blasThreads) }
        if parts <= 1 {
            for head in 0..<heads { body(head, scores.pointer) }
            return
        }
        Kernels.parallelFor(parts: parts) { part, count in
            let block = scores.pointer + part * scoresPerPart
            var head = part
            while head < heads {
                body(head, block)
                head += count
            }
        }
    }
}
