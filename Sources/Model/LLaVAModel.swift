import Checkpoint
import Dispatch
import Foundation
import Records
import Tensor
import Records

/// The weights of LLaVA and the operation of each stage on them: CLIP vision tower, multimodal projector,
/// LLaMA decoder with the visual tokens spliced in where `input_ids` holds -200, greedy decoding.
/// `Stages` runs them in order.
///
/// Not thread-safe: one model instance serves one request at a time (it reuses scratch buffers).
public final class LLaVAModel {
    /// The `input_ids` value marking where an image's embeddings go (LLaVA's IMAGE_TOKEN_INDEX).
    public static let imageTokenIndex = -200

    public let config: LLaVAConfig
    public let vision: CLIPVisionTower
    public let mode: WeightMode
    public let precision: ComputePrecision
    let projector: [Linear]
    /// LLaVA-1.6's learned row terminator (stock `spatial_unpad` feeding only), when the checkpoint has one.
    let imageNewline: [Float]?
    let decoder: LlamaDecoder
    let scratch = PanelScratch()

    /// Opens a LLaVA-1.5 safetensors folder; the vision tower comes from `visionTower` when given,
    /// else from `mm_vision_tower` (see `VisionTowerLocator`).
    public convenience init(directory: URL, visionTower: URL? = nil, mode: WeightMode = .default,
                            precision: ComputePrecision = .float32) throws {
        let config = try LLaVAConfig.load(directory: directory)
        let store = try WeightStore(directory: directory)
        guard let towerName = config.mmVisionTower ?? visionTower?.path else {
            throw CheckpointError("\(directory.path)/config.json: mm_vision_tower is missing and no vision tower was given")
        }
        let towerURL = try VisionTowerLocator.resolve(towerName, modelDirectory: directory, override: visionTower)
        let towerConfig = try CLIPVisionConfig.load(directory: towerURL)
        let towerStore = try WeightStore(directory: towerURL)
        try self.init(config: config, store: store, visionConfig: towerConfig, visionStore: towerStore, mode: mode,
                      precision: precision)
    }

    /// Builds the model from opened weights (lets callers supply other checkpoint formats).
    /// `precision` applies to the projector and the language model; the vision tower always runs
    /// in float32 so the [CLS] attention, and with it the kept tokens, do not depend on it.
    public init(config: LLaVAConfig, store: WeightStore, visionConfig: CLIPVisionConfig, visionStore: WeightStore,
                mode: WeightMode = .default, precision: ComputePrecision = .float32) throws {
        guard visionConfig.hiddenSize == config.mmHiddenSize else {
            throw CheckpointError("mm_hidden_size \(config.mmHiddenSize) differs from the vision tower's hidden_size \(visionConfig.hiddenSize)")
        }
        self.config = config
        self.mode = mode
        self.precision = precision
        vision = try CLIPVisionTower(store: visionStore, config: visionConfig, selectLayer: config.mmVisionSelectLayer,
                                     selectFeature: config.mmVisionSelectFeature, mode: mode)
        let D = config.hiddenSize
        switch config.projectorType {
        case .linear?:
            projector = [try Linear(store, "model.mm_projector", out: D, in: config.mmHiddenSize, bias: true, mode: mode,
                                 precision: precision)]
        case .mlpGELU(let depth)?:
            projector = try (0..<depth).map { i in
                try Linear(store, "model.mm_projector.\(2 * i)", out: D, in: i == 0 ? config.mmHiddenSize : D, bias: true,
                           mode: mode, precision: precision)
            }
        case nil:
            throw CheckpointError("unsupported mm_projector_type '\(config.mmProjectorTypeName)'")
        }
        decoder = try LlamaDecoder(store: store, config: config, mode: mode, precision: precision, scratch: scratch)
        if store.contains("model.image_newline") {
            let t = try store.tensor("model.image_newline")
            guard t.shape == [D] else {
                throw CheckpointError("\(store.source): tensor model.image_newline has shape \(t.shape), expected [\(D)]")
            }
            imageNewline = t.floats().data
        } else {
            imageNewline = nil
        }
    }

