import Benchmark
import Dispatch
import Foundation
import Imaging
import Model
import RandomCheckpoints
import Records
import Tensor

/// One pipeline over a random real-width 7B checkpoint, the sets' images, and the files the
/// benchmarks leave behind (totals, stage sums, generated ids, id comparisons).
final class ReuseHarness {
    let pipeline: LLaVAPipeline
    let layers: Int
    let out: URL

    private static var loaded: [Int: ReuseHarness] = [:]

    static func shared(layers: Int = 1) throws -> ReuseHarness {
        if let h = loaded[layers] { return h }
        let h = try ReuseHarness(layers: layers)
        loaded[layers] = h
        return h
    }

    private init(layers: Int) throws {
        self.layers = layers
        let paths = try BenchmarkModels.llava7B(layers: layers)
        pipeline = try LLaVAPipeline(modelDirectory: paths.model, visionTower: paths.tower)
        let env = ProcessInfo.processInfo.environment["VISPRUNER_REUSE_OUT"] ?? ""
        out = URL(fileURLWithPath: env.isEmpty ? NSTemporaryDirectory() + "vispruner-reuse-bench" : env)
        for sub in ["images", "ids", "checks"] {
            try FileManager.default.createDirectory(at: out.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        // Fault the decoder's and LM head's mapped pages in before anything is timed, as a long
        // evaluation would have them (the tower's 0.6 GB fault in on the first image of either path).
        let session = try pipeline.model.makeDecoderSession(capacity: 4)
        _ = try pipeline.model.runDecoder(embeddings: BenchmarkModels.embeddings(rows: 4, width: pipeline.model.config.hiddenSize),
                                          session: session, logits: true)
    }

    /// A 640×480 JPEG of smoothed noise, different for every name (the feature memo is keyed by the
    /// image bytes, so two names must never share a file's content).
    func image(_ name: String) throws -> URL {
        let url = out.appendingPathComponent("images/\(name).jpg")
        if FileManager.default.fileExists(atPath: url.path) { return url }
        let w = 640, h = 480
        let seed = name.utf8.reduce(UInt64(1469598103934665603)) { ($0 ^ UInt64($1)) &* 1099511628211 }
        let coarse = BenchmarkModels.noise(3 * (w / 8 + 1) * (h / 8 + 1), seed: seed)
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 {
                    let v = coarse[((y / 8) * (w / 8 + 1) + x / 8) * 3 + c]
                    pixels[(y * w + x) * 3 + c] = UInt8(max(0, min(255, 128 + 100 * v + Float((x ^ y) & 15))))
                }
            }
        }
        try JPEGEncoder.encode(pixels: pixels, width: w, height: h, layout: .rgb, quality: 90).write(to: url)
        return url
    }

    /// Starts the clock on a cold feature memo, so every benchmark pays for its own images' towers.
    func startMeasurement(_ benchmark: Benchmark) {
        pipeline.featureMemo = FeatureMemo(maxBytes: FeatureMemo.defaultMaxBytes)
        benchmark.startMeasurement()
    }

    // MARK: the two paths

    /// FNV-1a over the bit patterns of the next-token logits: with the generated ids it makes the
    /// reuse/no-reuse comparison a bit-for-bit one on the real-shape model, not only a token one.
    func logitBits(_ logits: Tensor) -> Int {
        var h: UInt64 = 0xcbf29ce484222325
        for v in logits.data { h = (h ^ UInt64(v.bitPattern)) &* 0x100000001b3 }
        return Int(truncatingIfNeeded: h >> 1)
    }

    /// `--no-reuse`: `run` for every image × setting × question.
    func plain(set: String, items: [(image: URL, questions: [String])], settings: [RunSettings]) throws {
        var record = SetRecord(set: set, mode: "noreuse", variant: "all", layers: layers, items: items, settings: settings)
        var ids: [String: [Int]] = [:]
        let t0 = DispatchTime.now()
        for (image, questions) in items {
            for setting in settings {
                for (q, question) in questions.enumerated() {
                    let s0 = DispatchTime.now()
                    let r = try pipeline.run(PipelineRequest(imageURL: image, question: question, settings: setting))
                    record.add(ReuseSets.label(setting), r.timings, wall: milliseconds(since: s0), tokens: r.generatedIDs.count)
                    ids[key(image, setting, q)] = r.generatedIDs + [logitBits(r.firstLogits)]
                }
            }
        }
        record.wallMilliseconds = milliseconds(since: t0)
        try finish(record, ids: ids)
    }

