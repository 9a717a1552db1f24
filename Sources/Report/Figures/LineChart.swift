import Foundation

/// Panels of lines against visual tokens sharing one legend: the form of the paper's accuracy and latency
/// figures. The chart is data (what each panel shows); `figure()` lays it out for drawing.
public struct LineChart: Equatable, Sendable {
    public struct Series: Equatable, Sendable {
        public var name: String
        public var color: Color
        public var marker: MarkerShape
    }

    public struct Panel: Equatable, Sendable {
        public var title: String
        public var yLabel: String
        /// Per series (same order as `LineChart.series`): (visual tokens, value), ascending in tokens.
        public var points: [[(tokens: Int, value: Double)]]
        /// The unpruned run's value, drawn as a dashed line across the panel.
        public var reference: Double?
        public var yTicks: NiceTicks
        /// Per series, the 95% interval of each point (drawn as an error bar), keyed by visual tokens.
        public var intervals: [[Int: Interval]] = []

        public static func == (a: Panel, b: Panel) -> Bool {
            a.title == b.title && a.yLabel == b.yLabel && a.reference == b.reference && a.yTicks == b.yTicks
                && a.intervals == b.intervals
                && a.points.map { $0.map(\.tokens) } == b.points.map { $0.map(\.tokens) }
                && a.points.map { $0.map(\.value) } == b.points.map { $0.map(\.value) }
        }
    }

    public var title: String
    public var xLabel = "Visual tokens"
    public var series: [Series]
    /// Legend name of the dashed reference line, nil when no panel has one.
    public var referenceName: String?
    public var panels: [Panel]
    /// The budgets on the shared x axis (log scale: budgets are usually halvings).
    public var xTicks: [Int]
    /// Lines under the legend (e.g. what † marks).
    public var notes: [String] = []

    /// Series styles in order: colour and marker both change, so no two series share either.
    public static func style(_ index: Int) -> (Color, MarkerShape) {
        (Color.series[index % Color.series.count], MarkerShape.allCases[index % MarkerShape.allCases.count])
    }

    /// Ticks for a panel showing `values` (and the reference, which must stay inside the frame).
    public static func ticks(_ values: [Double], reference: Double?, floor: Double? = 0) -> NiceTicks {
        let all = (values + [reference].compactMap { $0 }).filter(\.isFinite)
        return NiceTicks(lo: all.min() ?? 0, hi: all.max() ?? 1, floor: floor)
    }

    // Layout in points.
    static let panelWidth = 232.0, panelHeight = 178.0
    static let plotInset = (left: 52.0, right: 10.0, top: 24.0, bottom: 36.0)
    static let margin = 14.0

    public func figure(columns: Int? = nil) -> Figure {
        let cols = max(1, min(columns ?? 4, panels.count))
        let rows = max(1, (panels.count + cols - 1) / cols)
        let width = Self.margin * 2 + Double(cols) * Self.panelWidth

        var fig = Figure(width: width, height: 0, title: title)
        fig.text(Text(title, at: Point(width / 2, Self.margin), size: 13, role: .title, anchor: .middle, baseline: .hanging, bold: true))
        var y = Self.margin + 22
        y = legend(into: &fig, top: y, width: width)
        for note in notes {
            fig.text(Text(note, at: Point(width / 2, y), size: 8, role: .note, anchor: .middle, baseline: .hanging, color: .reference))
            y += 12
        }
        y += 4
        for (i, panel) in panels.enumerated() {
            let origin = Point(Self.margin + Double(i % cols) * Self.panelWidth, y + Double(i / cols) * Self.panelHeight)
            draw(panel, at: origin, into: &fig)
        }
        fig.height = y + Double(rows) * Self.panelHeight + Self.margin
        return fig
    }

    /// One legend for the figure, entries wrapped to the figure's width; returns the y below it.
    private func legend(into fig: inout Figure, top: Double, width: Double) -> Double {
        let size = 9.0, sample = 26.0, gap = 16.0, rowHeight = 15.0
        var entries: [(name: String, series: Series?)] = series.map { ($0.name, $0) }
        if let referenceName { entries.append((referenceName, nil)) }
        let widths = entries.map { sample + 5 + CairoRenderer.textWidth($0.name, size: size) }
        var lines: [[Int]] = [[]]
        var used = 0.0
        for (i, w) in widths.enumerated() {
            if !lines[lines.count - 1].isEmpty && used + gap + w > width - 2 * Self.margin {
                lines.append([]); used = 0
            }
            used += (lines[lines.count - 1].isEmpty ? 0 : gap) + w
            lines[lines.count - 1].append(i)
        }
        var y = top
        for line in lines where !line.isEmpty {
            let total = line.map { widths[$0] }.reduce(0, +) + gap * Double(line.count - 1)
            var x = (width - total) / 2
            let mid = y + rowHeight / 2
            for i in line {
                let e = entries[i]
                if let s = e.series {
                    fig.line(Point(x, mid), Point(x + sample, mid), Stroke(s.color, width: 1.6))
                    fig.items.append(.marker(s.marker, at: Point(x + sample / 2, mid), size: 6.5, color: s.color))
                } else {
                    fig.line(Point(x, mid), Point(x + sample, mid), Stroke(.reference, width: 1.3, dash: [4, 3]))
                }
                fig.text(Text(e.name, at: Point(x + sample + 5, mid), size: size, role: .legend, baseline: .middle))
                x += widths[i] + gap
            }
            y += rowHeight
        }
        return y
    }

