import CKernels
import Checkpoint
import Foundation
import Tensor

/// Keys and values of every layer for the positions processed so far, preallocated for
/// `capacity` positions so each decode step appends one row per layer without reallocating.
///
/// A cache may extend frozen caches (`init(extending:)`): a question's cache sits on its image's
/// prefix, which sits on the system prompt's, and attention reads the chain in position order. The
/// shared prefixes are read, never copied or written, once something extends them.
final class KVCache {
    /// Absolute capacity (the ancestors' positions plus this cache's own).
    let capacity: Int
    let width: Int
    /// Positions held by the frozen caches this one extends; this cache's own rows start here.
    let base: Int
    /// The frozen caches below this one, root first, with how many of their own rows are visible.
    let ancestors: [(cache: KVCache, rows: Int)]
    /// This cache's own rows (positions `base ..< capacity`).
    let keys: [Buffer]
    let values: [Buffer]
    /// Positions filled, counting the ancestors'.
    var length: Int
    /// Set once another cache extends this one: its rows are then shared and must not change.
    private(set) var frozen = false

    init(layers: Int, capacity: Int, width: Int) {
        self.capacity = capacity
        self.width = width
        base = 0
        length = 0
        ancestors = []
        keys = (0..<layers).map { _ in Buffer(count: capacity * width) }
        values = (0..<layers).map { _ in Buffer(count: capacity * width) }
    }

    /// A cache continuing `parent` (frozen from now on) with room for `rows` more positions.
    init(extending parent: KVCache, rows: Int) {
        parent.frozen = true
        width = parent.width
        base = parent.length
        length = base
        capacity = base + rows
        ancestors = parent.ancestors + [(parent, parent.length - parent.base)]
        keys = parent.keys.map { _ in Buffer(count: rows * parent.width) }
        values = parent.keys.map { _ in Buffer(count: rows * parent.width) }
    }

    /// Key/value rows of `layer` for positions `0 ..< upTo`, as segments in position order.
    func segments(layer: Int, upTo end: Int, column: Int) -> [ck_kv_segment] {
        var out: [ck_kv_segment] = []
        out.reserveCapacity(ancestors.count + 1)
        for (cache, rows) in ancestors {
            out.append(ck_kv_segment(k: cache.keys[layer].pointer + column, v: cache.values[layer].pointer + column, len: rows))
        }
        out.append(ck_kv_segment(k: keys[layer].pointer + column, v: values[layer].pointer + column, len: end - base))
        return out
    }

