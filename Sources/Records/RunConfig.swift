import Foundation

/// Everything that determines a run's outputs. Two invocations with equal configs are the same run,
/// so a second invocation resumes the first. Sharding (`--shard I/N`), `--limit` and where results
/// are written are deliberately not part of it: shards of one run must merge into one run.
public struct RunConfig: Codable, Hashable, Sendable {
    /// Model name as the reference writes it in `model_id` (checkpoint directory name, e.g. "llava-v1.5-7b").
    public var modelID: String
    /// Identifies the exact weights (e.g. a hash of the config and tensor index).
    public var checkpointFingerprint: String
    /// Benchmark registry key (vqav2, gqa, mme, textvqa, pope, scienceqa).
    public var dataset: String
    public var split: String
    /// How visual tokens are fed (method with its budget and ratio, or all of them).
    public var pruning: Pruning
    public var maxNewTokens: Int
    public var seed: UInt64
    /// Further output-changing options (e.g. conversation mode), by name.
    public var extra: [String: String]

    /// Method key of the unpruned baseline.
    public static let baselineMethod = Pruning.unprunedName

    public init(modelID: String, checkpointFingerprint: String, dataset: String, split: String,
                pruning: Pruning, maxNewTokens: Int, seed: UInt64 = 0, extra: [String: String] = [:]) {
        self.modelID = modelID
        self.checkpointFingerprint = checkpointFingerprint
        self.dataset = dataset
        self.split = split
        self.pruning = pruning
        self.maxNewTokens = maxNewTokens
        self.seed = seed
        self.extra = extra
    }

    /// Pruning method key as stored ("none" for the baseline).
    public var method: String { pruning.methodName }
    /// Visual-token budget; nil when every visual token is fed (baseline).
    public var tokens: Int? { pruning.tokens }
    /// VisPruner's important-token ratio as stored (0 for the baseline).
    public var ratio: Double { pruning.ratio }

    /// The settings part of the config (decoding length resolved).
    public var settings: RunSettings {
        RunSettings(pruning: pruning, seed: seed, maxNewTokens: maxNewTokens, extra: extra,
                    images: extra[ImageOpening.extraKey] == ImageOpening.unconvertedValue ? .reference : .rgb)
    }

    enum CodingKeys: String, CodingKey {
        case modelID = "model_id"
        case checkpointFingerprint = "checkpoint_fingerprint"
        case dataset, split, method, tokens
        case ratio = "important_ratio"
        case maxNewTokens = "max_new_tokens"
        case seed, extra
    }

    // Written by hand so that `tokens: null` is always present: the canonical text must not
    // depend on how an optional happens to be encoded.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(modelID, forKey: .modelID)
        try c.encode(checkpointFingerprint, forKey: .checkpointFingerprint)
        try c.encode(dataset, forKey: .dataset)
        try c.encode(split, forKey: .split)
        try c.encode(method, forKey: .method)
        if let tokens { try c.encode(tokens, forKey: .tokens) } else { try c.encodeNil(forKey: .tokens) }
        try c.encode(ratio, forKey: .ratio)
        try c.encode(maxNewTokens, forKey: .maxNewTokens)
        try c.encode(seed, forKey: .seed)
        try c.encode(extra, forKey: .extra)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        modelID = try c.decode(String.self, forKey: .modelID)
        checkpointFingerprint = try c.decode(String.self, forKey: .checkpointFingerprint)
        dataset = try c.decode(String.self, forKey: .dataset)
        split = try c.decode(String.self, forKey: .split)
        let method = try c.decode(String.self, forKey: .method)
        let tokens = try c.decodeIfPresent(Int.self, forKey: .tokens)
        let ratio = try c.decode(Double.self, forKey: .ratio)
        do { pruning = try Pruning(stored: method, tokens: tokens, ratio: ratio) } catch let e as RecordError {
            throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.method], debugDescription: e.message))
        }
        // The baseline is stored with tokens null and ratio 0; anything else would not re-encode to the same key.
        if pruning == .unpruned && (tokens != nil || ratio != 0) {
            throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.method],
                                                    debugDescription: "method none with tokens \(tokens.map(String.init) ?? "null") and ratio \(ratio)"))
        }
        maxNewTokens = try c.decode(Int.self, forKey: .maxNewTokens)
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0
        extra = try c.decodeIfPresent([String: String].self, forKey: .extra) ?? [:]
    }

    /// JSON with sorted keys and no insignificant whitespace: the text the run key is derived from.
    public var canonicalJSON: String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Non-finite ratios are spelled as strings so encoding cannot fail (JSONEncoder rejects NaN).
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        guard let data = try? enc.encode(self), let text = String(data: data, encoding: .utf8) else { return "{}" }
        return text
    }

    /// Stable identity of the run: SHA-256 (hex) of `canonicalJSON`.
    public var key: String { SHA256Digest.hex(canonicalJSON) }

    /// A short human label, e.g. "gqa vispruner t64 r0.5".
    public var label: String { "\(dataset) \(settings.label)" }

    /// A folder name that tells this run from every other one of its benchmark and model: method parameters,
    /// seed, decoding length, the engine variant the fingerprint records (precision, anyres feeding), extra
    /// options, and the start of the run key (which covers the rest, e.g. the weights).
    public var folderName: String {
        var parts = [settings.label.replacingOccurrences(of: " ", with: "-"), "seed\(seed)", "len\(maxNewTokens)"]
        parts += checkpointFingerprint.split(separator: "+").dropFirst().map(String.init)
        parts += extra.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        parts.append(String(key.prefix(10)))
        return Self.safeName(parts.joined(separator: "-"))
    }

    /// `text` with everything but letters, digits, `.`, `-`, `=` and `_` replaced by `_` (a safe path component).
    public static func safeName(_ text: String) -> String {
        let cleaned = String(text.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "=" || $0 == "_" ? $0 : "_" })
        return cleaned.isEmpty || cleaned.allSatisfy({ $0 == "." }) ? "_" : cleaned
    }

    /// Decodes a config stored as JSON text (e.g. the `config_json` column).
    public static func decode(json: String) throws -> RunConfig {
        let dec = JSONDecoder()
        dec.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try dec.decode(RunConfig.self, from: Data(json.utf8))
    }
}
