import Foundation

/// The paper's table layout: rows = model × method × token budget (× ratio), columns = benchmarks,
/// last column = mean over benchmarks of the score relative to the unpruned model of the same model, in %.
public struct ScoreTable: Equatable, Sendable {
    public struct Row: Equatable, Sendable {
        public var model: String
        public var method: String
        public var tokens: Int?
        public var ratio: Double?
        /// Value per benchmark column (nil when that benchmark was not run for this row).
        public var values: [Double?]
        /// Mean of value/unpruned over the columns both have, × 100; nil without an unpruned reference.
        public var relative: Double?
    }

    public var benchmarks: [String]
    public var rows: [Row]

    /// Columns follow `columnOrder` (the registry's order, which is the paper's) for the names it lists,
    /// then the rest alphabetically.
    public init(_ results: [ResultRow], columnOrder: [String] = []) {
        var names = Set(results.map(\.dataset))
        var cols = columnOrder.filter { names.contains($0) }
        names.subtract(cols)
        cols += names.sorted()
        benchmarks = cols

        var grouped: [ConfigKey: [String: Double]] = [:]
        var order: [ConfigKey] = []
        for r in results {
            let k = ConfigKey(model: r.model, method: r.method, tokens: r.tokens, ratio: r.ratio)
            if grouped[k] == nil { order.append(k) }
            grouped[k, default: [:]][r.dataset] = r.value
        }
        order.sort()
        rows = order.map { k in
            let vals = cols.map { grouped[k]?[$0] }
            let base = grouped[ConfigKey(model: k.model, method: "unpruned", tokens: nil, ratio: nil)]
            var rel: Double? = nil
            if let base {
                let pairs = cols.compactMap { c -> Double? in
                    guard let v = grouped[k]?[c], let b = base[c], b != 0 else { return nil }
                    return v / b
                }
                if !pairs.isEmpty { rel = 100 * pairs.reduce(0, +) / Double(pairs.count) }
            }
            return Row(model: k.model, method: k.method, tokens: k.tokens, ratio: k.ratio, values: vals, relative: rel)
        }
    }

    static func fmt(_ v: Double?, digits: Int = 1) -> String {
        guard let v else { return "–" }
        return v.isNaN ? "nan" : String(format: "%.\(digits)f", v)
    }

    static func budget(_ t: Int?) -> String { t.map(String.init) ?? "all" }
    static func ratioText(_ r: Double?) -> String { r.map { String(format: "%g", $0) } ?? "–" }

    /// GitHub-flavoured Markdown.
    public func markdown() -> String {
        var lines: [String] = []
        let header = ["Model", "Method", "Tokens", "Ratio"] + benchmarks + ["Avg (% of unpruned)"]
        lines.append("| " + header.joined(separator: " | ") + " |")
        lines.append("|" + header.enumerated().map { $0.offset < 2 ? "---" : "---:" }.joined(separator: "|") + "|")
        for r in rows {
            let cells = [r.model, r.method, Self.budget(r.tokens), Self.ratioText(r.ratio)]
                + r.values.map { Self.fmt($0) } + [r.relative.map { Self.fmt($0) + "%" } ?? "–"]
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// RFC 4180 CSV with full precision values.
    public func csv() -> String {
        var lines = [(["model", "method", "tokens", "ratio"] + benchmarks + ["relative_percent"]).map(CSV.field).joined(separator: ",")]
        for r in rows {
            let cells = [r.model, r.method, r.tokens.map(String.init) ?? "", r.ratio.map { String($0) } ?? ""]
                + r.values.map { $0.map { String($0) } ?? "" } + [r.relative.map { String($0) } ?? ""]
            lines.append(cells.map(CSV.field).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

enum CSV {
    static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
