import Records

/// One benchmark score of one configuration, the unit every report is built from.
public struct ResultRow: Equatable, Sendable {
    public var model: String
    public var dataset: String
    /// Selection method; `nil` tokens means the unpruned model (all visual tokens).
    public var method: String
    public var tokens: Int?
    public var ratio: Double?
    /// The headline metric's value as the official script reports it (e.g. 78.5 for 78.5%).
    public var value: Double
    /// Every stored metric of the run, by name (the headline also under `Metric.headlineName`).
    public var metrics: [String: Double]
    /// The run answered part of the benchmark only (`--limit`): shown marked, never as the benchmark's score.
    public var subset: Bool
    /// How many items the score is over (nil: not known), shown beside it so a reader can judge a difference.
    public var items: Int?
    /// The resampling units the metrics follow from (nil: not stored), for intervals.
    public var units: UnitScores?
    /// The run opened images without converting them to RGB (`RunSettings.opensImagesUnconverted`).
    public var imagesUnconverted = false
    /// Items whose selection margin is below `SelectionMargin.nearTie`, of the items whose selection ranked
    /// anything (nil: the method ranks nothing, or margins were not stored).
    public var nearTies: (count: Int, of: Int)?

    public static func == (a: ResultRow, b: ResultRow) -> Bool {
        a.model == b.model && a.dataset == b.dataset && a.method == b.method && a.tokens == b.tokens && a.ratio == b.ratio
            && a.value == b.value && a.metrics == b.metrics && a.subset == b.subset && a.items == b.items && a.units == b.units
            && a.imagesUnconverted == b.imagesUnconverted && a.nearTies?.count == b.nearTies?.count && a.nearTies?.of == b.nearTies?.of
    }

    public init(model: String, dataset: String, method: String, tokens: Int?, ratio: Double?, value: Double,
                metrics: [String: Double]? = nil, subset: Bool = false, items: Int? = nil, units: UnitScores? = nil) {
        self.model = model
        self.dataset = dataset
        self.method = method
        self.tokens = tokens
        self.ratio = ratio
        self.value = value
        self.metrics = metrics ?? ["headline": value]
        self.subset = subset
        self.items = items
        self.units = units
    }

    public var isUnpruned: Bool { tokens == nil }
}

/// Per-item timings and token counts of one configuration, for latency tables.
public struct LatencySample: Equatable, Sendable {
    public var model: String
    public var method: String
    public var tokens: Int?
    public var ratio: Double?
    /// Milliseconds per stage (preprocess, vision, prune, prefill, decode, total, ...).
    public var stages: [String: Double]
    public var generatedTokens: Int
    /// The item's analytic FLOPs and KV-cache size (`.zero`: not recorded).
    public var cost: ItemCost
    /// Peak resident memory of the run the item belongs to (nil: not recorded).
    public var runPeakRSSBytes: Int64?

    public init(model: String, method: String, tokens: Int?, ratio: Double?, stages: [String: Double], generatedTokens: Int,
                cost: ItemCost = .zero, runPeakRSSBytes: Int64? = nil) {
        self.model = model
        self.method = method
        self.tokens = tokens
        self.ratio = ratio
        self.stages = stages
        self.generatedTokens = generatedTokens
        self.cost = cost
        self.runPeakRSSBytes = runPeakRSSBytes
    }
}