    // MARK: Stages

    /// Runs the vision tower on one preprocessed image [3, S, S].
    public func encode(pixels: Tensor) throws -> VisionOutput {
        let t0 = DispatchTime.now()
        let (f, a) = try vision.encode(pixels: pixels)
        return VisionOutput(features: f, clsAttention: a, milliseconds: Self.ms(since: t0))
    }

    /// Rows `kept` of `features` in the given order (VisPruner feeds them in original, ascending order).
    public static func select(_ features: Tensor, rows kept: [Int]) throws -> Tensor {
        guard features.rank == 2 else { throw ModelError("features must be [N, D], got \(features.shape)") }
        let (n, d) = (features.shape[0], features.shape[1])
        var out = [Float](); out.reserveCapacity(kept.count * d)
        for k in kept {
            guard k >= 0 && k < n else { throw ModelError("kept index \(k) is outside 0..<\(n)") }
            out += features.data[(k * d)..<((k + 1) * d)]
        }
        return Tensor(shape: [kept.count, d], data: out)
    }

    /// The multimodal projector on visual features: [n, mm_hidden] → [n, hidden].
    public func project(_ features: Tensor) throws -> Tensor {
        guard features.rank == 2, features.shape[1] == config.mmHiddenSize else {
            throw ModelError("projector expects [n, \(config.mmHiddenSize)] features, got \(features.shape)")
        }
        let n = features.shape[0]
        // Pruning may keep nothing; there is nothing to project then.
        if n == 0 { return Tensor(zeros: [0, config.hiddenSize]) }
        var current = features.data
        for (i, layer) in projector.enumerated() {
            var next = [Float](repeating: 0, count: n * layer.outFeatures)
            current.withUnsafeBufferPointer { x in
                next.withUnsafeMutableBufferPointer { y in
                    layer.forward(x.baseAddress!, rows: n, into: y.baseAddress!, scratch: scratch)
                    if i + 1 < projector.count { Kernels.gelu(y.baseAddress!, count: n * layer.outFeatures, threads: Kernels.threads) }
                }
            }
            current = next
        }
        return Tensor(shape: [n, config.hiddenSize], data: current)
    }

    /// The visual sequence: the patch rows `order` names, projected in that order, with the learned
    /// `image_newline` where the order has a newline (stock LLaVA-1.6). [order.count, hidden].
    public func projectVisual(_ order: [VisualToken], features: [Tensor]) throws -> Tensor {
        var rows: [Float] = []
        var newlines = 0
        for token in order {
            switch token {
            case .patch(let v, let p):
                guard v >= 0 && v < features.count, features[v].rank == 2 else {
                    throw ModelError("visual token of view \(v): there are \(features.count) views")
                }
                let (n, d) = (features[v].shape[0], features[v].shape[1])
                guard p >= 0 && p < n else { throw ModelError("kept index \(p) is outside 0..<\(n)") }
                rows += features[v].data[(p * d)..<((p + 1) * d)]
            case .newline:
                newlines += 1
            }
        }
        let dv = features.first?.shape.last ?? config.mmHiddenSize
        let projected = try project(Tensor(shape: [rows.count / max(dv, 1), dv], data: rows))
        guard newlines > 0 else { return projected }
        guard let newline = imageNewline else {
            throw ModelError("stock anyres feeding needs model.image_newline, which this checkpoint lacks")
        }
        let D = config.hiddenSize
        var embeds: [Float] = []
        embeds.reserveCapacity(order.count * D)
        var next = 0
        for token in order {
            if case .patch = token {
                embeds += projected.data[(next * D)..<((next + 1) * D)]
                next += 1
            } else {
                embeds += newline
            }
        }
        return Tensor(shape: [order.count, D], data: embeds)
    }

