import Checkpoint
import Foundation
import Tensor

/// Errors from running the model on bad inputs (wrong shapes, ids out of range, ...).
public struct ModelError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The weights of one CLIP encoder layer.
struct CLIPLayer {
    let norm1W: [Float], norm1B: [Float], norm2W: [Float], norm2B: [Float]
    let q: Linear, k: Linear, v: Linear, out: Linear, fc1: Linear, fc2: Linear
}

/// CLIP ViT vision encoder (pre-LN, as transformers' `CLIPVisionModel`), run only up to the layer
/// LLaVA selects.
///
/// With `mm_vision_select_layer` s, LLaVA/VisPruner take `hidden_states[s]` (index 0 is the
/// pre-layernormed embedding, index L the last layer's output; post_layernorm is never applied)
/// and `attentions[s]` (index 0 is the first layer). For s = -2 both come from layer L-1, so the
/// last layer is never computed.
public final class CLIPVisionTower {
    public let config: CLIPVisionConfig
    public let selectLayer: Int
    public let selectFeature: String
    /// Index into the hidden-state list (0 = embeddings) the features come from.
    public let hiddenStateIndex: Int
    /// Index of the layer (0-based) whose attention map gives the [CLS] attention.
    public let attentionLayerIndex: Int

    let classEmbedding: [Float]
    let positionEmbedding: [Float]
    let patchEmbedding: Linear
    let preNormW: [Float], preNormB: [Float]
    let layers: [CLIPLayer]
    let scratch = PanelScratch()

    /// Opens a CLIP vision tower folder (config.json + safetensors).
    public convenience init(directory: URL, selectLayer: Int = -2, selectFeature: String = "patch",
                            mode: WeightMode = .default) throws {
        let config = try CLIPVisionConfig.load(directory: directory)
        let store = try WeightStore(directory: directory)
        try self.init(store: store, config: config, selectLayer: selectLayer, selectFeature: selectFeature, mode: mode)
    }

    /// Builds the tower from already opened weights; `prefix` is where `embeddings.…` lives.
    public init(store: WeightStore, config: CLIPVisionConfig, selectLayer: Int = -2, selectFeature: String = "patch",
                mode: WeightMode = .default, prefix: String = "vision_model.") throws {
        self.config = config
        self.selectLayer = selectLayer
        self.selectFeature = selectFeature
        let L = config.numHiddenLayers
        let hiddenIndex = selectLayer < 0 ? L + 1 + selectLayer : selectLayer
        let attentionIndex = selectLayer < 0 ? L + selectLayer : selectLayer
        guard (0...L).contains(hiddenIndex), (0..<L).contains(attentionIndex) else {
            throw ModelError("mm_vision_select_layer \(selectLayer) is out of range for a \(L)-layer vision tower")
        }
        guard selectFeature == "patch" || selectFeature == "cls_patch" else {
            throw ModelError("unsupported mm_vision_select_feature '\(selectFeature)'")
        }
        hiddenStateIndex = hiddenIndex
        attentionLayerIndex = attentionIndex
        let D = config.hiddenSize, P = config.patchSize, C = config.numChannels
        let S = config.numPatches + 1

        classEmbedding = try store.tensor(prefix + "embeddings.class_embedding").vector(D)
        positionEmbedding = try store.tensor(prefix + "embeddings.position_embedding.weight", shape: [S, D]).floats().data
        // The stride-P convolution without bias is a matrix product over unfolded patches, so the
        // [D, C, P, P] kernel is viewed as [D, C·P·P] in place.
        let conv = try store.tensor(prefix + "embeddings.patch_embedding.weight", shape: [D, C, P, P])
        let convMatrix = try StoredTensor(name: conv.name, dtype: conv.dtype, shape: [D, C * P * P], file: conv.file, offset: conv.offset)
        patchEmbedding = try Linear(weight: convMatrix, bias: nil, out: D, in: C * P * P, mode: mode)
        preNormW = try store.tensor(prefix + "pre_layrnorm.weight").vector(D)
        preNormB = try store.tensor(prefix + "pre_layrnorm.bias").vector(D)

        let needed = max(hiddenIndex, attentionIndex + 1)
        var layers: [CLIPLayer] = []
        for i in 0..<needed {
            let p = prefix + "encoder.layers.\(i)."
            let I = config.intermediateSize
            layers.append(CLIPLayer(
                norm1W: try store.tensor(p + "layer_norm1.weight").vector(D),
                norm1B: try store.tensor(p + "layer_norm1.bias").vector(D),
                norm2W: try store.tensor(p + "layer_norm2.weight").vector(D),
                norm2B: try store.tensor(p + "layer_norm2.bias").vector(D),
                q: try Linear(store, p + "self_attn.q_proj", out: D, in: D, bias: true, mode: mode),
                k: try Linear(store, p + "self_attn.k_proj", out: D, in: D, bias: true, mode: mode),
                v: try Linear(store, p + "self_attn.v_proj", out: D, in: D, bias: true, mode: mode),
                out: try Linear(store, p + "self_attn.out_proj", out: D, in: D, bias: true, mode: mode),
                fc1: try Linear(store, p + "mlp.fc1", out: I, in: D, bias: true, mode: mode),
                fc2: try Linear(store, p + "mlp.fc2", out: D, in: I, bias: true, mode: mode)))
        }
        self.layers = layers
    }

