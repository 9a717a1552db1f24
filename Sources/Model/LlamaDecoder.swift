import Checkpoint
import Foundation
import Tensor

/// Keys and values of every layer for the positions processed so far, preallocated for
/// `capacity` positions so each decode step appends one row per layer without reallocating.
final class KVCache {
    let capacity: Int
    let width: Int
    let keys: [Buffer]
    let values: [Buffer]
    var length = 0

    init(layers: Int, capacity: Int, width: Int) {
        self.capacity = capacity
        self.width = width
        keys = (0..<layers).map { _ in Buffer(count: capacity * width) }
        values = (0..<layers).map { _ in Buffer(count: capacity * width) }
    }
}

struct LlamaLayer {
    let inputNorm: [Float], postNorm: [Float]
    let q: Linear, k: Linear, v: Linear, o: Linear
    let gate: Linear, up: Linear, down: Linear
}

/// The LLaMA decoder of LLaVA (transformers 4.37 `LlamaForCausalLM` semantics): RMSNorm,
/// rotary embeddings with the rotate-half layout, causal grouped-query attention, SiLU-gated MLP.
final class LlamaDecoder {
    let config: LLaVAConfig
    let embedTokens: StoredTensor
    let layers: [LlamaLayer]
    let finalNorm: [Float]
    let lmHead: Linear
    let invFreq: [Float]
    let invFreqBuffer: Buffer
    let scratch: PanelScratch

    init(store: WeightStore, config: LLaVAConfig, mode: WeightMode, precision: ComputePrecision, scratch: PanelScratch) throws {
        self.config = config
        self.scratch = scratch
        let D = config.hiddenSize, I = config.intermediateSize, V = config.vocabSize
        let hd = config.headDim, kvw = config.numKeyValueHeads * hd
        embedTokens = try store.tensor("model.embed_tokens.weight", shape: [V, D])
        var layers: [LlamaLayer] = []
        for i in 0..<config.numHiddenLayers {
            let p = "model.layers.\(i)."
            layers.append(LlamaLayer(
                inputNorm: try store.tensor(p + "input_layernorm.weight").vector(D),
                postNorm: try store.tensor(p + "post_attention_layernorm.weight").vector(D),
                q: try Linear(store, p + "self_attn.q_proj", out: config.numAttentionHeads * hd, in: D, bias: false, mode: mode, precision: precision),
                k: try Linear(store, p + "self_attn.k_proj", out: kvw, in: D, bias: false, mode: mode, precision: precision),
                v: try Linear(store, p + "self_attn.v_proj", out: kvw, in: D, bias: false, mode: mode, precision: precision),
                o: try Linear(store, p + "self_attn.o_proj", out: D, in: config.numAttentionHeads * hd, bias: false, mode: mode, precision: precision),
                gate: try Linear(store, p + "mlp.gate_proj", out: I, in: D, bias: false, mode: mode, precision: precision),
                up: try Linear(store, p + "mlp.up_proj", out: I, in: D, bias: false, mode: mode, precision: precision),
                down: try Linear(store, p + "mlp.down_proj", out: D, in: I, bias: false, mode: mode, precision: precision)))
        }
        self.layers = layers
        finalNorm = try store.tensor("model.norm.weight").vector(D)
        let head = store.contains("lm_head.weight") || !config.tieWordEmbeddings ? "lm_head" : "model.embed_tokens"
        lmHead = try Linear(store, head, out: V, in: D, bias: false, mode: mode, precision: precision)
        // Same float32 arithmetic as LlamaRotaryEmbedding: base ** (arange(0, dim, 2) / dim).
        invFreq = (0..<(hd / 2)).map { i in 1 / powf(config.ropeTheta, Float(2 * i) / Float(hd)) }
        invFreqBuffer = Buffer(count: hd / 2)
        invFreqBuffer.pointer.update(from: invFreq, count: hd / 2)
    }

    /// Query rows per causal attention block (see `forward`).
    static let attentionBlockRows = 128

    func makeCache(capacity: Int) -> KVCache {
        KVCache(layers: layers.count, capacity: capacity, width: config.numKeyValueHeads * config.headDim)
    }

    /// Writes the embedding row of each id into `dst` (ids must already be validated).
    func embed(_ ids: [Int], into dst: UnsafeMutablePointer<Float>) {
        let D = config.hiddenSize
        for (r, id) in ids.enumerated() { embedTokens.convert((id * D)..<((id + 1) * D), into: dst + r * D) }
    }

    /// cos/sin of the rotary angles for positions `start ..< start + rows`, [rows, headDim/2] each,
    /// formed as LlamaRotaryEmbedding does (position × inv_freq in float32, then cos/sin). Computed once
    /// per forward call: every layer and both q and k use the same angles.
    func rotaryAngles(rows: Int, start: Int) -> (cos: Buffer, sin: Buffer) {
        let half = config.headDim / 2
        let cosBuf = Buffer(count: rows * half), sinBuf = Buffer(count: rows * half)
        let cosv = cosBuf.pointer, sinv = sinBuf.pointer, inv = invFreqBuffer.pointer
        var r = 0
        while r < rows {
            let t = Float(start + r)
            var i = 0
            while i < half { let f = t * inv[i]; cosv[r * half + i] = cosf(f); sinv[r * half + i] = sinf(f); i += 1 }
            r += 1
        }
        return (cosBuf, sinBuf)
    }

