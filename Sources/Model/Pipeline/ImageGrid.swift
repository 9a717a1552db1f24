import Dispatch
import Foundation
import Imaging
import Pruning
import Records
import Tensor
import Tokenizer

/// Every question about one image under every setting of a grid, answered with each shared part computed
/// once: the image's tower features once (and kept in `FeatureMemo` for later calls), the system prompt's
/// keys and values once per model, each setting's [system prompt + visual tokens] prefix once; a question
/// then prefills only its own suffix on top of that prefix, and the questions decode together, `batch` at
/// a time (one pass over the weights per step for all of them).
///
/// The answers are bit for bit those of `LLaVAPipeline.run` for each (question, setting) alone: every
/// kernel that computes a prompt or decode row gives the same result whatever the other rows in the call
/// and however the keys are split into shared segments (see `LinearKernelChoice`, `ck_causal_attention`).
/// Times are amortised: a shared stage's time is divided among the items that share it.
public struct ImageGridRequest: Sendable {
    /// The image, or nil: text-only questions (answered one by one, nothing to share).
    public var imageURL: URL?
    /// The user messages after `<image>\n`, in order.
    public var questions: [String]
    /// The settings, in order; each answers every question.
    public var settings: [RunSettings]
    /// Sequences decoded together.
    public var batch: Int

    public init(imageURL: URL?, questions: [String], settings: [RunSettings], batch: Int = ImageGridRequest.defaultBatch) {
        self.imageURL = imageURL
        self.questions = questions
        self.settings = settings
        self.batch = batch
    }

    public static let defaultBatch = 8
}

/// The image's tower output per view and how its tokens are fed, kept between calls (an image asked
/// about again later, in another benchmark or run, is not encoded again). Bounded by bytes, least
/// recently used first out.
public final class FeatureMemo {
    public struct Entry {
        public var outputs: [VisionOutput]
        public var layout: VisualLayout
        /// The path an unconverted image took (nil: converted to RGB).
        public var imagePath: ImagePath? = nil
        var bytes: Int { outputs.reduce(0) { $0 + 4 * ($1.features.count + $1.clsAttention.count) } }
    }

    public let maxBytes: Int
    private var entries: [String: Entry] = [:]
    private var order: [String] = []
    public private(set) var bytes = 0
    public private(set) var hits = 0
    public private(set) var misses = 0

    public init(maxBytes: Int) { self.maxBytes = max(0, maxBytes) }

    /// 1 GiB: ~400 LLaVA-1.5 images or ~80 LLaVA-1.6 ones.
    public static let defaultMaxBytes = 1 << 30

    public func lookup(_ key: String) -> Entry? {
        guard let e = entries[key] else { misses += 1; return nil }
        hits += 1
        if let i = order.firstIndex(of: key) { order.remove(at: i) }
        order.append(key)
        return e
    }

    public func insert(_ key: String, _ entry: Entry) {
        guard entry.bytes <= maxBytes, entries[key] == nil else { return }
        entries[key] = entry
        order.append(key)
        bytes += entry.bytes
        while bytes > maxBytes, let oldest = order.first {
            order.removeFirst()
            bytes -= entries.removeValue(forKey: oldest)?.bytes ?? 0
        }
    }

    public var count: Int { entries.count }
}

extension LLaVAPipeline {
    /// Answers `request.questions` × `request.settings`; `results[s][q]` is question q under setting s.
    /// A failure of the image fails all its items; a failure of one setting fails only that setting's.
    public func runGrid(_ request: ImageGridRequest) -> [[Result<PipelineResult, Error>]] {
        let settings = request.settings, questions = request.questions
        guard let imageURL = request.imageURL else {
            return settings.map { s in questions.map { q in Result { try run(PipelineRequest(imageURL: nil, question: q, settings: s)) } } }
        }
        // Settings that open the image the same way share its features (in practice all of them).
        var byOpening: [Bool: Result<(FeatureMemo.Entry, StageTimings), Error>] = [:]
        for unconverted in Set(settings.map(\.opensImagesUnconverted)) {
            let sharing = Double(max(1, settings.filter { $0.opensImagesUnconverted == unconverted }.count * questions.count))
            var preprocessClock = StageClock(), visionClock = StageClock()
            byOpening[unconverted] = Result {
                let features = try visionClock.time(\.vision) {
                    try imageFeatures(imageURL, unconverted: unconverted, clock: &preprocessClock)
                }
                // The image's own stages (decode, preprocess, tower) are shared by every item that uses them.
                var shared = StageTimings()
                shared.preprocess = preprocessClock.timings.preprocess / sharing
                shared.vision = (visionClock.timings.vision - preprocessClock.timings.preprocess) / sharing
                return (features, shared)
            }
        }
        return settings.map { setting in
            switch byOpening[setting.opensImagesUnconverted]! {
            case .failure(let error): return questions.map { _ in .failure(error) }
            case .success(let (features, shared)):
                return answerSetting(features, questions: questions, settings: setting, batch: max(1, request.batch), shared: shared)
                    .map { $0.map { var r = $0; r.imagePath = features.imagePath; return r } }
            }
        }
    }

