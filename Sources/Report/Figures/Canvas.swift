/// An RGB raster with the few drawing operations plots need (lines, rectangles, markers, text).
public struct Canvas: Sendable {
    public let width: Int
    public let height: Int
    /// Interleaved RGB, row-major from the top.
    public private(set) var pixels: [UInt8]

    public struct Color: Equatable, Sendable {
        public var r: UInt8, g: UInt8, b: UInt8
        public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
        public static let white = Color(255, 255, 255)
        public static let black = Color(0, 0, 0)
        public static let gray = Color(160, 160, 160)
        public static let lightGray = Color(225, 225, 225)
        /// Distinguishable series colours (Tableau 10).
        public static let palette: [Color] = [
            Color(31, 119, 180), Color(255, 127, 14), Color(44, 160, 44), Color(214, 39, 40), Color(148, 103, 189),
            Color(140, 86, 75), Color(227, 119, 194), Color(127, 127, 127), Color(188, 189, 34), Color(23, 190, 207),
        ]
        public var hex: String {
            let h = [r, g, b].map { v -> String in let s = String(v, radix: 16); return s.count == 1 ? "0" + s : s }
            return "#" + h.joined()
        }
    }

    public init(width: Int, height: Int, background: Color = .white) {
        precondition(width > 0 && height > 0)
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            pixels[3 * i] = background.r; pixels[3 * i + 1] = background.g; pixels[3 * i + 2] = background.b
        }
    }

    /// Wraps existing RGB pixels (e.g. a decoded image to draw an overlay on).
    public init(width: Int, height: Int, rgb: [UInt8]) {
        precondition(rgb.count == width * height * 3)
        self.width = width
        self.height = height
        pixels = rgb
    }

    @inline(__always)
    public mutating func set(_ x: Int, _ y: Int, _ c: Color) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = 3 * (y * width + x)
        pixels[i] = c.r; pixels[i + 1] = c.g; pixels[i + 2] = c.b
    }

    /// Mixes `c` over the pixel with opacity `alpha` (0…1).
    public mutating func blend(_ x: Int, _ y: Int, _ c: Color, alpha: Double) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = 3 * (y * width + x)
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8(max(0, min(255, (Double(a) * (1 - alpha) + Double(b) * alpha).rounded()))) }
        pixels[i] = mix(pixels[i], c.r); pixels[i + 1] = mix(pixels[i + 1], c.g); pixels[i + 2] = mix(pixels[i + 2], c.b)
    }

    public mutating func fillRect(x: Int, y: Int, width w: Int, height h: Int, _ c: Color, alpha: Double = 1) {
        for yy in max(0, y)..<min(height, y + h) {
            for xx in max(0, x)..<min(width, x + w) {
                if alpha >= 1 { set(xx, yy, c) } else { blend(xx, yy, c, alpha: alpha) }
            }
        }
    }

    public mutating func strokeRect(x: Int, y: Int, width w: Int, height h: Int, _ c: Color, thickness: Int = 1) {
        fillRect(x: x, y: y, width: w, height: thickness, c)
        fillRect(x: x, y: y + h - thickness, width: w, height: thickness, c)
        fillRect(x: x, y: y, width: thickness, height: h, c)
        fillRect(x: x + w - thickness, y: y, width: thickness, height: h, c)
    }

    /// A line of the given thickness (square brush along Bresenham's path); `dash` > 0 draws dashes of that length.
    public mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ c: Color, thickness: Int = 1, dash: Int = 0) {
        var x = x0, y = y0
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        var step = 0
        let r0 = -(thickness - 1) / 2, r1 = thickness / 2
        while true {
            if dash == 0 || (step / dash) % 2 == 0 {
                for oy in r0...r1 { for ox in r0...r1 { set(x + ox, y + oy, c) } }
            }
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
            step += 1
        }
    }

    public mutating func disc(cx: Int, cy: Int, radius: Int, _ c: Color) {
        for y in -radius...radius { for x in -radius...radius where x * x + y * y <= radius * radius { set(cx + x, cy + y, c) } }
    }

    /// Text in the 5×7 bitmap font scaled by `scale`; returns the width drawn.
    @discardableResult
    public mutating func text(_ s: String, x: Int, y: Int, _ c: Color, scale: Int = 1) -> Int {
        var cx = x
        for ch in s {
            let rows = BitmapFont.rows(for: ch)
            for (ry, bits) in rows.enumerated() {
                for rx in 0..<BitmapFont.width where bits & (1 << (BitmapFont.width - 1 - rx)) != 0 {
                    fillRect(x: cx + rx * scale, y: y + ry * scale, width: scale, height: scale, c)
                }
            }
            cx += (BitmapFont.width + 1) * scale
        }
        return cx - x
    }

    public static func textWidth(_ s: String, scale: Int = 1) -> Int { s.count * (BitmapFont.width + 1) * scale }
}
