/// Wall-clock time per stage of answering one item, in milliseconds: what the engine measures, what
/// the store keeps (`<stage>_ms` columns) and what latency tables show. Stages an item did not run stay 0.
public struct StageTimings: Equatable, Sendable, Codable {
    /// Opening the checkpoint: counted on the first item an engine answers after loading, 0 on the rest,
    /// so the column sums to the load time a run paid.
    public var load: Double
    public var preprocess: Double
    public var vision: Double
    public var prune: Double
    public var projector: Double
    public var prefill: Double
    public var decode: Double
    /// The whole item (the stages' sum when the engine reports it; else the harness's own clock).
    public var total: Double

    /// Stage names as used in column names (`<name>_ms`) and tables, in pipeline order.
    public static let stageNames = ["load", "preprocess", "vision", "prune", "projector", "prefill", "decode", "total"]

    public init(load: Double = 0, preprocess: Double = 0, vision: Double = 0, prune: Double = 0, projector: Double = 0,
                prefill: Double = 0, decode: Double = 0, total: Double = 0) {
        self.load = load
        self.preprocess = preprocess
        self.vision = vision
        self.prune = prune
        self.projector = projector
        self.prefill = prefill
        self.decode = decode
        self.total = total
    }

    /// Sum of the stages after loading (what `total` is when the engine fills it).
    public var stagesSum: Double { preprocess + vision + prune + projector + prefill + decode }

    /// The value of a stage by name (see `stageNames`).
    public subscript(stage: String) -> Double? {
        switch stage {
        case "load": return load
        case "preprocess": return preprocess
        case "vision": return vision
        case "prune": return prune
        case "projector": return projector
        case "prefill": return prefill
        case "decode": return decode
        case "total": return total
        default: return nil
        }
    }

    public var dictionary: [String: Double] {
        Dictionary(uniqueKeysWithValues: Self.stageNames.map { ($0, self[$0]!) })
    }
}
