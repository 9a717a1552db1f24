import Tensor

/// Runs the per-head part of attention (two small products and a softmax per head) with the heads
/// split over the cores: each core takes whole heads, with its own block of the scratch buffer. The
/// kernels inside run single-threaded; every head's numbers are the same whatever the split.
enum HeadParallelAttention {
    /// Parts the heads are split into (one per engine thread); scratch buffers hold this many blocks.
    static var parts: Int { Kernels.threads }

    /// Calls `body(head, scratch)` for every head; `scratch` points at the calling part's block of
    /// `scratchPerPart` floats inside `scratch`.
    static func perHead(heads: Int, scratchPerPart: Int, scratch: Buffer, _ body: (Int, UnsafeMutablePointer<Float>) -> Void) {
        let parts = min(parts, heads)
        precondition(scratch.count >= parts * scratchPerPart, "attention scratch buffer too small")
        if parts <= 1 {
            for head in 0..<heads { body(head, scratch.pointer) }
            return
        }
        Kernels.parallelFor(parts: parts) { part, count in
            let block = scratch.pointer + part * scratchPerPart
            var head = part
            while head < heads {
                body(head, block)
                head += count
            }
        }
    }
}
