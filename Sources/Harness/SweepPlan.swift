import Benchmarks
import Foundation
import Records
import Store
import Yams
import Records

/// A sweep: models × datasets × methods × token budgets × ratios, plus the unpruned baseline once
/// per model × dataset. Read from flags or a sweep file (JSON, or YAML by extension .yaml/.yml):
///
/// ```yaml
/// models: [checkpoints/llava-v1.5-7b]
/// datasets: [gqa, pope]
/// methods: [vispruner]
/// tokens: [64, 128, 192]
/// ratios: [0.5]
/// baseline: true        # default true
/// seed: 0               # optional
/// max_new_tokens: 128   # optional; default: each benchmark's own
/// limit: 100            # optional; first N items of each benchmark
/// images: reference      # optional; reference (default) or rgb (see RunSettings.images)
/// ```
public struct SweepSpec: Codable, Equatable, Sendable {
    public var models: [String]
    public var datasets: [String]
    public var methods: [String]
    public var tokens: [Int]
    public var ratios: [Double]
    public var baseline: Bool
    public var seed: UInt64
    public var maxNewTokens: Int?
    public var limit: Int?
    public var images: ImageOpening

    public init(models: [String], datasets: [String], methods: [String] = ["vispruner"], tokens: [Int] = [],
                ratios: [Double] = [0.5], baseline: Bool = true, seed: UInt64 = 0, maxNewTokens: Int? = nil,
                limit: Int? = nil, images: ImageOpening = .reference) {
        self.models = models
        self.datasets = datasets
        self.methods = methods
        self.tokens = tokens
        self.ratios = ratios
        self.baseline = baseline
        self.seed = seed
        self.maxNewTokens = maxNewTokens
        self.limit = limit
        self.images = images
    }

    enum CodingKeys: String, CodingKey {
        case models, datasets, methods, tokens, ratios, baseline, seed, limit, images
        case maxNewTokens = "max_new_tokens"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        models = try c.decode([String].self, forKey: .models)
        datasets = try c.decode([String].self, forKey: .datasets)
        methods = try c.decodeIfPresent([String].self, forKey: .methods) ?? ["vispruner"]
        tokens = try c.decodeIfPresent([Int].self, forKey: .tokens) ?? []
        ratios = try c.decodeIfPresent([Double].self, forKey: .ratios) ?? [0.5]
        baseline = try c.decodeIfPresent(Bool.self, forKey: .baseline) ?? true
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0
        maxNewTokens = try c.decodeIfPresent(Int.self, forKey: .maxNewTokens)
        limit = try c.decodeIfPresent(Int.self, forKey: .limit)
        images = try c.decodeIfPresent(ImageOpening.self, forKey: .images) ?? .reference
    }

    /// Largest sweep file read, to bound memory on a wrong path.
    public static let maxFileBytes = 1 << 20

