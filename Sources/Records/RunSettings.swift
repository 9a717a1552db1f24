/// What to run apart from the model and the benchmark: from flag parsing to the store key, one value.
public struct RunSettings: Hashable, Sendable {
    public var pruning: Pruning
    /// Seed for methods with randomness (part of every run key).
    public var seed: UInt64
    /// Decoding length; nil means the benchmark's own (128; ScienceQA 1024).
    public var maxNewTokens: Int?
    /// Further output-changing options, recorded in the run key.
    public var extra: [String: String]
    /// How image files are opened (`--images`): as each benchmark's reference script does, or always
    /// converted to RGB. It reaches the run key through `extra` only for benchmarks whose reference opens
    /// images unconverted (`resolvingImages`).
    public var images: ImageOpening

    public init(pruning: Pruning, seed: UInt64 = 0, maxNewTokens: Int? = nil, extra: [String: String] = [:],
                images: ImageOpening = .reference) {
        self.pruning = pruning
        self.seed = seed
        self.maxNewTokens = maxNewTokens
        self.extra = extra
        self.images = images
    }

    /// The unpruned baseline (every visual token fed).
    public static func unpruned(seed: UInt64 = 0, maxNewTokens: Int? = nil, images: ImageOpening = .reference) -> RunSettings {
        RunSettings(pruning: .unpruned, seed: seed, maxNewTokens: maxNewTokens, images: images)
    }

    /// The run config these settings give for a model and a benchmark split.
    public func config(modelID: String, fingerprint: String, dataset: String, split: String,
                       defaultMaxNewTokens: Int) -> RunConfig {
        RunConfig(modelID: modelID, checkpointFingerprint: fingerprint, dataset: dataset, split: split, pruning: pruning,
                  maxNewTokens: maxNewTokens ?? defaultMaxNewTokens, seed: seed, extra: extra)
    }

    /// A short human label, e.g. "vispruner t64 r0.5" or "none".
    public var label: String {
        switch pruning {
        case .unpruned: return pruning.methodName
        case .pruned(let m, let t, let r): return m.usesRatio ? "\(m.rawValue) t\(t) r\(r)" : "\(m.rawValue) t\(t)"
        }
    }
}