    /// Number of visual tokens `encode` returns (patches, plus [CLS] for `cls_patch`).
    public var tokenCount: Int { config.numPatches + (selectFeature == "patch" ? 0 : 1) }

    /// Encodes one preprocessed image `[3, image_size, image_size]`.
    ///
    /// Returns the select-layer features `[N, D]` and that layer's attention from [CLS] to the
    /// same N tokens, per head `[H, N]` (N = 576 patches for `patch`).
    public func encode(pixels: Tensor) throws -> (features: Tensor, clsAttention: Tensor) {
        let D = config.hiddenSize, P = config.patchSize, C = config.numChannels
        let side = config.imageSize, grid = config.patchesPerSide
        let Np = config.numPatches, S = Np + 1
        let H = config.numAttentionHeads, hd = config.headDim, I = config.intermediateSize
        guard pixels.shape == [C, side, side] else {
            throw ModelError("vision tower expects pixels of shape [\(C), \(side), \(side)], got \(pixels.shape)")
        }
        guard pixels.data.allSatisfy({ $0.isFinite }) else { throw ModelError("pixel tensor contains NaN or infinity") }

        // Unfold into [Np, C·P·P] rows ordered (channel, ky, kx) like the kernel.
        let K = C * P * P
        let patches = Buffer(count: Np * K)
        pixels.data.withUnsafeBufferPointer { px in
            for py in 0..<grid {
                for pxi in 0..<grid {
                    let row = patches.pointer + (py * grid + pxi) * K
                    var j = 0
                    for c in 0..<C {
                        for ky in 0..<P {
                            let src = px.baseAddress! + (c * side + py * P + ky) * side + pxi * P
                            for kx in 0..<P { row[j] = src[kx]; j += 1 }
                        }
                    }
                }
            }
        }

        let h = Buffer(count: S * D)
        patchEmbedding.forward(patches.pointer, rows: Np, into: h.pointer + D, scratch: scratch)
        for i in 0..<D { h.pointer[i] = classEmbedding[i] }
        positionEmbedding.withUnsafeBufferPointer { Kernels.add($0.baseAddress!, into: h.pointer, count: S * D, threads: Kernels.threads) }
        preNormW.withUnsafeBufferPointer { w in
            preNormB.withUnsafeBufferPointer { b in
                Kernels.layerNorm(h.pointer, gamma: w.baseAddress!, beta: b.baseAddress!, into: h.pointer, rows: S, n: D, eps: config.layerNormEps, threads: Kernels.threads)
            }
        }

        let keepCLS = selectFeature != "patch"
        let firstToken = keepCLS ? 0 : 1
        let N = S - firstToken
        var features: Tensor? = hiddenStateIndex == 0 ? Self.rows(h, from: firstToken, count: N, width: D) : nil
        var attention = Tensor(zeros: [H, N])

        let x = Buffer(count: S * D), q = Buffer(count: S * D), k = Buffer(count: S * D), v = Buffer(count: S * D)
        // Per part: the S × S scores, then the products' scratch.
        let matmulScratch = Kernels.matmulScratchFloats(rows: S, inner: max(S, hd), threads: 1)
        let perPart = S * S + matmulScratch
        let ctx = Buffer(count: S * D), scratchBuffer = Buffer(count: HeadParallelAttention.parts * perPart)
        let mlp = Buffer(count: S * I)
        let scale = 1 / Float(hd).squareRoot()
        for (li, layer) in layers.enumerated() {
            x.pointer.update(from: h.pointer, count: S * D)
            layer.norm1W.withUnsafeBufferPointer { w in
                layer.norm1B.withUnsafeBufferPointer { b in
                    Kernels.layerNorm(x.pointer, gamma: w.baseAddress!, beta: b.baseAddress!, into: x.pointer, rows: S, n: D, eps: config.layerNormEps, threads: Kernels.threads)
                }
            }
            layer.q.forward(x.pointer, rows: S, into: q.pointer, scratch: scratch)
            layer.k.forward(x.pointer, rows: S, into: k.pointer, scratch: scratch)
            layer.v.forward(x.pointer, rows: S, into: v.pointer, scratch: scratch)
            Buffer.scale(q.pointer, count: S * D, by: scale)
            let recordAttention = li == attentionLayerIndex
            attention.data.withUnsafeMutableBufferPointer { att in
                let attBase = att.baseAddress!
                HeadParallelAttention.perHead(heads: H, scratchPerPart: perPart, scratch: scratchBuffer) { head, sp in
                    let qv = MatrixView(base: q.pointer + head * hd, rows: S, cols: hd, rowStride: D)
                    let kv = MatrixView(base: k.pointer + head * hd, rows: S, cols: hd, rowStride: D)
                    let vv = MatrixView(base: v.pointer + head * hd, rows: S, cols: hd, rowStride: D)
                    let sv = MatrixView(base: sp, rows: S, cols: S)
                    let work = sp + S * S
                    Kernels.matmul(qv, kv, transposedB: true, into: sv, scratch: work)
                    Kernels.softmax(sp, rows: S, n: S, stride: S, threads: 1)
                    if recordAttention {
                        (attBase + head * N).update(from: sp + firstToken, count: N)
                    }
                    Kernels.matmul(sv, vv, transposedB: false,
                                   into: MatrixView(base: ctx.pointer + head * hd, rows: S, cols: hd, rowStride: D),
                                   scratch: work)
                }
            }
            layer.out.forward(ctx.pointer, rows: S, into: x.pointer, scratch: scratch)
            Kernels.add(x.pointer, into: h.pointer, count: S * D, threads: Kernels.threads)

            x.pointer.update(from: h.pointer, count: S * D)
            layer.norm2W.withUnsafeBufferPointer { w in
                layer.norm2B.withUnsafeBufferPointer { b in
                    Kernels.layerNorm(x.pointer, gamma: w.baseAddress!, beta: b.baseAddress!, into: x.pointer, rows: S, n: D, eps: config.layerNormEps, threads: Kernels.threads)
                }
            }
            layer.fc1.forward(x.pointer, rows: S, into: mlp.pointer, scratch: scratch)
            if config.hiddenAct == "quick_gelu" { Kernels.quickGELU(mlp.pointer, count: S * I, threads: Kernels.threads) } else { Kernels.gelu(mlp.pointer, count: S * I, threads: Kernels.threads) }
            layer.fc2.forward(mlp.pointer, rows: S, into: x.pointer, scratch: scratch)
            Kernels.add(x.pointer, into: h.pointer, count: S * D, threads: Kernels.threads)
            if li + 1 == hiddenStateIndex { features = Self.rows(h, from: firstToken, count: N, width: D) }
        }
        guard let features else { throw ModelError("internal: select layer \(selectLayer) was not reached") }
        return (features, attention)
    }

    static func rows(_ b: Buffer, from: Int, count: Int, width: Int) -> Tensor {
        Tensor(shape: [count, width], data: Array(UnsafeBufferPointer(start: b.pointer + from * width, count: count * width)))
    }
}