    private func draw(_ panel: Panel, at o: Point, into fig: inout Figure) {
        let inset = Self.plotInset
        let plot = Rect(x: o.x + inset.left, y: o.y + inset.top,
                        width: Self.panelWidth - inset.left - inset.right, height: Self.panelHeight - inset.top - inset.bottom)
        fig.text(Text(panel.title, at: Point(plot.x + plot.width / 2, o.y + 6), size: 10, role: .panelTitle,
                      anchor: .middle, baseline: .hanging, bold: true))
        let ticks = panel.yTicks
        func yPos(_ v: Double) -> Double {
            ticks.upper > ticks.lower ? plot.maxY - (v - ticks.lower) / (ticks.upper - ticks.lower) * plot.height : plot.y + plot.height / 2
        }
        let logs = xTicks.map { log2(Double(max($0, 1))) }
        let xMin = logs.min() ?? 0, xMax = logs.max() ?? 0
        // A little room at both ends so the first and last markers do not sit on the frame.
        let xPad = 0.06 * plot.width
        func xPos(_ t: Int) -> Double {
            guard xMax > xMin else { return plot.x + plot.width / 2 }
            return plot.x + xPad + (log2(Double(max(t, 1))) - xMin) / (xMax - xMin) * (plot.width - 2 * xPad)
        }
        for v in ticks.values {
            let y = yPos(v)
            fig.line(Point(plot.x, y), Point(plot.maxX, y), Stroke(.grid, width: 0.6))
            fig.line(Point(plot.x - 3, y), Point(plot.x, y), Stroke(.axis, width: 0.8))
            fig.text(Text(ticks.label(v), at: Point(plot.x - 5, y), size: 8, role: .yTick, anchor: .end, baseline: .middle))
        }
        for t in xTicks {
            let x = xPos(t)
            fig.line(Point(x, plot.maxY), Point(x, plot.maxY + 3), Stroke(.axis, width: 0.8))
            fig.text(Text(String(t), at: Point(x, plot.maxY + 5), size: 8, role: .xTick, anchor: .middle, baseline: .hanging))
        }
        fig.rect(plot, stroke: Stroke(.axis, width: 0.8))
        fig.text(Text(xLabel, at: Point(plot.x + plot.width / 2, plot.maxY + 19), size: 9, role: .xLabel,
                      anchor: .middle, baseline: .hanging))
        fig.text(Text(panel.yLabel, at: Point(o.x + 12, plot.y + plot.height / 2), size: 9, role: .yLabel,
                      anchor: .middle, baseline: .middle, vertical: true))
        // Reference under the series: where a method equals the unpruned run, its markers stay visible.
        if let r = panel.reference, r.isFinite {
            fig.line(Point(plot.x, yPos(r)), Point(plot.maxX, yPos(r)), Stroke(.reference, width: 1.3, dash: [4, 3]))
        }
        for (i, s) in series.enumerated() where i < panel.intervals.count {
            // Error bars under the lines and markers: a vertical stroke with short caps.
            // Bars of different series at one budget are set slightly apart so that each stays readable.
            let dodge = (Double(i) - Double(series.count - 1) / 2) * 2.5
            for (t, interval) in panel.intervals[i] where interval.lower.isFinite && interval.upper.isFinite {
                let x = xPos(t) + dodge, lo = yPos(interval.lower), hi = yPos(interval.upper)
                let stroke = Stroke(s.color, width: 0.9)
                fig.line(Point(x, lo), Point(x, hi), stroke)
                fig.line(Point(x - 2.5, lo), Point(x + 2.5, lo), stroke)
                fig.line(Point(x - 2.5, hi), Point(x + 2.5, hi), stroke)
            }
        }
        for (s, pts) in zip(series, panel.points) {
            let finite = pts.filter { $0.value.isFinite }
            let path = finite.map { Point(xPos($0.tokens), yPos($0.value)) }
            if path.count > 1 { fig.items.append(.path(path, closed: false, fill: nil, stroke: Stroke(s.color, width: 1.6))) }
            for p in path { fig.items.append(.marker(s.marker, at: p, size: 6.5, color: s.color)) }
        }
    }
}
