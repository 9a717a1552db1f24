import Foundation
import Records

/// An image file's format and size from its header alone, for checking a data root without decoding
/// every image: the PNG IHDR chunk, or the first JPEG start-of-frame segment.
public struct ImageHeader: Equatable, Sendable {
    public var format: ImageFormat
    public var width: Int
    public var height: Int
    /// The mode PIL opens the file in, from the header (PNG colour type and bit depth, JPEG components), as
    /// `ImageDecoder` reports it; nil where the header does not say (an unknown colour type or component count).
    public var sourceMode: SourceMode? = nil

    /// How far into a JPEG the frame header is looked for (EXIF and ICC segments come first).
    public static let maxScanBytes = 4 << 20

    public static func read(contentsOf url: URL) throws -> ImageHeader {
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch {
            throw ImagingError(.unreadable, "\(url.path): cannot open: \((error as NSError).localizedDescription)")
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maxScanBytes)) ?? Data()
        return try parse([UInt8](data))
    }

    /// The path LLaVA-1.5's padding takes for this image when it is opened unconverted, as the reference's
    /// ScienceQA script opens it (`LLaVAPipeline.prepare(_:unconverted:)` decides the same from the decoded file).
    public var unconvertedPadPath: ImagePath? {
        guard let sourceMode else { return nil }
        if width == height { return .plain }
        switch sourceMode {
        case .rgb, .rgba: return .plain
        case .palette, .cmyk: return .quirk
        case .gray, .bilevel, .gray16, .grayAlpha: return .fallback
        }
    }

    public static func parse(_ b: [UInt8]) throws -> ImageHeader {
        guard let format = ImageFormat.sniff(b) else {
            throw ImagingError(.notAnImage, "not a PNG or JPEG image (unrecognised leading bytes)")
        }
        func be(_ i: Int, _ n: Int) -> Int { (0..<n).reduce(0) { $0 << 8 | Int(b[i + $1]) } }
        switch format {
        case .png:
            // Signature (8), then the first chunk must be IHDR of length 13: width, height (4 bytes each).
            guard b.count >= 33, be(8, 4) == 13, b[12...15].elementsEqual(Array("IHDR".utf8)) else {
                throw ImagingError(.corrupt, "PNG: no IHDR chunk where the format requires it")
            }
            let w = be(16, 4), h = be(20, 4)
            guard w > 0, h > 0 else { throw ImagingError(.corrupt, "PNG: IHDR gives a size of \(w)×\(h)") }
            let depth = b[24], mode: SourceMode?
            switch b[25] {
            case 0: mode = depth == 1 ? .bilevel : depth == 16 ? .gray16 : .gray
            case 2: mode = .rgb
            case 3: mode = .palette
            case 4: mode = depth == 16 ? .rgba : .grayAlpha
            case 6: mode = .rgba
            default: mode = nil
            }
            return ImageHeader(format: .png, width: w, height: h, sourceMode: mode)
        case .jpeg:
            var i = 2
            while i + 4 <= b.count {
                guard b[i] == 0xFF else { throw ImagingError(.corrupt, "JPEG: no marker at byte \(i)") }
                let marker = b[i + 1]
                if marker == 0xFF { i += 1; continue }  // fill byte
                if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 { i += 2; continue }
                if marker == 0xD9 || marker == 0xDA { break }  // end of image, or scan data before any frame header
                let length = be(i + 2, 2)
                guard length >= 2 else { throw ImagingError(.corrupt, "JPEG: segment length \(length) at byte \(i)") }
                // SOF0...SOF15 except DHT (C4), JPG (C8) and DAC (CC).
                if (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) {
                    guard i + 9 <= b.count else { break }
                    let h = be(i + 5, 2), w = be(i + 7, 2)
                    guard w > 0, h > 0 else { throw ImagingError(.corrupt, "JPEG: frame header gives a size of \(w)×\(h)") }
                    let components = i + 9 < b.count ? b[i + 9] : 0
                    let mode: SourceMode? = components == 1 ? .gray : components == 3 ? .rgb : components == 4 ? .cmyk : nil
                    return ImageHeader(format: .jpeg, width: w, height: h, sourceMode: mode)
                }
                i += 2 + length
            }
            throw ImagingError(.corrupt, "JPEG: no frame header (truncated or not a baseline/progressive JPEG)")
        }
    }
}