    /// The tower output of the image at `url`, from the memo or computed (decoding and preprocessing timed
    /// into `clock.preprocess`).
    func imageFeatures(_ url: URL, unconverted: Bool = false, clock: inout StageClock) throws -> FeatureMemo.Entry {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw ImagingError(.unreadable, "cannot read: \(error.localizedDescription)", path: url.path)
        }
        let digest = SHA256Digest.hex(data: data)
        // The same file opened unconverted may give other pixels: its features are kept apart.
        let key = unconverted ? digest + "|unconverted" : digest
        if let hit = featureMemo.lookup(key) { return hit }
        func decoded() throws -> DecodedImage {
            do { return try ImageDecoder.decodeDetailed(data: data) } catch let e as ImagingError { throw e.at(url.path) }
        }
        let mode = unconverted ? featureMode + "|unconverted" : featureMode
        let diskKey = try featureStore.map { _ in FeatureKey(imageDigest: digest, towerFingerprint: try towerFingerprint(), mode: mode) }
        if let featureStore, let diskKey, let outputs = featureStore.load(diskKey) {
            // The layout needs only the image's size (LLaVA-1.6), the path only its mode; decoding is cheap
            // next to the tower.
            let (layout, path) = try clock.time(\.preprocess) { () throws -> (VisualLayout, ImagePath?) in
                guard case .anyres = imageMode else {
                    return (.single, unconverted ? unconvertedPath(try decoded()) : nil)
                }
                let image = try decoded()
                return (try layoutOnly(image.image), unconverted ? unconvertedPath(image) : nil)
            }
            if layout.viewCount == outputs.count, outputs.allSatisfy({ $0.features.rank == 2 && $0.features.shape[1] == model.vision.config.hiddenSize }) {
                let entry = FeatureMemo.Entry(outputs: outputs, layout: layout, imagePath: path)
                featureMemo.insert(key, entry)
                return entry
            }
        }
        let (prepared, path) = try clock.time(\.preprocess) { try prepare(try decoded(), unconverted: unconverted) }
        let entry = FeatureMemo.Entry(outputs: try Stages.vision(model, views: prepared.views), layout: prepared.layout,
                                      imagePath: path)
        featureMemo.insert(key, entry)
        if let featureStore, let diskKey { try featureStore.store(diskKey, entry.outputs) }
        return entry
    }


    /// What the disk cache keys features by besides the image and the tower: how views are made and
    /// which layer's features the checkpoint takes.
    var featureMode: String {
        let views: String
        switch imageMode {
        case .pad: views = "pad"
        case .crop: views = "crop"
        case .anyres(let grid, let stock): views = "anyres-\(grid)-\(stock ? "stock" : "fixed")"
        }
        // The tower's arithmetic too: features computed with another summation order are recomputed, not reused.
        return "\(views)|layer \(model.config.mmVisionSelectLayer)|\(model.config.mmVisionSelectFeature)|\(preprocessor.config)"
            + "|numerics \(Numerics.arithmetic())"
    }

    /// One setting's answers to every question about the image.
    private func answerSetting(_ image: FeatureMemo.Entry, questions: [String], settings: RunSettings, batch: Int,
                               shared: StageTimings) -> [Result<PipelineResult, Error>] {
        if questions.count == 1 {
            return [Result { try plainAnswer(image, question: questions[0], settings: settings, shared: shared) }]
        }
        var results = [Result<PipelineResult, Error>?](repeating: nil, count: questions.count)
        let maxNew = settings.maxNewTokens ?? PipelineRequest.defaultMaxNewTokens
        let prompts = questions.map(PromptParts.init(question:))
        do {
            var clock = StageClock()
            let selector = PatchSelector(settings.pruning, seed: settings.seed)
            let selections = try clock.time(\.prune) { try Stages.select(image.outputs, selector: selector) }
            let order = try clock.time(\.prune) {
                try Stages.layout(image.layout, selections: selections, patchesPerSide: model.vision.config.patchesPerSide)
            }
            let visual = try clock.time(\.projector) { try model.projectVisual(order, features: image.outputs.map(\.features)) }
            let ids = prompts.map { ImageTokens.tokenize(prompt: $0.prompt, with: tokenizer) }

            // Questions that share the system prompt and fit the length limit reuse the prefix; any other
            // (a second image marker, a prompt past tokenizer_model_max_length) takes the plain path.
            var groups: [[Int]: [Int]] = [:]
            var groupOrder: [[Int]] = []
            var suffixes: [Int: [Int]] = [:]
            for (q, qids) in ids.enumerated() {
                guard let split = PromptParts.split(qids), !split.suffix.isEmpty,
                      model.config.tokenizerModelMaxLength.map({ split.prefix.count + visual.shape[0] + split.suffix.count <= $0 }) ?? true
                else {
                    results[q] = Result { try plainAnswer(image, question: questions[q], settings: settings, shared: shared) }
                    continue
                }
                if groups[split.prefix] == nil { groupOrder.append(split.prefix) }
                groups[split.prefix, default: []].append(q)
                suffixes[q] = split.suffix
            }
            let perSetting = clock.timings
            for prefixIDs in groupOrder {
                let members = groups[prefixIDs]!
                // A prefix nobody else shares is cheaper inside one prefill: splitting it makes every weight
                // matrix be packed twice (measured: one question per image ran 17% slower split).
                if members.count == 1 {
                    let q = members[0]
                    results[q] = Result { try plainAnswer(image, question: questions[q], settings: settings, shared: shared) }
                    continue
                }
                var prefixClock = StageClock()
                let prefix = try prefixClock.time(\.prefill) { try imagePrefix(prefixIDs, visual: visual) }
                var start = 0
                while start < members.count {
                    let chunk = Array(members[start ..< min(members.count, start + batch)])
                    start += chunk.count
                    let answered = try answerBatch(chunk.map { suffixes[$0]! }, prefix: prefix,
                                                   maxNewTokens: maxNew)
                    for (i, q) in chunk.enumerated() {
                        var t = shared
                        let n = Double(questions.count)
                        t.prune = perSetting.prune / n
                        t.projector = perSetting.projector / n
                        t.prefill = prefixClock.timings.prefill / Double(members.count) + answered.prefillMilliseconds / Double(chunk.count)
                        t.decode = answered.decodeMilliseconds / Double(chunk.count)
                        t.total = t.stagesSum
                        let tokens = answered.tokens[i]
                        results[q] = .success(PipelineResult(
                            prompt: prompts[q].prompt, inputIDs: ids[q], generatedIDs: tokens, text: tokenizer.decodeAnswer(tokens),
                            selections: selections, visualTokensFed: visual.shape[0],
                            inputsEmbedsLength: prefixIDs.count + visual.shape[0] + suffixes[q]!.count,
                            timings: t, firstLogits: answered.firstLogits[i]))
                    }
                }
            }
        } catch {
            for q in questions.indices where results[q] == nil { results[q] = .failure(error) }
        }
        return results.map { $0! }
    }

    /// The plain path for one question whose features are already computed.
    private func plainAnswer(_ image: FeatureMemo.Entry, question: String, settings: RunSettings, shared: StageTimings) throws
        -> PipelineResult {
        let prompt = PromptParts(question: question).prompt
        let inputIDs = ImageTokens.tokenize(prompt: prompt, with: tokenizer)
        var staged = try Stages.answer(model: model, inputIDs: inputIDs, outputs: image.outputs, layout: image.layout,
                                       selector: PatchSelector(settings.pruning, seed: settings.seed),
                                       maxNewTokens: settings.maxNewTokens ?? PipelineRequest.defaultMaxNewTokens,
                                       eosID: model.config.eosTokenID)
        staged.generation.timings.preprocess = shared.preprocess
        staged.generation.timings.vision = shared.vision
        staged.generation.timings.total = staged.generation.timings.stagesSum
        let out = staged.generation
        return PipelineResult(prompt: prompt, inputIDs: inputIDs, generatedIDs: out.tokens, text: tokenizer.decodeAnswer(out.tokens),
                              selections: staged.selections, visualTokensFed: out.visualTokens,
                              inputsEmbedsLength: out.inputsEmbedsLength, timings: out.timings, firstLogits: out.firstLogits)
    }

    /// The keys and values of [prompt ids before the image + visual tokens]: the system prompt part from
    /// the model's prefix memo (computed on first use), the visual part on top of it.
    func imagePrefix(_ prefixIDs: [Int], visual: Tensor) throws -> KVCache {
        let decoder = model.decoder
        let textPrefix: KVCache?
        if prefixIDs.isEmpty {
            textPrefix = nil
        } else if let memo = promptPrefixMemo[prefixIDs] {
            textPrefix = memo
        } else {
            let V = model.config.vocabSize
            guard prefixIDs.allSatisfy({ $0 >= 0 && $0 < V }) else { throw ModelError("token id outside the vocabulary 0..<\(V)") }
            let cache = decoder.makeCache(capacity: prefixIDs.count)
            let rows = Buffer(count: prefixIDs.count * model.config.hiddenSize)
            decoder.embed(prefixIDs, into: rows.pointer)
            _ = try decoder.forward(rows.pointer, rows: prefixIDs.count, cache: cache, logits: false, kernel: .rowInvariant)
            if promptPrefixMemo.count >= 8 { promptPrefixMemo.removeAll() }
            promptPrefixMemo[prefixIDs] = cache
            textPrefix = cache
        }
        let n = visual.shape[0]
        let cache = textPrefix.map { KVCache(extending: $0, rows: n) } ?? decoder.makeCache(capacity: n)
        guard n > 0 else { return cache }
        _ = try visual.data.withUnsafeBufferPointer {
            try decoder.forward($0.baseAddress!, rows: n, cache: cache, logits: false, kernel: .rowInvariant)
        }
        return cache
    }

    /// Prefills each suffix (prompt ids after the image) on its own cache over `prefix`, all in one
    /// pass, then decodes greedily together until each has its EOS or `maxNewTokens`.
    func answerBatch(_ suffixes: [[Int]], prefix: KVCache, maxNewTokens: Int) throws
        -> (tokens: [[Int]], firstLogits: [Tensor], prefillMilliseconds: Double, decodeMilliseconds: Double) {
        guard maxNewTokens >= 1 && maxNewTokens <= 1 << 16 else { throw ModelError("maxNewTokens \(maxNewTokens) is outside 1...65536") }
        let decoder = model.decoder, D = model.config.hiddenSize, V = model.config.vocabSize, eos = model.config.eosTokenID
        var clock = StageClock()
        for s in suffixes { guard s.allSatisfy({ $0 >= 0 && $0 < V }) else { throw ModelError("token id outside the vocabulary 0..<\(V)") } }
        let caches = suffixes.map { KVCache(extending: prefix, rows: $0.count + maxNewTokens) }
        var logits = try clock.time(\.prefill) { () throws -> [[Float]] in
            let rows = Buffer(count: suffixes.reduce(0) { $0 + $1.count } * D)
            var r = 0
            for s in suffixes { decoder.embed(s, into: rows.pointer + r * D); r += s.count }
            return try decoder.forward(rows.pointer, sequences: zip(caches, suffixes).map { ($0, $1.count) }, kernel: .rowInvariant)
        }
        let firstLogits = logits.map { Tensor(shape: [V], data: $0) }
        var tokens = [[Int]](repeating: [], count: suffixes.count)
        var active = Array(suffixes.indices)
        try clock.time(\.decode) {
            let row = Buffer(count: suffixes.count * D)
            while true {
                var still: [Int] = []
                for (slot, s) in active.enumerated() {
                    let next = logits[slot].withUnsafeBufferPointer { Buffer.argmax($0.baseAddress!, count: $0.count) }.0
                    tokens[s].append(next)
                    if next != eos && tokens[s].count < maxNewTokens { still.append(s) }
                }
                active = still
                if active.isEmpty { break }
                for (slot, s) in active.enumerated() { decoder.embed([tokens[s].last!], into: row.pointer + slot * D) }
                logits = try decoder.forward(row.pointer, sequences: active.map { (caches[$0], 1) }, kernel: .streaming)
            }
        }
        return (tokens, firstLogits, clock.timings.prefill, clock.timings.decode)
    }
}

/// A question's conversation prompt and where its ids split around the image.
struct PromptParts {
    let prompt: String

    init(question: String) {
        prompt = ConversationTemplate.vicunaV1.prompt(userMessage: ImageTokens.placeholder + "\n" + question)
    }

    /// The ids before and after the one image marker (nil unless there is exactly one).
    static func split(_ ids: [Int]) -> (prefix: [Int], suffix: [Int])? {
        let markers = ids.indices.filter { ids[$0] == LLaVAModel.imageTokenIndex }
        guard markers.count == 1 else { return nil }
        return (Array(ids[..<markers[0]]), Array(ids[(markers[0] + 1)...]))
    }
}