    /// Bytes held by this cache's own rows (not the shared ancestors').
    var ownBytes: Int { 2 * keys.count * (capacity - base) * width * MemoryLayout<Float>.size }
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
        // As LlamaRotaryEmbedding: 1 / base ** (arange(0, dim, 2) / dim) (our own pow, see CKernels.h).
        invFreq = Kernels.ropeInverseFrequencies(theta: config.ropeTheta, headDim: hd)
        invFreqBuffer = Buffer(count: hd / 2)
        invFreqBuffer.pointer.update(from: invFreq, count: hd / 2)
    }

    func makeCache(capacity: Int) -> KVCache {
        KVCache(layers: layers.count, capacity: capacity, width: config.numKeyValueHeads * config.headDim)
    }

    /// Writes the embedding row of each id into `dst` (ids must already be validated).
    func embed(_ ids: [Int], into dst: UnsafeMutablePointer<Float>) {
        let D = config.hiddenSize
        for (r, id) in ids.enumerated() { embedTokens.convert((id * D)..<((id + 1) * D), into: dst + r * D) }
    }

    /// cos/sin of the rotary angles for each of `positions`, [rows, headDim/2] each, formed as
    /// LlamaRotaryEmbedding does (position × inv_freq in float32, then cos/sin; ours, see CKernels.h).
    /// Computed once per forward call: every layer and both q and k use the same angles.
    func rotaryAngles(positions: [Int]) -> (cos: Buffer, sin: Buffer) {
        let half = config.headDim / 2, rows = positions.count
        let cosBuf = Buffer(count: rows * half), sinBuf = Buffer(count: rows * half)
        Kernels.ropeTables(positions: positions, invFreq: invFreqBuffer.pointer, half: half, cos: cosBuf.pointer,
                           sin: sinBuf.pointer)
        return (cosBuf, sinBuf)
    }

    /// Runs `rows` new positions (embeddings `input`, [rows, hidden]) through the decoder, appending
    /// to `cache`, and returns the logits of the last position (empty with `logits: false`: only the
    /// layers run, the cache is still extended). `kernel` is the linear kernel family: prompt rows use
    /// `.rowInvariant`, decode steps `.streaming` (see `LinearKernelChoice`).
    func forward(_ input: UnsafePointer<Float>, rows n: Int, cache: KVCache, logits wantLogits: Bool = true,
                 kernel: LinearKernelChoice = .rowInvariant) throws -> [Float] {
        try forward(input, sequences: [(cache, n)], logits: wantLogits, kernel: kernel).first ?? []
    }

    /// Runs several sequences' new positions through the decoder in one pass: the rows of every
    /// sequence, concatenated in `input` ([Σ rows, hidden]), share each weight pass; rotary positions
    /// and attention are each sequence's own (its cache chain). Returns each sequence's last-position
    /// logits (empty lists with `logits: false`). Every row's numbers are those it gets alone.
    func forward(_ input: UnsafePointer<Float>, sequences: [(cache: KVCache, rows: Int)], logits wantLogits: Bool = true,
                 kernel: LinearKernelChoice) throws -> [[Float]] {
        let D = config.hiddenSize, I = config.intermediateSize
        let H = config.numAttentionHeads, KVH = config.numKeyValueHeads, hd = config.headDim
        let qw = H * hd, kvw = KVH * hd, group = H / KVH
        guard !sequences.isEmpty, sequences.allSatisfy({ $0.rows > 0 }) else { throw ModelError("empty input sequence") }
        var offsets: [Int] = [], positions: [Int] = []
        var n = 0, scratchPerPart = 0
        for (cache, rows) in sequences {
            guard !cache.frozen else { throw ModelError("a shared prefix cache cannot take new positions") }
            guard cache.length + rows <= cache.capacity else {
                throw ModelError("sequence of \(cache.length + rows) positions exceeds the KV cache capacity \(cache.capacity)")
            }
            offsets.append(n)
            positions += (cache.length ..< cache.length + rows)
            n += rows
            scratchPerPart = max(scratchPerPart, ck_causal_attention_scratch(rows, cache.length, hd))
        }
        for i in sequences.indices {
            for j in sequences.indices where j > i && sequences[i].cache === sequences[j].cache {
                throw ModelError("one cache appears twice in a batch")
            }
        }
        let h = Buffer(count: n * D), x = Buffer(count: n * max(D, qw))
        let q = Buffer(count: n * qw), ctx = Buffer(count: n * qw)
        let k = Buffer(count: n * kvw), v = Buffer(count: n * kvw)
        let attentionScratch = Buffer(count: HeadParallelAttention.parts * scratchPerPart)
        let gate = Buffer(count: n * I), up = Buffer(count: n * I)
        h.pointer.update(from: input, count: n * D)
        let scale = 1 / Float(hd).squareRoot()
        let angles = rotaryAngles(positions: positions)

        for (li, layer) in layers.enumerated() {
            layer.inputNorm.withUnsafeBufferPointer { Kernels.rmsNorm(h.pointer, weight: $0.baseAddress!, into: x.pointer, rows: n, n: D, eps: config.rmsNormEps, threads: Kernels.threads) }
            layer.q.forward(x.pointer, rows: n, into: q.pointer, scratch: scratch, kernel: kernel)
            layer.k.forward(x.pointer, rows: n, into: k.pointer, scratch: scratch, kernel: kernel)
            layer.v.forward(x.pointer, rows: n, into: v.pointer, scratch: scratch, kernel: kernel)
            Kernels.rope(q.pointer, rows: n, heads: H, headDim: hd, rowStride: qw, cos: angles.cos.pointer, sin: angles.sin.pointer)
            Kernels.rope(k.pointer, rows: n, heads: KVH, headDim: hd, rowStride: kvw, cos: angles.cos.pointer, sin: angles.sin.pointer)
            for (s, (cache, rows)) in sequences.enumerated() {
                let own = (cache.length - cache.base) * kvw
                (cache.keys[li].pointer + own).update(from: k.pointer + offsets[s] * kvw, count: rows * kvw)
                (cache.values[li].pointer + own).update(from: v.pointer + offsets[s] * kvw, count: rows * kvw)
            }
            HeadParallelAttention.perHead(heads: H, scratchPerPart: scratchPerPart, scratch: attentionScratch) { head, sp in
                let column = (head / group) * hd
                for (s, (cache, rows)) in sequences.enumerated() {
                    let segments = cache.segments(layer: li, upTo: cache.length + rows, column: column)
                    let row0 = offsets[s] * qw + head * hd
                    segments.withUnsafeBufferPointer { segs in
                        ck_causal_attention(q.pointer + row0, qw, rows, cache.length, segs.baseAddress, segs.count, kvw, hd,
                                            scale, sp, ctx.pointer + row0, qw)
                    }
                }
            }
            layer.o.forward(ctx.pointer, rows: n, into: x.pointer, scratch: scratch, kernel: kernel)
            Kernels.add(x.pointer, into: h.pointer, count: n * D, threads: Kernels.threads)

            layer.postNorm.withUnsafeBufferPointer { Kernels.rmsNorm(h.pointer, weight: $0.baseAddress!, into: x.pointer, rows: n, n: D, eps: config.rmsNormEps, threads: Kernels.threads) }
            layer.gate.forward(x.pointer, rows: n, into: gate.pointer, scratch: scratch, kernel: kernel)
            layer.up.forward(x.pointer, rows: n, into: up.pointer, scratch: scratch, kernel: kernel)
            Kernels.siluMul(gate.pointer, up: up.pointer, count: n * I, threads: Kernels.threads)
            layer.down.forward(gate.pointer, rows: n, into: x.pointer, scratch: scratch, kernel: kernel)
            Kernels.add(x.pointer, into: h.pointer, count: n * D, threads: Kernels.threads)
        }
        for (cache, rows) in sequences { cache.length += rows }
        if !wantLogits { return sequences.map { _ in [] } }

        // Only each sequence's last position needs logits (prefill and decode alike); the LM head always
        // streams, so a sequence's logits do not depend on how many share the call.
        let S = sequences.count, V = config.vocabSize
        let last = Buffer(count: S * D)
        for s in 0..<S {
            let row = offsets[s] + sequences[s].rows - 1
            finalNorm.withUnsafeBufferPointer { Kernels.rmsNorm(h.pointer + row * D, weight: $0.baseAddress!, into: last.pointer + s * D, rows: 1, n: D, eps: config.rmsNormEps, threads: Kernels.threads) }
        }
        let logits = Buffer(count: S * V)
        lmHead.forward(last.pointer, rows: S, into: logits.pointer, scratch: scratch, kernel: .streaming)
        return (0..<S).map { Array(UnsafeBufferPointer(start: logits.pointer + $0 * V, count: V)) }
    }
}