    /// Token embeddings with each image's embeddings spliced in at its -200 marker, truncated to
    /// `tokenizer_model_max_length` (LLaVA's prepare_inputs_labels_for_multimodal). [L, hidden].
    public func splice(inputIDs: [Int], imageEmbeddings: [Tensor]) throws -> Tensor {
        let D = config.hiddenSize, V = config.vocabSize
        let markers = inputIDs.filter { $0 == Self.imageTokenIndex }.count
        guard markers == imageEmbeddings.count else {
            throw ModelError("input_ids hold \(markers) image markers (-200) but \(imageEmbeddings.count) image embeddings were given")
        }
        for (i, e) in imageEmbeddings.enumerated() {
            guard e.rank == 2, e.shape[1] == D else {
                throw ModelError("image embeddings \(i) must be [n, \(D)], got \(e.shape)")
            }
        }
        var length = 0
        for id in inputIDs where id != Self.imageTokenIndex {
            guard id >= 0 && id < V else { throw ModelError("token id \(id) is outside the vocabulary 0..<\(V)") }
            length += 1
        }
        length += imageEmbeddings.reduce(0) { $0 + $1.shape[0] }
        guard length > 0 else { throw ModelError("empty input sequence") }
        var out = [Float](repeating: 0, count: length * D)
        var row = 0, image = 0
        out.withUnsafeMutableBufferPointer { buf in
            let base = buf.baseAddress!
            var pending: [Int] = []
            func flush() {
                decoder.embed(pending, into: base + row * D)
                row += pending.count
                pending.removeAll(keepingCapacity: true)
            }
            for id in inputIDs {
                if id == Self.imageTokenIndex {
                    flush()
                    let e = imageEmbeddings[image]
                    if e.count > 0 {
                        e.data.withUnsafeBufferPointer { (base + row * D).update(from: $0.baseAddress!, count: e.count) }
                    }
                    row += e.shape[0]
                    image += 1
                } else {
                    pending.append(id)
                }
            }
            flush()
        }
        if let maxLength = config.tokenizerModelMaxLength, length > maxLength {
            out.removeLast((length - maxLength) * D)
            length = maxLength
        }
        return Tensor(shape: [length, D], data: out)
    }

    // MARK: Decoding

    /// Logits for the token after the prompt, [vocab].
    public func nextTokenLogits(inputIDs: [Int], imageEmbeddings: [Tensor]) throws -> Tensor {
        let embeds = try splice(inputIDs: inputIDs, imageEmbeddings: imageEmbeddings)
        let cache = decoder.makeCache(capacity: embeds.shape[0])
        let logits = try embeds.data.withUnsafeBufferPointer { try decoder.forward($0.baseAddress!, rows: embeds.shape[0], cache: cache) }
        return Tensor(shape: [config.vocabSize], data: logits)
    }

    /// A key/value cache of the language model, for driving the decoder step by step (benchmarks,
    /// custom decoding loops). Sessions belong to the model that made them.
    public final class DecoderSession {
        let cache: KVCache
        init(_ cache: KVCache) { self.cache = cache }
        /// Positions processed so far.
        public var length: Int { cache.length }
        /// Positions the cache can hold.
        public var capacity: Int { cache.capacity }
        /// Forgets every position from `length` on (their keys and values are overwritten next).
        public func truncate(to length: Int) { cache.length = min(max(cache.base, length), cache.length) }
    }

    /// A fresh decoder cache for up to `capacity` positions.
    public func makeDecoderSession(capacity: Int) throws -> DecoderSession {
        guard capacity > 0 && capacity <= 1 << 20 else { throw ModelError("decoder capacity \(capacity) is outside 1...1048576") }
        return DecoderSession(decoder.makeCache(capacity: capacity))
    }