    /// Reads a sweep file; YAML for `.yaml`/`.yml`, JSON otherwise.
    public static func load(_ url: URL) throws -> SweepSpec {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw HarnessError("\(url.path): cannot read sweep file: \(error.localizedDescription)")
        }
        guard data.count <= maxFileBytes else {
            throw HarnessError("\(url.path): sweep file is \(data.count) bytes; the limit is \(maxFileBytes)")
        }
        let yaml = ["yaml", "yml"].contains(url.pathExtension.lowercased())
        return try parse(data, yaml: yaml, file: url.path)
    }

    /// The keys a sweep file may have.
    public static let keys = ["models", "datasets", "methods", "tokens", "ratios", "baseline", "seed", "max_new_tokens", "limit",
                              "images"]

    /// Top-level keys of a sweep file that are not sweep keys, each with the key it most likely means.
    static func unknownKeys(_ data: Data, yaml: Bool) -> [String] {
        let object: Any?
        if yaml {
            object = String(data: data, encoding: .utf8).flatMap { try? Yams.load(yaml: $0) }
        } else {
            object = try? JSONSerialization.jsonObject(with: data)
        }
        guard let dict = object as? [String: Any] else { return [] }
        return dict.keys.filter { !keys.contains($0) }.sorted().map { key in
            let hint = DatasetRegistry.suggestion(for: key, among: keys).map { " (did you mean '\($0)'?)" } ?? ""
            return "unknown key '\(key)'\(hint); the keys are \(keys.joined(separator: ", "))"
        }
    }

    /// Parses sweep text (JSON or YAML). Unknown keys and every invalid value are reported together.
    public static func parse(_ data: Data, yaml: Bool, file: String = "<sweep>") throws -> SweepSpec {
        let unknown = unknownKeys(data, yaml: yaml)
        if !unknown.isEmpty { throw HarnessError(unknown.map { "\(file): \($0)" }.joined(separator: "\n")) }
        let spec: SweepSpec
        do {
            if yaml {
                guard let text = String(data: data, encoding: .utf8) else { throw HarnessError("not UTF-8 text") }
                spec = try YAMLDecoder().decode(SweepSpec.self, from: text)
            } else {
                spec = try JSONDecoder().decode(SweepSpec.self, from: data)
            }
        } catch let e as HarnessError {
            throw HarnessError("\(file): \(e.message)")
        } catch let e as DecodingError {
            throw HarnessError("\(file): \(describe(e))")
        } catch {
            throw HarnessError("\(file): not valid \(yaml ? "YAML" : "JSON"): \(error)")
        }
        try spec.validate(file: file)
        return spec
    }

    /// Checks the grid makes sense; errors name `file` (the sweep file, or "command line"), all of them.
    public func validate(file: String) throws {
        let found = problems(file: file)
        if !found.isEmpty { throw HarnessError(found.joined(separator: "\n")) }
    }

    /// Every problem of the grid's values, one line each.
    public func problems(file: String) -> [String] {
        var p: [String] = []
        if models.isEmpty { p.append("\(file): 'models' is empty") }
        if datasets.isEmpty { p.append("\(file): 'datasets' is empty") }
        for t in tokens where t <= 0 { p.append("\(file): token budget \(t) must be positive") }
        for r in ratios where !(r >= 0 && r <= 1) { p.append("\(file): ratio \(r) must be in [0, 1]") }
        if let l = limit, l < 0 { p.append("\(file): 'limit' must not be negative") }
        for m in methods where m != Pruning.unprunedName && SelectionMethod(rawValue: m) == nil {
            let hint = DatasetRegistry.suggestion(for: m, among: SelectionMethod.allCases.map(\.rawValue)).map { "did you mean '\($0)'? " } ?? ""
            p.append("\(file): unknown method '\(m)' (\(hint)known: \(Pruning.names))")
        }
        let pruned = methods.filter { $0 != Pruning.unprunedName }
        if !pruned.isEmpty && tokens.isEmpty {
            p.append("\(file): methods \(pruned) need at least one token budget in 'tokens'")
        }
        return p
    }

    private static func describe(_ e: DecodingError) -> String {
        func path(_ c: [CodingKey]) -> String { c.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".") }
        switch e {
        case .keyNotFound(let k, let ctx): return "missing field '\(path(ctx.codingPath + [k]))'"
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx), .dataCorrupted(let ctx):
            return "field '\(path(ctx.codingPath))': \(ctx.debugDescription)"
        @unknown default: return "\(e)"
        }
    }
}

/// One cell of a sweep, before the model is loaded (so without its fingerprint).
public struct SweepJob: Hashable, Sendable, CustomStringConvertible {
    /// Model directory as given.
    public var model: String
    public var dataset: String
    public var settings: RunSettings

    public var description: String { "\(URL(fileURLWithPath: model).lastPathComponent) \(dataset) \(settings.label)" }
}

/// The expanded grid, in run order: per model, per dataset, the baseline first, then methods ×
/// tokens × ratios. Duplicates (e.g. a "none" method listed next to `baseline: true`) appear once.
public struct SweepPlan: Sendable {
    public let spec: SweepSpec
    public let jobs: [SweepJob]

    /// Expands a sweep after validating it (`SweepSpec.validate`).
    public init(_ spec: SweepSpec, file: String = "sweep") throws {
        try spec.validate(file: file)
        self.spec = spec
        var seen = Set<SweepJob>()
        var jobs: [SweepJob] = []
        func add(_ j: SweepJob) { if seen.insert(j).inserted { jobs.append(j) } }
        for model in spec.models {
            for dataset in spec.datasets {
                let baseline = SweepJob(model: model, dataset: dataset,
                                        settings: .unpruned(seed: spec.seed, maxNewTokens: spec.maxNewTokens, images: spec.images))
                if spec.baseline { add(baseline) }
                for method in spec.methods {
                    if method == Pruning.unprunedName {
                        add(baseline)
                        continue
                    }
                    for t in spec.tokens {
                        for r in spec.ratios {
                            let pruning = try Pruning(method: method, tokens: t, ratio: r)
                            add(SweepJob(model: model, dataset: dataset,
                                         settings: RunSettings(pruning: pruning, seed: spec.seed, maxNewTokens: spec.maxNewTokens,
                                                               images: spec.images)))
                        }
                    }
                }
            }
        }
        self.jobs = jobs
    }

    /// A job's state against a results database.
    public enum JobState: Equatable, Sendable {
        /// No run yet.
        case todo
        /// A run exists with some items; it will be resumed.
        case partial(done: Int, expected: Int?)
        /// A complete run exists; the job is skipped.
        case finished(RunID)
    }

    /// Classifies jobs (already turned into configs by the caller, who knows each model's
    /// fingerprint and each dataset's split) against `store`.
    public static func states(of configs: [RunConfig], in store: ResultsStore) throws -> [JobState] {
        try configs.map { config in
            guard let run = try store.run(key: config.key) else { return .todo }
            if run.status == .complete && run.isComplete { return .finished(run.id) }
            return .partial(done: run.doneItems, expected: run.expectedItems)
        }
    }
}
