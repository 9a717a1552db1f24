import Foundation
import Imaging
import Pruning

/// The paper's case figure: the views the vision tower saw with each method's kept patches marked
/// (important and diverse in two colours), pruned patches dimmed, and the patch grid; one column per
/// method and budget. LLaVA-1.6 columns show the base view beside its crops, tiled as they lie in the image.
public struct SelectionFigure: Sendable {
    public struct Column: Sendable {
        public var title: String
        /// One per view, in the pipeline's order (base view, then crops row-major).
        public var selections: [Selection]
        public init(title: String, selections: [Selection]) { self.title = title; self.selections = selections }
    }

    /// The views as the tower saw them (`CLIPPreprocessor.picture(of:)`), base view first.
    public var views: [RGBImage]
    /// Crops after the base view as rows × columns; nil for a single view (LLaVA-1.5).
    public var cropGrid: (rows: Int, columns: Int)?
    public var patchesPerSide: Int
    public var columns: [Column]
    public var title: String

    public init(views: [RGBImage], cropGrid: (rows: Int, columns: Int)?, patchesPerSide: Int, columns: [Column],
                title: String = "Kept visual tokens") {
        self.views = views
        self.cropGrid = cropGrid
        self.patchesPerSide = patchesPerSide
        self.columns = columns
        self.title = title
    }

    public static let importantColor = Color(hex: 0xE8222B)
    public static let diverseColor = Color(hex: 0x1E6BFF)
    public static let legendNames = ["Important (high [CLS] attention)", "Diverse (kept for diversity)", "Pruned (dimmed)"]

    /// "VisPruner 64": the method as the paper names it and the budget per view.
    public static func columnTitle(method: String, tokens: Int) -> String { "\(MethodName.display(method)) \(tokens)" }

    /// A view is drawn one point per view pixel: a PNG at 2 pixels per point shows each input pixel 2×2.
    public func figure() -> Figure {
        let side = Double(views.first?.width ?? 336), gap = 10.0, margin = 14.0
        let grid = cropGrid.map { $0.rows * $0.columns } ?? 0
        let crops = cropGrid.flatMap { g -> (tile: Double, width: Double, height: Double)? in
            guard g.rows > 0, g.columns > 0 else { return nil }
            let tile = side / Double(max(g.rows, g.columns))
            return (tile, tile * Double(g.columns), tile * Double(g.rows))
        }
        let columnWidth = side + (crops.map { gap + $0.width } ?? 0)
        let width = max(2 * margin + Double(columns.count) * columnWidth + Double(max(0, columns.count - 1)) * 2 * gap, 420)
        var fig = Figure(width: width, height: 0, title: title)
        fig.text(Text(title, at: Point(width / 2, margin), size: 13, role: .title, anchor: .middle, baseline: .hanging, bold: true))
        var y = legend(into: &fig, top: margin + 22, width: width) + 6
        let contentWidth = Double(columns.count) * columnWidth + Double(max(0, columns.count - 1)) * 2 * gap
        var x = (width - contentWidth) / 2
        for column in columns {
            fig.text(Text(column.title, at: Point(x + columnWidth / 2, y), size: 11, role: .panelTitle, anchor: .middle,
                          baseline: .hanging, bold: true))
            let important = column.selections.map(\.important.count).reduce(0, +)
            let diverse = column.selections.map(\.diverse.count).reduce(0, +)
            fig.text(Text("\(important) important, \(diverse) diverse" + (views.count > 1 ? " over \(views.count) views" : ""),
                          at: Point(x + columnWidth / 2, y + 15), size: 8, role: .note, anchor: .middle, baseline: .hanging,
                          color: .reference))
            let top = y + 30
            if let first = views.first, let s = column.selections.first {
                draw(first, s, in: Rect(x: x, y: top, width: side, height: side), into: &fig)
            }
            if let crops, let g = cropGrid {
                let left = x + side + gap
                for i in 0..<min(grid, views.count - 1, column.selections.count - 1) {
                    let frame = Rect(x: left + Double(i % g.columns) * crops.tile, y: top + Double(i / g.columns) * crops.tile,
                                     width: crops.tile, height: crops.tile)
                    draw(views[1 + i], column.selections[1 + i], in: frame, into: &fig)
                    // A white seam where two crops meet: they are separate views, not one picture.
                    fig.rect(frame, stroke: Stroke(.white, width: 1.5))
                }
                fig.text(Text("base view", at: Point(x + side / 2, top + side + 4), size: 8, role: .xLabel, anchor: .middle,
                              baseline: .hanging))
                fig.text(Text("crops (\(g.rows)×\(g.columns))", at: Point(left + crops.width / 2, top + side + 4), size: 8,
                              role: .xLabel, anchor: .middle, baseline: .hanging))
            }
            x += columnWidth + 2 * gap
        }
        y += 30 + side + (crops == nil ? 0 : 16)
        fig.height = y + margin
        return fig
    }

