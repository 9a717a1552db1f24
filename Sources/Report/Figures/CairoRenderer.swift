import CCairo
import Foundation
import Imaging

/// Draws a `Figure` with Cairo onto its image (PNG), SVG and PDF surfaces.
public enum CairoRenderer {
    /// The face every figure's text uses (fonts-dejavu-core): wide coverage (†, ×, Greek) and the same metrics on
    /// every machine that has it, so layouts and the golden image do not move with the system's default font.
    public static let fontFamily = "DejaVu Sans"

    public enum Format: String, CaseIterable, Sendable { case png, svg, pdf }

    /// Writes `figure` to `url` in `format`; `pixelScale` is PNG pixels per point (vector formats ignore it).
    public static func write(_ figure: Figure, format: Format, to url: URL, pixelScale: Double = 2) throws {
        let surface: OpaquePointer
        switch format {
        case .png:
            let w = Int32((figure.width * pixelScale).rounded(.up)), h = Int32((figure.height * pixelScale).rounded(.up))
            surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h)
        case .svg:
            surface = cairo_svg_surface_create(url.path, figure.width, figure.height)
            // Points would make browsers show the figure a third larger than its layout; pixels keep it 1:1.
            cairo_svg_surface_set_document_unit(surface, CAIRO_SVG_UNIT_PX)
        case .pdf:
            surface = cairo_pdf_surface_create(url.path, figure.width, figure.height)
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, figure.title)
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "vispruner")
        }
        defer { cairo_surface_destroy(surface) }
        try check(cairo_surface_status(surface), "create the \(format.rawValue) surface for \(url.path)")
        let cr = cairo_create(surface)!
        defer { cairo_destroy(cr) }
        if format == .png { cairo_scale(cr, pixelScale, pixelScale) }
        draw(figure, on: cr)
        try check(cairo_status(cr), "draw \(url.lastPathComponent)")
        cairo_surface_flush(surface)
        if format == .png {
            try check(cairo_surface_write_to_png(surface, url.path), "write \(url.path)")
        } else {
            cairo_surface_finish(surface)
            try check(cairo_surface_status(surface), "write \(url.path)")
        }
    }

    /// The figure rasterised at `pixelScale`, as RGB (white under anything transparent).
    public static func raster(_ figure: Figure, pixelScale: Double = 2) throws -> RGBImage {
        let w = Int((figure.width * pixelScale).rounded(.up)), h = Int((figure.height * pixelScale).rounded(.up))
        let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(w), Int32(h))!
        defer { cairo_surface_destroy(surface) }
        try check(cairo_surface_status(surface), "create a \(w)×\(h) image")
        let cr = cairo_create(surface)!
        defer { cairo_destroy(cr) }
        cairo_scale(cr, pixelScale, pixelScale)
        draw(figure, on: cr)
        try check(cairo_status(cr), "draw")
        cairo_surface_flush(surface)
        let stride = Int(cairo_image_surface_get_stride(surface))
        let data = cairo_image_surface_get_data(surface)!
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                // RGB24 is one native-endian 32-bit word per pixel: 0x00RRGGBB.
                let word = data.advanced(by: y * stride + 4 * x).withMemoryRebound(to: UInt32.self, capacity: 1) { $0.pointee }
                let o = 3 * (y * w + x)
                rgb[o] = UInt8((word >> 16) & 0xFF); rgb[o + 1] = UInt8((word >> 8) & 0xFF); rgb[o + 2] = UInt8(word & 0xFF)
            }
        }
        return RGBImage(width: w, height: h, pixels: rgb)
    }

    /// Width in points of `string` at `size`, for layouts that place text beside other things.
    public static func textWidth(_ string: String, size: Double, bold: Bool = false) -> Double {
        measuring { cr in
            setFont(cr, size: size, bold: bold)
            var e = cairo_text_extents_t()
            cairo_text_extents(cr, string, &e)
            return e.x_advance
        }
    }

    /// The family fontconfig gives for `fontFamily`: anything else means the font is not installed and
    /// figures fall back to another face (scripts/ensure-deps.sh installs fonts-dejavu-core).
    public static func resolvedFontFamily() -> String? {
        guard FcInit() != 0, let pattern = FcNameParse(fontFamily) else { return nil }
        defer { FcPatternDestroy(pattern) }
        FcConfigSubstitute(nil, pattern, FcMatchPattern)
        FcDefaultSubstitute(pattern)
        var result = FcResultNoMatch
        guard let match = FcFontMatch(nil, pattern, &result) else { return nil }
        defer { FcPatternDestroy(match) }
        var family: UnsafeMutablePointer<FcChar8>?
        guard FcPatternGetString(match, FC_FAMILY, 0, &family) == FcResultMatch, let family else { return nil }
        return String(cString: family)
    }

    static func check(_ status: cairo_status_t, _ what: String) throws {
        guard status != CAIRO_STATUS_SUCCESS else { return }
        throw ReportError("cannot \(what): \(String(cString: cairo_status_to_string(status)))")
    }

    private static func measuring<T>(_ body: (OpaquePointer) -> T) -> T {
        let surface = cairo_image_surface_create(CAIRO_FORMAT_A8, 1, 1)
        defer { cairo_surface_destroy(surface) }
        let cr = cairo_create(surface)!
        defer { cairo_destroy(cr) }
        return body(cr)
    }

    private static func setFont(_ cr: OpaquePointer, size: Double, bold: Bool) {
        cairo_select_font_face(cr, fontFamily, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, size)
    }

    private static func setColor(_ cr: OpaquePointer, _ c: Color) { cairo_set_source_rgba(cr, c.r, c.g, c.b, c.a) }

    private static func setStroke(_ cr: OpaquePointer, _ s: Stroke) {
        setColor(cr, s.color)
        cairo_set_line_width(cr, s.width)
        cairo_set_dash(cr, s.dash, Int32(s.dash.count), 0)
    }

    static func draw(_ figure: Figure, on cr: OpaquePointer) {
        cairo_set_source_rgb(cr, 1, 1, 1)
        cairo_paint(cr)
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND)
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT)
        for item in figure.items {
            switch item {
            case let .path(points, closed, fill, stroke):
                guard let first = points.first else { continue }
                cairo_new_path(cr)
                cairo_move_to(cr, first.x, first.y)
                for p in points.dropFirst() { cairo_line_to(cr, p.x, p.y) }
                if closed { cairo_close_path(cr) }
                if let fill {
                    setColor(cr, fill)
                    if stroke == nil { cairo_fill(cr) } else { cairo_fill_preserve(cr) }
                }
                if let stroke {
                    setStroke(cr, stroke)
                    cairo_stroke(cr)
                }
            case let .marker(shape, at, size, color):
                drawMarker(cr, shape, at: at, size: size, color: color)
            case .text(let t):
                drawText(cr, t)
            case let .image(image, frame):
                drawImage(cr, image, frame: frame)
            }
        }
    }

    /// Markers are filled shapes with a white rim, so one stays readable where it sits on a line or another marker.
    private static func drawMarker(_ cr: OpaquePointer, _ shape: MarkerShape, at c: Point, size: Double, color: Color) {
        let r = size / 2
        cairo_new_path(cr)
        func poly(_ pts: [(Double, Double)]) {
            cairo_move_to(cr, c.x + pts[0].0, c.y + pts[0].1)
            for p in pts.dropFirst() { cairo_line_to(cr, c.x + p.0, c.y + p.1) }
            cairo_close_path(cr)
        }
        switch shape {
        case .circle: cairo_arc(cr, c.x, c.y, r, 0, 2 * .pi)
        case .square: cairo_rectangle(cr, c.x - r * 0.85, c.y - r * 0.85, 1.7 * r, 1.7 * r)
        case .triangle: poly([(0, -r * 1.1), (r * 1.0, r * 0.75), (-r * 1.0, r * 0.75)])
        case .invertedTriangle: poly([(0, r * 1.1), (r * 1.0, -r * 0.75), (-r * 1.0, -r * 0.75)])
        case .diamond: poly([(0, -r * 1.15), (r * 0.9, 0), (0, r * 1.15), (-r * 0.9, 0)])
        case .star:
            poly((0..<10).map { i in
                let angle = -Double.pi / 2 + Double(i) * .pi / 5, rr = i % 2 == 0 ? r * 1.2 : r * 0.5
                return (rr * cos(angle), rr * sin(angle))
            })
        case .cross, .plus:
            // Thick strokes rather than a filled outline: the glyph people expect for ×/+ markers.
            let d = shape == .cross ? r * 0.8 : r
            let ends: [(Double, Double, Double, Double)] = shape == .cross
                ? [(-d, -d, d, d), (-d, d, d, -d)] : [(-d, 0, d, 0), (0, -d, 0, d)]
            for e in ends { cairo_move_to(cr, c.x + e.0, c.y + e.1); cairo_line_to(cr, c.x + e.2, c.y + e.3) }
            cairo_set_dash(cr, nil, 0, 0)
            cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND)
            setColor(cr, .white)
            cairo_set_line_width(cr, r * 0.55 + 1.2)
            cairo_stroke_preserve(cr)
            setColor(cr, color)
            cairo_set_line_width(cr, r * 0.55)
            cairo_stroke(cr)
            cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT)
            return
        }
        setColor(cr, color)
        cairo_fill_preserve(cr)
        cairo_set_dash(cr, nil, 0, 0)
        setColor(cr, .white)
        cairo_set_line_width(cr, 0.8)
        cairo_stroke(cr)
    }

    private static func drawText(_ cr: OpaquePointer, _ t: Text) {
        cairo_save(cr)
        setFont(cr, size: t.size, bold: t.bold)
        setColor(cr, t.color)
        var e = cairo_text_extents_t()
        cairo_text_extents(cr, t.string, &e)
        var fe = cairo_font_extents_t()
        cairo_font_extents(cr, &fe)
        let dx: Double
        switch t.anchor {
        case .start: dx = 0
        case .middle: dx = -e.x_advance / 2
        case .end: dx = -e.x_advance
        }
        // Baselines from the font's ascent rather than each string's ink, so a row of ticks lines up.
        let dy: Double
        switch t.baseline {
        case .alphabetic: dy = 0
        case .middle: dy = (fe.ascent - fe.descent) / 2
        case .hanging: dy = fe.ascent
        }
        cairo_translate(cr, t.at.x, t.at.y)
        if t.vertical { cairo_rotate(cr, -Double.pi / 2) }
        cairo_move_to(cr, dx, dy)
        cairo_show_text(cr, t.string)
        cairo_restore(cr)
    }

    private static func drawImage(_ cr: OpaquePointer, _ image: RGBImage, frame: Rect) {
        guard image.width > 0, image.height > 0,
              let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(image.width), Int32(image.height)) else { return }
        defer { cairo_surface_destroy(surface) }
        cairo_surface_flush(surface)
        let stride = Int(cairo_image_surface_get_stride(surface))
        guard let data = cairo_image_surface_get_data(surface) else { return }
        image.pixels.withUnsafeBufferPointer { px in
            for y in 0..<image.height {
                let row = data.advanced(by: y * stride).withMemoryRebound(to: UInt32.self, capacity: image.width) { $0 }
                for x in 0..<image.width {
                    let i = 3 * (y * image.width + x)
                    row[x] = UInt32(px[i]) << 16 | UInt32(px[i + 1]) << 8 | UInt32(px[i + 2])
                }
            }
        }
        cairo_surface_mark_dirty(surface)
        cairo_save(cr)
        cairo_rectangle(cr, frame.x, frame.y, frame.width, frame.height)
        cairo_clip(cr)
        cairo_translate(cr, frame.x, frame.y)
        cairo_scale(cr, frame.width / Double(image.width), frame.height / Double(image.height))
        cairo_set_source_surface(cr, surface, 0, 0)
        cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD)
        cairo_paint(cr)
        cairo_restore(cr)
    }
}
