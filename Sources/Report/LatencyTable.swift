import Foundation
import Records

/// Per-stage latency per configuration: mean, p50 and p90 in ms, plus decode throughput, and what the
/// papers' efficiency tables report: analytic TFLOPs and KV-cache size per item, and peak memory.
public struct LatencyTable: Equatable, Sendable {
    public struct Stat: Equatable, Sendable { public var mean: Double; public var p50: Double; public var p90: Double }
    public struct Row: Equatable, Sendable {
        public var model: String
        public var method: String
        public var tokens: Int?
        public var ratio: Double?
        public var items: Int
        public var stages: [String: Stat]
        /// Generated tokens per second of decode time (nil when nothing was decoded).
        public var decodeTokensPerSecond: Double?
        /// Mean analytic cost of the items that recorded one (nil when none did: rows stored before
        /// costs were kept, or an engine that does not compute them).
        public var cost: CostStat? = nil
        /// The largest peak resident memory of the row's runs, in bytes (nil when none was recorded).
        public var peakRSSBytes: Int64? = nil
    }

    /// Per-item means of `ItemCost` over the items that have one.
    public struct CostStat: Equatable, Sendable {
        public var items: Int
        public var visionFLOPs: Double
        public var projectorFLOPs: Double
        public var prefillFLOPs: Double
        public var decodeFLOPs: Double
        public var kvCacheBytes: Double
        public var totalFLOPs: Double { visionFLOPs + projectorFLOPs + prefillFLOPs + decodeFLOPs }

        public init?(_ costs: [ItemCost]) {
            let recorded = costs.filter(\.isRecorded)
            guard !recorded.isEmpty else { return nil }
            func mean(_ f: (ItemCost) -> Int64) -> Double { recorded.reduce(0) { $0 + Double(f($1)) } / Double(recorded.count) }
            items = recorded.count
            visionFLOPs = mean(\.visionFLOPs)
            projectorFLOPs = mean(\.projectorFLOPs)
            prefillFLOPs = mean(\.prefillFLOPs)
            decodeFLOPs = mean(\.decodeFLOPs)
            kvCacheBytes = mean(\.kvCacheBytes)
        }
    }

    public static let stageOrder = StageTimings.stageNames.filter { $0 != "load" }
    public var stages: [String]
    public var rows: [Row]

    public init(_ samples: [LatencySample]) {
        var groups: [ConfigKey: [LatencySample]] = [:]
        var order: [ConfigKey] = []
        for s in samples {
            let k = ConfigKey(model: s.model, method: s.method, tokens: s.tokens, ratio: s.ratio)
            if groups[k] == nil { order.append(k) }
            groups[k, default: []].append(s)
        }
        let seen = Set(samples.flatMap { $0.stages.keys })
        stages = Self.stageOrder.filter(seen.contains) + seen.subtracting(Self.stageOrder).sorted()
        order.sort()
        let stageNames = stages
        rows = order.map { k in
            let g = groups[k] ?? []
            var stats: [String: Stat] = [:]
            for st in stageNames {
                let v = g.compactMap { $0.stages[st] }
                if !v.isEmpty { stats[st] = Self.stat(v) }
            }
            let decodeMs = g.compactMap { $0.stages["decode"] }.reduce(0, +)
            let toks = g.map(\.generatedTokens).reduce(0, +)
            return Row(model: k.model, method: k.method, tokens: k.tokens, ratio: k.ratio, items: g.count, stages: stats,
                       decodeTokensPerSecond: decodeMs > 0 ? Double(toks) / (decodeMs / 1000) : nil,
                       cost: CostStat(g.map(\.cost)), peakRSSBytes: g.compactMap(\.runPeakRSSBytes).max())
        }
    }

    /// Percentiles by linear interpolation between closest ranks (numpy's default).
    public static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let pos = p / 100 * Double(sorted.count - 1)
        let lo = Int(pos.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - Double(lo))
    }

    static func stat(_ v: [Double]) -> Stat {
        let s = v.sorted()
        return Stat(mean: s.reduce(0, +) / Double(s.count), p50: percentile(s, 50), p90: percentile(s, 90))
    }

    static let mib = 1024.0 * 1024.0

    /// Three significant digits: a tiny test model's FLOPs are millionths of a TFLOP.
    static func significant(_ v: Double) -> String { String(format: "%.3g", v) }

    public func markdown() -> String {
        let header = ["Model", "Method", "Tokens", "Ratio", "Items"] + stages.map { "\($0) mean/p50/p90 (ms)" }
            + ["decode tok/s", "TFLOPs/item", "prefill TFLOPs/item", "KV cache MiB/item", "peak RSS MiB"]
        var lines = ["| " + header.joined(separator: " | ") + " |",
                     "|" + header.enumerated().map { $0.offset < 2 ? "---" : "---:" }.joined(separator: "|") + "|"]
        for r in rows {
            var cells = [r.model, r.method, ScoreTable.budget(r.tokens), ScoreTable.ratioText(r.ratio), String(r.items)]
            for st in stages {
                if let s = r.stages[st] {
                    cells.append(String(format: "%.1f / %.1f / %.1f", s.mean, s.p50, s.p90))
                } else { cells.append("–") }
            }
            cells.append(r.decodeTokensPerSecond.map { String(format: "%.1f", $0) } ?? "–")
            cells += [r.cost.map { Self.significant($0.totalFLOPs / 1e12) } ?? "–",
                      r.cost.map { Self.significant($0.prefillFLOPs / 1e12) } ?? "–",
                      r.cost.map { Self.significant($0.kvCacheBytes / Self.mib) } ?? "–",
                      r.peakRSSBytes.map { String(format: "%.0f", Double($0) / Self.mib) } ?? "–"]
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public func csv() -> String {
        var header = ["model", "method", "tokens", "ratio", "items"]
        for st in stages { header += ["\(st)_mean_ms", "\(st)_p50_ms", "\(st)_p90_ms"] }
        header.append("decode_tokens_per_s")
        header += ["cost_items", "vision_tflops", "projector_tflops", "prefill_tflops", "decode_tflops", "total_tflops",
                   "kv_cache_mib", "peak_rss_mib"]
        var lines = [header.map(CSV.field).joined(separator: ",")]
        for r in rows {
            var cells = [r.model, r.method, r.tokens.map(String.init) ?? "", r.ratio.map { String($0) } ?? "", String(r.items)]
            for st in stages {
                if let s = r.stages[st] { cells += [String(s.mean), String(s.p50), String(s.p90)] } else { cells += ["", "", ""] }
            }
            cells.append(r.decodeTokensPerSecond.map { String($0) } ?? "")
            if let c = r.cost {
                cells += [String(c.items)] + [c.visionFLOPs, c.projectorFLOPs, c.prefillFLOPs, c.decodeFLOPs, c.totalFLOPs]
                    .map { String($0 / 1e12) } + [String(c.kvCacheBytes / Self.mib)]
            } else {
                cells += ["0", "", "", "", "", "", ""]
            }
            cells.append(r.peakRSSBytes.map { String(Double($0) / Self.mib) } ?? "")
            lines.append(cells.map(CSV.field).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
