/// Resolution-independent drawing primitives; one layout, rendered to PNG pixels or SVG text,
/// so both outputs always show the same thing.
public struct PlotScene: Sendable {
    public enum Shape: Sendable {
        case line(x0: Double, y0: Double, x1: Double, y1: Double, color: Canvas.Color, width: Double, dashed: Bool)
        case rect(x: Double, y: Double, w: Double, h: Double, stroke: Canvas.Color?, fill: Canvas.Color?)
        case marker(x: Double, y: Double, radius: Double, color: Canvas.Color)
        /// `anchor`: 0 = left, 0.5 = centre, 1 = right; `size` is the text height in pixels.
        case text(String, x: Double, y: Double, size: Double, color: Canvas.Color, anchor: Double)
    }

    public var width: Double
    public var height: Double
    public var shapes: [Shape] = []

    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    /// Rasterises at one pixel per unit; text uses the bitmap font at the nearest integer scale.
    public func canvas() -> Canvas {
        var c = Canvas(width: Int(width.rounded()), height: Int(height.rounded()))
        for s in shapes {
            switch s {
            case let .line(x0, y0, x1, y1, color, w, dashed):
                c.line(Int(x0.rounded()), Int(y0.rounded()), Int(x1.rounded()), Int(y1.rounded()), color,
                       thickness: max(1, Int(w.rounded())), dash: dashed ? 6 : 0)
            case let .rect(x, y, w, h, stroke, fill):
                if let fill { c.fillRect(x: Int(x.rounded()), y: Int(y.rounded()), width: Int(w.rounded()), height: Int(h.rounded()), fill) }
                if let stroke { c.strokeRect(x: Int(x.rounded()), y: Int(y.rounded()), width: Int(w.rounded()), height: Int(h.rounded()), stroke) }
            case let .marker(x, y, r, color):
                c.disc(cx: Int(x.rounded()), cy: Int(y.rounded()), radius: max(1, Int(r.rounded())), color)
            case let .text(str, x, y, size, color, anchor):
                let scale = max(1, Int((size / Double(BitmapFont.height)).rounded()))
                let w = Double(Canvas.textWidth(str, scale: scale))
                c.text(str, x: Int((x - anchor * w).rounded()), y: Int((y - size / 2).rounded()), color, scale: scale)
            }
        }
        return c
    }

    /// Standalone SVG document.
    public func svg() -> String {
        func n(_ v: Double) -> String { String(format: "%.1f", v) }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" viewBox=\"0 0 \(n(width)) \(n(height))\">\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        for s in shapes {
            switch s {
            case let .line(x0, y0, x1, y1, color, w, dashed):
                out += "<line x1=\"\(n(x0))\" y1=\"\(n(y0))\" x2=\"\(n(x1))\" y2=\"\(n(y1))\" stroke=\"\(color.hex)\" stroke-width=\"\(n(w))\"\(dashed ? " stroke-dasharray=\"6,6\"" : "")/>\n"
            case let .rect(x, y, w, h, stroke, fill):
                out += "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(w))\" height=\"\(n(h))\" fill=\"\(fill?.hex ?? "none")\" stroke=\"\(stroke?.hex ?? "none")\"/>\n"
            case let .marker(x, y, r, color):
                out += "<circle cx=\"\(n(x))\" cy=\"\(n(y))\" r=\"\(n(r))\" fill=\"\(color.hex)\"/>\n"
            case let .text(str, x, y, size, color, anchor):
                let a = anchor == 0 ? "start" : anchor == 1 ? "end" : "middle"
                out += "<text x=\"\(n(x))\" y=\"\(n(y))\" font-family=\"sans-serif\" font-size=\"\(n(size * 1.4))\" fill=\"\(color.hex)\" text-anchor=\"\(a)\" dominant-baseline=\"central\">\(xmlEscape(str))</text>\n"
            }
        }
        return out + "</svg>\n"
    }

    private func xmlEscape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
