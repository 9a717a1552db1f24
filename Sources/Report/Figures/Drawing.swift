import Imaging

/// A figure as a list of drawing operations in points, independent of the output format, so the PNG, SVG
/// and PDF of one figure are the same drawing and tests can read what a figure says (its texts carry a
/// role) without parsing Cairo's output, which turns text into glyph outlines.
public struct Figure: Sendable {
    public var width: Double
    public var height: Double
    /// Document title (PDF metadata).
    public var title: String
    public var items: [Item] = []

    public init(width: Double, height: Double, title: String) {
        self.width = width
        self.height = height
        self.title = title
    }

    public enum Item: Sendable {
        case path([Point], closed: Bool, fill: Color?, stroke: Stroke?)
        case marker(MarkerShape, at: Point, size: Double, color: Color)
        case text(Text)
        /// `image` drawn scaled into `frame`.
        case image(RGBImage, frame: Rect)
    }

    public mutating func line(_ a: Point, _ b: Point, _ stroke: Stroke) {
        items.append(.path([a, b], closed: false, fill: nil, stroke: stroke))
    }

    public mutating func rect(_ r: Rect, fill: Color? = nil, stroke: Stroke? = nil) {
        let corners = [Point(r.x, r.y), Point(r.x + r.width, r.y), Point(r.x + r.width, r.y + r.height), Point(r.x, r.y + r.height)]
        items.append(.path(corners, closed: true, fill: fill, stroke: stroke))
    }

    public mutating func text(_ t: Text) { items.append(.text(t)) }

    public var texts: [Text] {
        items.compactMap { if case .text(let t) = $0 { return t } else { return nil } }
    }

    public func texts(_ role: Text.Role) -> [String] { texts.filter { $0.role == role }.map(\.string) }
}

public struct Point: Equatable, Sendable {
    public var x: Double, y: Double
    public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
}

public struct Rect: Equatable, Sendable {
    public var x: Double, y: Double, width: Double, height: Double
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
    public var maxX: Double { x + width }
    public var maxY: Double { y + height }
}

public struct Color: Equatable, Hashable, Sendable {
    public var r: Double, g: Double, b: Double, a: Double
    public init(_ r: Double, _ g: Double, _ b: Double, _ a: Double = 1) { self.r = r; self.g = g; self.b = b; self.a = a }
    public init(hex: UInt32, alpha: Double = 1) {
        self.init(Double((hex >> 16) & 0xFF) / 255, Double((hex >> 8) & 0xFF) / 255, Double(hex & 0xFF) / 255, alpha)
    }
    public func alpha(_ a: Double) -> Color { Color(r, g, b, a) }

    public static let black = Color(0, 0, 0)
    public static let white = Color(1, 1, 1)
    public static let axis = Color(hex: 0x333333)
    public static let grid = Color(hex: 0xE3E3E3)
    public static let reference = Color(hex: 0x555555)
    /// Okabe–Ito's colour-blind-safe set, most distinct first; with a marker shape per series as well, series
    /// stay apart in grey print.
    public static let series: [Color] = [
        Color(hex: 0xD55E00), Color(hex: 0x0072B2), Color(hex: 0x009E73), Color(hex: 0xCC79A7),
        Color(hex: 0xE69F00), Color(hex: 0x56B4E9), Color(hex: 0x000000), Color(hex: 0xF0E442),
    ]
}

public struct Stroke: Equatable, Sendable {
    public var color: Color
    public var width: Double
    /// On/off lengths in points; empty for a solid line.
    public var dash: [Double]
    public init(_ color: Color, width: Double = 1, dash: [Double] = []) {
        self.color = color; self.width = width; self.dash = dash
    }
}

public enum MarkerShape: String, CaseIterable, Sendable {
    case circle, square, triangle, diamond, invertedTriangle, cross, plus, star
}

public struct Text: Equatable, Sendable {
    /// What a text is for: lets tests and readers find the axis labels, ticks and legend of a figure.
    public enum Role: String, Sendable { case title, panelTitle, xLabel, yLabel, xTick, yTick, legend, note }
    public enum Anchor: Sendable { case start, middle, end }
    public enum Baseline: Sendable { case alphabetic, middle, hanging }

    public var string: String
    public var at: Point
    public var size: Double
    public var role: Role
    public var anchor: Anchor
    public var baseline: Baseline
    public var bold: Bool
    /// Drawn reading upwards (a y-axis label).
    public var vertical: Bool
    public var color: Color

    public init(_ string: String, at: Point, size: Double, role: Role, anchor: Anchor = .start, baseline: Baseline = .alphabetic,
                bold: Bool = false, vertical: Bool = false, color: Color = .black) {
        self.string = string; self.at = at; self.size = size; self.role = role; self.anchor = anchor
        self.baseline = baseline; self.bold = bold; self.vertical = vertical; self.color = color
    }
}