    /// Runs `rows` new positions (embeddings `input`, [rows, hidden]) through the decoder, appending
    /// to `cache`, and returns the logits of the last position.
    /// With `logits: false` only the layers run (the cache is still extended) and the result is empty.
    func forward(_ input: UnsafePointer<Float>, rows n: Int, cache: KVCache, logits wantLogits: Bool = true) throws -> [Float] {
        let D = config.hiddenSize, I = config.intermediateSize
        let H = config.numAttentionHeads, KVH = config.numKeyValueHeads, hd = config.headDim
        let qw = H * hd, kvw = KVH * hd, group = H / KVH
        let start = cache.length, total = start + n
        guard n > 0 else { throw ModelError("empty input sequence") }
        guard total <= cache.capacity else {
            throw ModelError("sequence of \(total) positions exceeds the KV cache capacity \(cache.capacity)")
        }
        let h = Buffer(count: n * D), x = Buffer(count: n * max(D, qw))
        let q = Buffer(count: n * qw), ctx = Buffer(count: n * qw)
        let scores = Buffer(count: HeadParallelAttention.parts * n * total)
        let gate = Buffer(count: n * I), up = Buffer(count: n * I)
        h.pointer.update(from: input, count: n * D)
        let scale = 1 / Float(hd).squareRoot()
        let angles = rotaryAngles(rows: n, start: start)

        for (li, layer) in layers.enumerated() {
            layer.inputNorm.withUnsafeBufferPointer { Kernels.rmsNorm(h.pointer, weight: $0.baseAddress!, into: x.pointer, rows: n, n: D, eps: config.rmsNormEps, threads: Kernels.threads) }
            let kc = cache.keys[li].pointer, vc = cache.values[li].pointer
            layer.q.forward(x.pointer, rows: n, into: q.pointer, scratch: scratch)
            layer.k.forward(x.pointer, rows: n, into: kc + start * kvw, scratch: scratch)
            layer.v.forward(x.pointer, rows: n, into: vc + start * kvw, scratch: scratch)
            Kernels.rope(q.pointer, rows: n, heads: H, headDim: hd, rowStride: qw, cos: angles.cos.pointer, sin: angles.sin.pointer)
            Kernels.rope(kc + start * kvw, rows: n, heads: KVH, headDim: hd, rowStride: kvw,
                         cos: angles.cos.pointer, sin: angles.sin.pointer)
            HeadParallelAttention.perHead(heads: H, scoresPerPart: n * total, scores: scores) { head, sp in
                let kvHead = head / group
                // Causal attention in blocks of query rows: a block only multiplies against the keys
                // its last row can see, so the masked upper triangle is neither computed nor read.
                var r0 = 0
                while r0 < n {
                    let rows = min(Self.attentionBlockRows, n - r0)
                    let visible = start + r0 + rows
                    let qv = MatrixView(base: q.pointer + r0 * qw + head * hd, rows: rows, cols: hd, rowStride: qw)
                    let kv = MatrixView(base: kc + kvHead * hd, rows: visible, cols: hd, rowStride: kvw)
                    let vv = MatrixView(base: vc + kvHead * hd, rows: visible, cols: hd, rowStride: kvw)
                    let sv = MatrixView(base: sp, rows: rows, cols: visible)
                    sgemm(qv, .none, kv, .transposed, into: sv, alpha: scale)
                    // Row r of the block is position start+r0+r and sees keys 0...start+r0+r.
                    Kernels.causalSoftmax(sp, rows: rows, n: visible, start: start + r0, threads: 1)
                    sgemm(sv, .none, vv, .none,
                          into: MatrixView(base: ctx.pointer + r0 * qw + head * hd, rows: rows, cols: hd, rowStride: qw))
                    r0 += rows
                }
            }
            layer.o.forward(ctx.pointer, rows: n, into: x.pointer, scratch: scratch)
            Kernels.add(x.pointer, into: h.pointer, count: n * D, threads: Kernels.threads)

            layer.postNorm.withUnsafeBufferPointer { Kernels.rmsNorm(h.pointer, weight: $0.baseAddress!, into: x.pointer, rows: n, n: D, eps: config.rmsNormEps, threads: Kernels.threads) }
            layer.gate.forward(x.pointer, rows: n, into: gate.pointer, scratch: scratch)
            layer.up.forward(x.pointer, rows: n, into: up.pointer, scratch: scratch)
            Kernels.siluMul(gate.pointer, up: up.pointer, count: n * I, threads: Kernels.threads)
            layer.down.forward(gate.pointer, rows: n, into: x.pointer, scratch: scratch)
            Kernels.add(x.pointer, into: h.pointer, count: n * D, threads: Kernels.threads)
        }
        cache.length = total
        if !wantLogits { return [] }

        // Only the last position's logits are ever needed (prefill and decode alike).
        let last = Buffer(count: D)
        finalNorm.withUnsafeBufferPointer { Kernels.rmsNorm(h.pointer + (n - 1) * D, weight: $0.baseAddress!, into: last.pointer, rows: 1, n: D, eps: config.rmsNormEps, threads: Kernels.threads) }
        var logits = [Float](repeating: 0, count: config.vocabSize)
        logits.withUnsafeMutableBufferPointer { lmHead.forward(last.pointer, rows: 1, into: $0.baseAddress!, scratch: scratch) }
        return logits
    }
}