    /// Runs input embeddings `[rows, hidden]` through every decoder layer at the session's next
    /// positions. Returns the next-token logits `[vocab]` of the last row, or nil with
    /// `logits: false` (then the final norm and the LM head are skipped).
    @discardableResult
    public func runDecoder(embeddings: Tensor, session: DecoderSession, logits: Bool = true) throws -> Tensor? {
        guard embeddings.shape.count == 2, embeddings.shape[1] == config.hiddenSize, embeddings.shape[0] > 0 else {
            throw ModelError("decoder input must be [rows, \(config.hiddenSize)], got \(embeddings.shape)")
        }
        let rows = embeddings.shape[0]
        let out = try embeddings.data.withUnsafeBufferPointer {
            // One row is a decode step (streaming kernel), more are prompt rows, as in `prefill`/`decodeGreedy`.
            try decoder.forward($0.baseAddress!, rows: rows, cache: session.cache, logits: logits,
                                kernel: rows == 1 ? .streaming : .rowInvariant)
        }
        return logits ? Tensor(shape: [config.vocabSize], data: out) : nil
    }

    /// The decoder state after the prompt: its cache (room for `reserving` more positions) and the
    /// next-token logits.
    public struct Prefilled {
        let cache: KVCache
        public let logits: Tensor
    }

    /// Runs the spliced prompt `[L, hidden]` through the decoder.
    public func prefill(_ embeds: Tensor, reserving maxNewTokens: Int) throws -> Prefilled {
        guard maxNewTokens >= 1 && maxNewTokens <= 1 << 16 else {
            throw ModelError("maxNewTokens \(maxNewTokens) is outside 1...65536")
        }
        let L = embeds.shape[0]
        let cache = decoder.makeCache(capacity: L + maxNewTokens)
        let logits = try embeds.data.withUnsafeBufferPointer { try decoder.forward($0.baseAddress!, rows: L, cache: cache) }
        return Prefilled(cache: cache, logits: Tensor(shape: [config.vocabSize], data: logits))
    }

    /// Greedy decoding from a prefilled prompt: argmax (ties → lowest id, as torch.argmax) until `eosID`
    /// or `maxNewTokens`. Returns the new ids and the smallest best-vs-second logit gap over the steps.
    public func decodeGreedy(_ start: Prefilled, maxNewTokens: Int, eosID: Int) throws -> (tokens: [Int], minStepMargin: Float) {
        var logits = start.logits.data
        var tokens: [Int] = []
        var minMargin = Float.infinity
        let row = Buffer(count: config.hiddenSize)
        while true {
            let (next, margin) = logits.withUnsafeBufferPointer { Buffer.argmax($0.baseAddress!, count: $0.count) }
            minMargin = min(minMargin, margin)
            tokens.append(next)
            if next == eosID || tokens.count >= maxNewTokens { break }
            decoder.embed([next], into: row.pointer)
            logits = try decoder.forward(row.pointer, rows: 1, cache: start.cache, kernel: .streaming)
        }
        return (tokens, minMargin)
    }

    /// splice → prefill → greedy decoding for ready image embeddings (one per -200 marker).
    /// Returns only the new ids; timings cover prefill and decode.
    public func generate(inputIDs: [Int], imageEmbeddings: [Tensor], maxNewTokens: Int, eosID: Int) throws -> GenerationOutput {
        var clock = StageClock()
        let embeds = try clock.time(\.prefill) { try splice(inputIDs: inputIDs, imageEmbeddings: imageEmbeddings) }
        let prefilled = try clock.time(\.prefill) { try prefill(embeds, reserving: maxNewTokens) }
        let decoded = try clock.time(\.decode) { try decodeGreedy(prefilled, maxNewTokens: maxNewTokens, eosID: eosID) }
        var timings = clock.timings
        timings.total = timings.stagesSum
        return GenerationOutput(tokens: decoded.tokens, inputsEmbedsLength: embeds.shape[0],
                                visualTokens: imageEmbeddings.reduce(0) { $0 + $1.shape[0] }, firstLogits: prefilled.logits,
                                minStepMargin: decoded.minStepMargin, timings: timings)
    }

    static func ms(since t0: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - t0.uptimeNanoseconds) / 1e6
    }
}