    private func legend(into fig: inout Figure, top: Double, width: Double) -> Double {
        let size = 9.0, swatch = 11.0, gap = 18.0
        let colors: [(Color?, Color)] = [(Self.importantColor.alpha(0.45), Self.importantColor),
                                         (Self.diverseColor.alpha(0.45), Self.diverseColor),
                                         (Color.black.alpha(0.6), Color(hex: 0x888888))]
        let widths = Self.legendNames.map { swatch + 5 + CairoRenderer.textWidth($0, size: size) }
        var x = (width - widths.reduce(0, +) - gap * Double(widths.count - 1)) / 2
        for (i, name) in Self.legendNames.enumerated() {
            // Over mid grey, as the swatches look over an image.
            let r = Rect(x: x, y: top + 1, width: swatch, height: swatch)
            fig.rect(r, fill: Color(hex: 0xB0B0B0))
            fig.rect(r, fill: colors[i].0, stroke: Stroke(colors[i].1, width: 1.2))
            fig.text(Text(name, at: Point(x + swatch + 5, top + 1 + swatch / 2), size: size, role: .legend, baseline: .middle))
            x += widths[i] + gap
        }
        return top + 16
    }

    private func draw(_ picture: RGBImage, _ selection: Selection, in frame: Rect, into fig: inout Figure) {
        fig.items.append(.image(picture, frame: frame))
        let n = patchesPerSide, cell = frame.width / Double(n)
        let important = Set(selection.important), kept = Set(selection.kept)
        // Pruned patches dimmed in runs along each row: one rectangle per run keeps the SVG and PDF small.
        for row in 0..<n {
            var start: Int?
            for col in 0...n {
                let pruned = col < n && !kept.contains(row * n + col)
                if pruned, start == nil { start = col }
                if !pruned, let s = start {
                    fig.rect(Rect(x: frame.x + Double(s) * cell, y: frame.y + Double(row) * cell,
                                  width: Double(col - s) * cell, height: cell), fill: Color.black.alpha(0.6))
                    start = nil
                }
            }
        }
        let lineWidth = max(0.3, cell / 40)
        for i in 0...n {
            let o = Double(i) * cell
            fig.line(Point(frame.x + o, frame.y), Point(frame.x + o, frame.maxY), Stroke(Color.white.alpha(0.35), width: lineWidth))
            fig.line(Point(frame.x, frame.y + o), Point(frame.maxX, frame.y + o), Stroke(Color.white.alpha(0.35), width: lineWidth))
        }
        for p in selection.kept where p >= 0 && p < n * n {
            let c = important.contains(p) ? Self.importantColor : Self.diverseColor
            let inset = lineWidth * 1.5
            fig.rect(Rect(x: frame.x + Double(p % n) * cell + inset, y: frame.y + Double(p / n) * cell + inset,
                          width: cell - 2 * inset, height: cell - 2 * inset),
                     fill: c.alpha(0.3), stroke: Stroke(c, width: max(0.6, cell / 12)))
        }
    }
}
