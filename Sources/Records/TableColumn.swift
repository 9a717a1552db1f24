/// One score column of a report table, in the units papers print: a stored metric times `scale`
/// (100 for fractions such as POPE's F1), or the sum of several metrics (MME's total).
public struct TableColumn: Equatable, Sendable {
    public var title: String
    /// The stored metric shown (`Metric.headlineName` for a benchmark's headline).
    public var metric: String
    public var scale: Double
    /// When non-empty, the column is the sum of these metrics instead of `metric`.
    public var sumOf: [String]
    /// What a figure's y axis says the value is, with its unit (e.g. "Accuracy (%)"); nil: the title.
    public var axisLabel: String?

    public init(_ title: String, metric: String, scale: Double = 1, sumOf: [String] = [], axisLabel: String? = nil) {
        self.title = title
        self.metric = metric
        self.scale = scale
        self.sumOf = sumOf
        self.axisLabel = axisLabel
    }

    /// The column's value for a run's stored metrics, nil when a metric it needs is absent.
    public func value(_ metrics: [String: Double]) -> Double? {
        if !sumOf.isEmpty {
            let parts = sumOf.compactMap { metrics[$0] }
            return parts.count == sumOf.count ? parts.reduce(0, +) * scale : nil
        }
        return metrics[metric].map { $0 * scale }
    }
}

/// A benchmark's columns in report tables.
public struct BenchmarkColumns: Equatable, Sendable {
    public var dataset: String
    public var columns: [TableColumn]
    /// The column that stands for the benchmark in the "% of unpruned" average and in plots.
    public var headline: TableColumn
    /// The benchmark's reference script opens images unconverted (ScienceQA): runs with `--images rgb` are a
    /// different measurement and get columns of their own.
    public var opensImagesUnconverted = false

    public init(dataset: String, columns: [TableColumn], headline: TableColumn) {
        self.dataset = dataset
        self.columns = columns
        self.headline = headline
    }

    /// A benchmark the layout does not describe: its headline metric as stored, under its name.
    /// These columns for the benchmark's runs on images converted to RGB (`--images rgb`), under their own key.
    public var convertedVariant: BenchmarkColumns {
        func retitle(_ c: TableColumn) -> TableColumn { var c = c; c.title += " (RGB images)"; return c }
        return BenchmarkColumns(dataset: Self.convertedKey(dataset), columns: columns.map(retitle), headline: retitle(headline))
    }

    /// The table key of a benchmark's runs on images converted to RGB.
    public static func convertedKey(_ dataset: String) -> String { dataset + "+rgb" }

    public static func plain(_ dataset: String) -> BenchmarkColumns {
        let c = TableColumn(dataset, metric: Metric.headlineName)
        return BenchmarkColumns(dataset: dataset, columns: [c], headline: c)
    }
}