    /// Reuse: `runGrid` once per image with all `settings`.
    func grid(set: String, variant: String, items: [(image: URL, questions: [String])], settings: [RunSettings]) throws {
        var record = SetRecord(set: set, mode: "reuse", variant: variant, layers: layers, items: items, settings: settings)
        var ids: [String: [Int]] = [:]
        let t0 = DispatchTime.now()
        for (image, questions) in items {
            let results = pipeline.runGrid(ImageGridRequest(imageURL: image, questions: questions, settings: settings))
            for (s, setting) in settings.enumerated() {
                for (q, result) in results[s].enumerated() {
                    let r = try result.get()
                    record.add(ReuseSets.label(setting), r.timings, wall: nil, tokens: r.generatedIDs.count)
                    ids[key(image, setting, q)] = r.generatedIDs + [logitBits(r.firstLogits)]
                }
            }
        }
        record.wallMilliseconds = milliseconds(since: t0)
        try finish(record, ids: ids)
    }

    // MARK: batched decode

    /// The decode benchmarks' image, its tower features and the system prompt's prefix computed
    /// before the clock starts (the memo survives `startMeasurement` only here, by design of
    /// `decode`: it re-inserts the entry).
    func prepareDecode() throws -> URL {
        let url = try image("decode-0")
        var warm = ReuseSets.vispruner64
        warm.maxNewTokens = 1
        _ = try pipeline.runGrid(ImageGridRequest(imageURL: url, questions: [ReuseSets.gqaQuestions[0]], settings: [warm]))[0][0].get()
        decodeMemo = pipeline.featureMemo
        return url
    }
    private var decodeMemo: FeatureMemo?

    /// B questions about one image decoded together for `ReuseSets.decodeTokens` tokens; the first
    /// token comes from the prefill, so the decoder runs `decodeTokens - 1` steps of B rows.
    func decode(image: URL, batch: Int) throws {
        if let memo = decodeMemo { pipeline.featureMemo = memo }
        var setting = ReuseSets.vispruner64
        setting.maxNewTokens = ReuseSets.decodeTokens
        let questions = Array(ReuseSets.gqaQuestions.prefix(batch))
        let t0 = DispatchTime.now()
        let results = try pipeline.runGrid(ImageGridRequest(imageURL: image, questions: questions, settings: [setting], batch: batch))[0]
            .map { try $0.get() }
        let wall = milliseconds(since: t0)
        // Each item carries its share (1/B) of the one batched decode loop.
        let decodeMs = results.reduce(0) { $0 + $1.timings.decode }
        let steps = ReuseSets.decodeTokens - 1
        let fullLength = results.allSatisfy { $0.generatedIDs.count == ReuseSets.decodeTokens }
        let line: [String: Any] = [
            "name": "decode B=\(batch) layers=\(layers)", "set": "decode", "batch": batch, "layers": layers, "steps": steps,
            "wall_ms": wall, "decode_ms": decodeMs, "ms_per_step": decodeMs / Double(steps),
            "tokens_per_s": Double(batch * steps) / (decodeMs / 1000), "cached_positions": results[0].inputsEmbedsLength,
            "all_full_length": fullLength,
        ]
        try append(line)
        FileHandle.standardError.write(Data("decode B=\(batch) (\(layers) layer(s)): \(String(format: "%.1f", decodeMs / Double(steps))) ms/step, \(String(format: "%.1f", Double(batch * steps) / (decodeMs / 1000))) tokens/s\n".utf8))
    }

    // MARK: records

    private func key(_ image: URL, _ setting: RunSettings, _ q: Int) -> String {
        "\(image.deletingPathExtension().lastPathComponent)|\(ReuseSets.label(setting))|\(q)"
    }

