/// One named metric value (percentages are stored as the official script prints them, e.g. 78.52).
public struct Metric: Equatable, Sendable, Codable {
    public var name: String
    public var value: Double
    public init(_ name: String, _ value: Double) { self.name = name; self.value = value }

    /// Name under which a run's headline metric (the one papers report) is stored beside the others.
    public static let headlineName = "headline"

    /// The value as score output prints it: a count (see `ScoreReport.counts`) with an integer value as an
    /// integer ("correct=33", not "33.00"), other values with two decimals (four below 1).
    public func formatted(asCount: Bool) -> String {
        if value.isNaN { return "nan" }
        if asCount, value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: abs(value) < 1 && value != 0 ? "%.4f" : "%.2f", value)
    }
}

/// What a scorer produced for one answers set.
public struct ScoreReport: Equatable, Sendable {
    public var benchmark: String
    /// Metrics in display order; names are stable keys (e.g. "accuracy", "f1.adversarial", "perception").
    public var metrics: [Metric]
    /// The metric that stands for this benchmark in summary tables (as in the paper).
    public var headline: String
    /// Warnings worth showing (missing/extra ids, unparsable lines).
    public var notes: [String]
    /// The resampling units the metrics follow from (for intervals), where the scorer gives them.
    public var units: UnitScores?
    /// Names of the metrics that are counts (answers, tp, correct, ...), printed as integers.
    public var counts: Set<String> = []

    public init(benchmark: String, metrics: [Metric], headline: String, notes: [String] = [], units: UnitScores? = nil) {
        self.benchmark = benchmark
        self.metrics = metrics
        self.headline = headline
        self.notes = notes
        self.units = units
    }

    public subscript(name: String) -> Double? { metrics.first { $0.name == name }?.value }
    public var headlineValue: Double? { self[headline] }
}

