import Foundation
import Records

/// Accuracy against number of visual tokens: one panel per benchmark, one line per method (and ratio),
/// the unpruned model as a dashed horizontal reference line.
public enum AccuracyPlot {
    public static func scene(_ results: [ResultRow], title: String = "Accuracy vs visual tokens",
                             layout: [BenchmarkColumns] = []) -> PlotScene {
        let table = ScoreTable(results, layout: layout)
        let benchmarks = table.benchmarks
        let cols = max(1, min(3, benchmarks.count))
        let rowsCount = max(1, (benchmarks.count + cols - 1) / cols)
        let panelW = 340.0, panelH = 260.0, margin = 20.0, titleH = 40.0
        // Series: method + ratio (ratio matters for VisPruner ablations).
        let pruned = results.filter { !$0.isUnpruned }
        var seriesKeys: [String] = []
        func key(_ r: ResultRow) -> String {
            let multiModel = Set(results.map(\.model)).count > 1
            var k = r.method
            if let ratio = r.ratio, r.method == "vispruner" { k += " r=\(String(format: "%g", ratio))" }
            if multiModel { k = "\(r.model): " + k }
            return k
        }
        for r in pruned where !seriesKeys.contains(key(r)) { seriesKeys.append(key(r)) }
        let legendRows = (seriesKeys.count + 2) / 3 + 1
        let legendH = Double(legendRows) * 18 + 10
        var scene = PlotScene(width: Double(cols) * panelW + 2 * margin,
                              height: titleH + Double(rowsCount) * panelH + legendH + margin)
        scene.shapes.append(.text(title, x: scene.width / 2, y: 20, size: 14, color: .black, anchor: 0.5))

        let allTokens = Set(pruned.compactMap(\.tokens)).sorted()
        let xMin = log2(Double(allTokens.first ?? 32)), xMax = log2(Double(allTokens.last ?? 576))
        for (bi, bench) in benchmarks.enumerated() {
            let px = margin + Double(bi % cols) * panelW, py = titleH + Double(bi / cols) * panelH
            let left = px + 52, right = px + panelW - 14, top = py + 24, bottom = py + panelH - 40
            // Each panel shows the benchmark's headline column in paper units (%, MME sums).
            let headline = layout.first { $0.dataset == bench }?.headline ?? BenchmarkColumns.plain(bench).headline
            let rows = results.filter { $0.dataset == bench }.map { r -> ResultRow in
                var scaled = r
                scaled.value = headline.value(r.metrics) ?? .nan
                return scaled
            }
            let unpruned = rows.filter(\.isUnpruned).map(\.value)
            let values = rows.map(\.value).filter { $0.isFinite }
            var lo = values.min() ?? 0, hi = values.max() ?? 1
            if hi - lo < 1e-9 { lo -= 1; hi += 1 }
            let pad = (hi - lo) * 0.08
            // Scores are never negative: keep the axis from dipping below zero.
            lo = lo >= 0 ? max(0, lo - pad) : lo - pad
            hi += pad
            func xPos(_ t: Int) -> Double {
                xMax > xMin ? left + (log2(Double(t)) - xMin) / (xMax - xMin) * (right - left) : (left + right) / 2
            }
            func yPos(_ v: Double) -> Double { bottom - (v - lo) / (hi - lo) * (bottom - top) }

            let panelTitle = headline.title + (rows.contains(where: \.subset) ? " \(ScoreTable.subsetMarker) subset" : "")
            scene.shapes.append(.text(panelTitle, x: (left + right) / 2, y: py + 10, size: 10, color: .black, anchor: 0.5))
            // Grid and y ticks.
            for i in 0...4 {
                let v = lo + (hi - lo) * Double(i) / 4
                let y = yPos(v)
                scene.shapes.append(.line(x0: left, y0: y, x1: right, y1: y, color: .lightGray, width: 1, dashed: false))
                scene.shapes.append(.text(String(format: "%.1f", v), x: left - 4, y: y, size: 7, color: .black, anchor: 1))
            }
            for t in allTokens {
                let x = xPos(t)
                scene.shapes.append(.line(x0: x, y0: top, x1: x, y1: bottom, color: .lightGray, width: 1, dashed: false))
                scene.shapes.append(.text(String(t), x: x, y: bottom + 10, size: 7, color: .black, anchor: 0.5))
            }
            scene.shapes.append(.rect(x: left, y: top, w: right - left, h: bottom - top, stroke: .black, fill: nil))
            scene.shapes.append(.text("visual tokens", x: (left + right) / 2, y: bottom + 26, size: 7, color: .black, anchor: 0.5))
            for (si, sk) in seriesKeys.enumerated() {
                let color = Canvas.Color.palette[si % Canvas.Color.palette.count]
                let pts = rows.filter { !$0.isUnpruned && key($0) == sk && $0.value.isFinite }
                    .sorted { ($0.tokens ?? 0) < ($1.tokens ?? 0) }
                    .map { (xPos($0.tokens ?? 0), yPos($0.value)) }
                for (a, b) in zip(pts, pts.dropFirst()) {
                    scene.shapes.append(.line(x0: a.0, y0: a.1, x1: b.0, y1: b.1, color: color, width: 2, dashed: false))
                }
                for p in pts { scene.shapes.append(.marker(x: p.0, y: p.1, radius: 3, color: color)) }
            }
            // Drawn last so the reference stays visible where a series coincides with it.
            if let u = unpruned.first, u.isFinite {
                let y = yPos(u)
                scene.shapes.append(.line(x0: left, y0: y, x1: right, y1: y, color: .gray, width: 2, dashed: true))
            }
        }
        // Legend.
        let ly = titleH + Double(rowsCount) * panelH + 8
        var entries: [(String, Canvas.Color, Bool)] = [("unpruned (all tokens)", .gray, true)]
        for (si, sk) in seriesKeys.enumerated() { entries.append((sk, Canvas.Color.palette[si % Canvas.Color.palette.count], false)) }
        for (i, e) in entries.enumerated() {
            let x = margin + Double(i % 3) * (scene.width - 2 * margin) / 3, y = ly + Double(i / 3) * 18 + 8
            scene.shapes.append(.line(x0: x, y0: y, x1: x + 24, y1: y, color: e.1, width: 2, dashed: e.2))
            scene.shapes.append(.text(e.0, x: x + 30, y: y, size: 7, color: .black, anchor: 0))
        }
        return scene
    }
}
