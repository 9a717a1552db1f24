import Checkpoint
import Dispatch
import Foundation
import Tensor

/// LLaVA-1.5: CLIP vision tower → (pruning, by the caller) → projector → LLaMA decoder with the
/// visual tokens spliced in where `input_ids` holds -200, greedy decoding.
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
                    if i + 1 < projector.count { Ops.gelu(y.baseAddress!, count: n * layer.outFeatures) }
                }
            }
            current = next
        }
        return Tensor(shape: [n, config.hiddenSize], data: current)
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
        public func truncate(to length: Int) { cache.length = min(max(0, length), cache.length) }
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
            try decoder.forward($0.baseAddress!, rows: rows, cache: session.cache, logits: logits)
        }
        return logits ? Tensor(shape: [config.vocabSize], data: out) : nil
    }

    /// Greedy decoding: argmax (ties → lowest id, as torch.argmax) until `eosID` or `maxNewTokens`.
    /// Returns only the new ids; timings cover prefill and decode.
    public func generate(inputIDs: [Int], imageEmbeddings: [Tensor], maxNewTokens: Int, eosID: Int) throws -> GenerationOutput {
        guard maxNewTokens >= 1 && maxNewTokens <= 1 << 16 else {
            throw ModelError("maxNewTokens \(maxNewTokens) is outside 1...65536")
        }
        let embeds = try splice(inputIDs: inputIDs, imageEmbeddings: imageEmbeddings)
        let L = embeds.shape[0]
        let cache = decoder.makeCache(capacity: L + maxNewTokens)
        var timings = StageTimings()
        var t0 = DispatchTime.now()
        var logits = try embeds.data.withUnsafeBufferPointer { try decoder.forward($0.baseAddress!, rows: L, cache: cache) }
        timings.prefill = Self.ms(since: t0)
        let first = Tensor(shape: [config.vocabSize], data: logits)
        t0 = DispatchTime.now()
        var tokens: [Int] = []
        var minMargin = Float.infinity
        let row = Buffer(count: config.hiddenSize)
        while true {
            let (next, margin) = logits.withUnsafeBufferPointer { Ops.argmax($0.baseAddress!, count: $0.count) }
            minMargin = min(minMargin, margin)
            tokens.append(next)
            if next == eosID || tokens.count >= maxNewTokens { break }
            decoder.embed([next], into: row.pointer)
            logits = try decoder.forward(row.pointer, rows: 1, cache: cache)
        }
        timings.decode = Self.ms(since: t0)
        let visual = imageEmbeddings.reduce(0) { $0 + $1.shape[0] }
        return GenerationOutput(tokens: tokens, inputsEmbedsLength: L, visualTokens: visual, firstLogits: first,
                                minStepMargin: minMargin, timings: timings)
    }

    /// The whole LLaVA-1.5 path for one preprocessed image: vision tower, `select` (given the
    /// tower output, returns the kept patch indices, or nil to keep all), projector, generation.
    /// Kept indices are sorted so visual tokens enter in their original spatial order.
    public func generate(inputIDs: [Int], pixels: Tensor, maxNewTokens: Int, eosID: Int,
                         select: (VisionOutput) throws -> [Int]?) throws -> GenerationOutput {
        let visionOut = try encode(pixels: pixels)
        var t0 = DispatchTime.now()
        let kept = try select(visionOut)?.sorted()
        let features = try kept.map { try Self.select(visionOut.features, rows: $0) } ?? visionOut.features
        let pruneMs = Self.ms(since: t0)
        t0 = DispatchTime.now()
        let embeddings = try project(features)
        let projectorMs = Self.ms(since: t0)
        var out = try generate(inputIDs: inputIDs, imageEmbeddings: [embeddings], maxNewTokens: maxNewTokens, eosID: eosID)
        out.timings.vision = visionOut.milliseconds
        out.timings.prune = pruneMs
        out.timings.projector = projectorMs
        return out
    }

    /// Runs the tower on every view and `select` on its output; kept indices sorted (nil keeps all).
    private func encodeViews(_ views: [Tensor], select: (_ view: Int, VisionOutput) throws -> [Int]?) throws
        -> (features: [Tensor], kept: [[Int]], visionMs: Double, pruneMs: Double) {
        var visionMs = 0.0, pruneMs = 0.0
        var features: [Tensor] = []
        var kept: [[Int]] = []
        for (v, pixels) in views.enumerated() {
            let out = try encode(pixels: pixels)
            visionMs += out.milliseconds
            let t0 = DispatchTime.now()
            kept.append(try select(v, out)?.sorted() ?? Array(0..<out.features.shape[0]))
            pruneMs += Self.ms(since: t0)
            features.append(out.features)
        }
        return (features, kept, visionMs, pruneMs)
    }

    /// The LLaVA-1.6 path as VisPruner runs it: `views` are the preprocessed base image followed by
    /// the `gridRows`×`gridCols` crops ([3, S, S] each); `select` is called once per view (nil keeps
    /// all); kept tokens are fed base first, then the crops merged spatially (see `AnyresLayout`).
    public func generateAnyres(inputIDs: [Int], views: [Tensor], gridRows: Int, gridCols: Int,
                               maxNewTokens: Int, eosID: Int,
                               select: (_ view: Int, VisionOutput) throws -> [Int]?) throws -> GenerationOutput {
        guard views.count == 1 + gridRows * gridCols else {
            throw ModelError("anyres: expected \(1 + gridRows * gridCols) views, got \(views.count)")
        }
        var (features, kept, visionMs, pruneMs) = try encodeViews(views, select: select)
        var t0 = DispatchTime.now()
        let gathered = try AnyresLayout.gather(features: features, keptPerView: kept, gridRows: gridRows, gridCols: gridCols)
        pruneMs += Self.ms(since: t0)
        t0 = DispatchTime.now()
        let embeddings = try project(gathered)
        let projectorMs = Self.ms(since: t0)
        var out = try generate(inputIDs: inputIDs, imageEmbeddings: [embeddings], maxNewTokens: maxNewTokens, eosID: eosID)
        out.timings.vision = visionMs
        out.timings.prune = pruneMs
        out.timings.projector = projectorMs
        return out
    }

    /// Stock LLaVA-1.6 feeding (`spatial_unpad` with `image_newline`; see `StockAnyresLayout`) for an image
    /// of `imageWidth` × `imageHeight` pixels; otherwise as `generateAnyres`.
    public func generateAnyresStock(inputIDs: [Int], views: [Tensor], gridRows: Int, gridCols: Int,
                                    imageWidth: Int, imageHeight: Int, maxNewTokens: Int, eosID: Int,
                                    select: (_ view: Int, VisionOutput) throws -> [Int]?) throws -> GenerationOutput {
        guard let newline = imageNewline else {
            throw ModelError("stock anyres feeding needs model.image_newline, which this checkpoint lacks")
        }
        guard views.count == 1 + gridRows * gridCols else {
            throw ModelError("anyres: expected \(1 + gridRows * gridCols) views, got \(views.count)")
        }
        var (features, kept, visionMs, pruneMs) = try encodeViews(views, select: select)
        let n = features[0].shape[0], dv = features[0].shape[1]
        let side = Int(Double(n).squareRoot())
        let order = try StockAnyresLayout.feedOrder(keptPerView: kept, gridRows: gridRows, gridCols: gridCols,
                                                    patchesPerSide: side, imageWidth: imageWidth, imageHeight: imageHeight)
        var t0 = DispatchTime.now()
        var rows: [Float] = []
        for case let .patch(v, p) in order { rows += features[v].data[(p * dv)..<((p + 1) * dv)] }
        let patches = rows.count / dv
        let projected = try project(Tensor(shape: [patches, dv], data: rows))
        let projectorMs = Self.ms(since: t0)
        t0 = DispatchTime.now()
        let D = config.hiddenSize
        var embeds: [Float] = []
        embeds.reserveCapacity(order.count * D)
        var next = 0
        for entry in order {
            switch entry {
            case .patch:
                embeds += projected.data[(next * D)..<((next + 1) * D)]
                next += 1
            case .newline:
                embeds += newline
            }
        }
        pruneMs += Self.ms(since: t0)
        var out = try generate(inputIDs: inputIDs, imageEmbeddings: [Tensor(shape: [order.count, D], data: embeds)],
                               maxNewTokens: maxNewTokens, eosID: eosID)
        out.timings.vision = visionMs
        out.timings.prune = pruneMs
        out.timings.projector = projectorMs
        return out
    }

    static func ms(since t0: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - t0.uptimeNanoseconds) / 1e6
    }
}