    private func milliseconds(since t0: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - t0.uptimeNanoseconds) / 1e6
    }

    private func append(_ line: [String: Any]) throws {
        let url = out.appendingPathComponent("results.jsonl")
        var data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
        data.append(0x0A)
        if let handle = FileHandle(forWritingAtPath: url.path) {
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: data)
        } else {
            try data.write(to: url)
        }
    }

    private func finish(_ record: SetRecord, ids: [String: [Int]]) throws {
        try append(record.json)
        try JSONSerialization.data(withJSONObject: ids, options: [.sortedKeys])
            .write(to: out.appendingPathComponent("ids/\(record.set)-\(record.mode)-\(record.variant).json"))
        try compareIDs(set: record.set)
        FileHandle.standardError.write(Data("\(record.set) \(record.mode) \(record.variant): \(String(format: "%.1f", record.wallMilliseconds / 1000)) s over \(record.itemCount) items\n".utf8))
    }

    /// Compares every reuse file of `set` with its no-reuse file, key by key, once both exist.
    private func compareIDs(set: String) throws {
        let dir = out.appendingPathComponent("ids")
        let plainURL = dir.appendingPathComponent("\(set)-noreuse-all.json")
        guard let plainData = try? Data(contentsOf: plainURL),
              let plain = try JSONSerialization.jsonObject(with: plainData) as? [String: [Int]] else { return }
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.path) where file.hasPrefix("\(set)-reuse-") {
            guard let reuse = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent(file))) as? [String: [Int]]
            else { continue }
            let common = reuse.keys.filter { plain[$0] != nil }.sorted()
            let different = common.filter { plain[$0] != reuse[$0] }
            let check: [String: Any] = [
                "set": set, "reuse": file, "compared": common.count, "identical": common.count - different.count,
                "different": different, "missing": reuse.count - common.count,
            ]
            try JSONSerialization.data(withJSONObject: check, options: [.sortedKeys, .prettyPrinted])
                .write(to: out.appendingPathComponent("checks/\(file)"))
            let verdict = different.isEmpty && common.count == reuse.count ? "identical" : "DIFFERENT: \(different.prefix(5))"
            FileHandle.standardError.write(Data("ids \(file) vs no-reuse: \(common.count) compared, \(verdict)\n".utf8))
        }
    }
}

/// A set's total and, per setting, the summed stage times the pipeline reported (reuse: amortised).
struct SetRecord {
    let set: String, mode: String, variant: String, layers: Int
    let images: Int, questionsPerImage: Int
    var wallMilliseconds = 0.0
    var itemCount = 0
    var perSetting: [String: (items: Int, wall: Double, tokens: Int, stages: StageTimings)] = [:]

    init(set: String, mode: String, variant: String, layers: Int, items: [(image: URL, questions: [String])],
         settings: [RunSettings]) {
        self.set = set
        self.mode = mode
        self.variant = variant
        self.layers = layers
        images = items.count
        questionsPerImage = items.map { $0.questions.count }.max() ?? 0
        for s in settings { perSetting[ReuseSets.label(s)] = (0, 0, 0, StageTimings()) }
    }

    mutating func add(_ setting: String, _ t: StageTimings, wall: Double?, tokens: Int) {
        itemCount += 1
        var entry = perSetting[setting]!
        entry.items += 1
        entry.wall += wall ?? 0
        entry.tokens += tokens
        for path in [\StageTimings.preprocess, \.vision, \.prune, \.projector, \.prefill, \.decode, \.total] {
            entry.stages[keyPath: path] += t[keyPath: path]
        }
        perSetting[setting] = entry
    }

    var json: [String: Any] {
        [
            "name": "\(set) \(mode) \(variant)", "set": set, "mode": mode, "variant": variant, "layers": layers,
            "images": images, "questions_per_image": questionsPerImage, "items": itemCount, "wall_ms": wallMilliseconds,
            "answer_tokens": ReuseSets.answerTokens,
            "per_setting": perSetting.mapValues { e -> [String: Any] in
                ["items": e.items, "wall_ms": e.wall, "tokens": e.tokens, "stages_ms": e.stages.dictionary]
            },
        ]
    }
}
