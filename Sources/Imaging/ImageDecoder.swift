import CImageIO
import Foundation

/// Container formats the decoder recognises by their leading bytes.
public enum ImageFormat: String, Sendable {
    case png
    case jpeg

    /// The format named by `bytes`' signature, or nil. The file extension is never consulted.
    public static func sniff<Bytes: Collection>(_ bytes: Bytes) -> ImageFormat? where Bytes.Element == UInt8 {
        let head = Array(bytes.prefix(8))
        if head.count >= 8, head == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return .png }
        if head.count >= 3, head[0] == 0xFF, head[1] == 0xD8, head[2] == 0xFF { return .jpeg }
        return nil
    }
}

/// The mode PIL reports for a file right after `Image.open`, before conversion to RGB.
public enum SourceMode: String, Sendable {
    case bilevel = "1"
    case gray = "L"
    case gray16 = "I;16"
    case palette = "P"
    case grayAlpha = "LA"
    case rgb = "RGB"
    case rgba = "RGBA"
    case cmyk = "CMYK"

    init?(code: Int32) {
        switch Int(code) {
        case Int(CIMAGEIO_MODE_1): self = .bilevel
        case Int(CIMAGEIO_MODE_L): self = .gray
        case Int(CIMAGEIO_MODE_I16): self = .gray16
        case Int(CIMAGEIO_MODE_P): self = .palette
        case Int(CIMAGEIO_MODE_LA): self = .grayAlpha
        case Int(CIMAGEIO_MODE_RGB): self = .rgb
        case Int(CIMAGEIO_MODE_RGBA): self = .rgba
        case Int(CIMAGEIO_MODE_CMYK): self = .cmyk
        default: return nil
        }
    }
}

/// A decoded image together with what the file held before conversion.
public struct DecodedImage: Sendable {
    public let image: RGBImage
    public let format: ImageFormat
    public let sourceMode: SourceMode
    /// The PNG carried a tRNS chunk; PIL's `convert('RGB')` ignores it, and so does `image`.
    public let hadTransparencyKey: Bool
    /// For palette PNGs, the raw palette index of every pixel (row-major); nil otherwise. Needed only to
    /// emulate code paths that handle the unconverted "P" image (see `LLaVAImagePreprocessing.padUnconverted`).
    public let paletteIndices: [UInt8]?
    /// For PNGs with an alpha channel, each pixel's alpha (high byte if 16-bit); nil otherwise.
    /// `image` never uses it (alpha is dropped, as `convert('RGB')` does).
    public let alpha: [UInt8]?
}

/// PNG and JPEG decoding to RGB, pixel-identical to `PIL.Image.open(f).convert('RGB')`.
///
/// Conversion rules (Pillow's): gray and gray+alpha replicate the gray level; alpha is dropped, never
/// composited; palette images look colours up in PLTE (tRNS ignored, indices past PLTE are black, as in
/// Pillow ≥ 9.1); 16-bit RGB/RGBA/gray+alpha keep the high byte of each sample; 16-bit gray ("I;16")
/// saturates at 255 (PIL clips rather than rescales); CMYK JPEGs are read with Adobe (inverted)
/// polarity and converted with PIL's `cmyk2rgb`. EXIF orientation is not applied (PIL does not either).
///
/// Images the reference opens without `convert('RGB')` (ScienceQA) reach the CLIP processor, whose
/// `do_convert_rgb` performs this same conversion, so decoding always yields RGB here. Only LLaVA's
/// `expand2square` sees the unconverted mode first; `LLaVAImagePreprocessing.padUnconverted` emulates
/// what that does to palette/CMYK images (which is why `DecodedImage` keeps palette indices).
public enum ImageDecoder {
    /// Declared images wider or taller than this are refused before any pixel memory is allocated.
    public static let maxSide = 16_384
    /// Declared images with more pixels than this are refused before any pixel memory is allocated.
    public static let maxPixels = 64 * 1024 * 1024

    public static func decode(contentsOf url: URL) throws -> RGBImage {
        try decodeDetailed(contentsOf: url).image
    }

    public static func decode(data: Data) throws -> RGBImage {
        try decodeDetailed(data: data).image
    }

    public static func decodeDetailed(contentsOf url: URL) throws -> DecodedImage {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw ImagingError(.unreadable, "cannot read: \(error.localizedDescription)", path: url.path)
        }
        do {
            return try decodeDetailed(data: data)
        } catch let e as ImagingError {
            throw e.at(url.path)
        }
    }

    public static func decodeDetailed(data: Data) throws -> DecodedImage {
        guard let format = ImageFormat.sniff(data) else {
            throw ImagingError(.notAnImage, "not a PNG or JPEG image (unrecognised leading bytes)")
        }
        var raw = cimageio_image()
        var message = [CChar](repeating: 0, count: 512)
        let status: Int32 = data.withUnsafeBytes { buffer in
            guard let base = buffer.bindMemory(to: UInt8.self).baseAddress else { return Int32(CIMAGEIO_ERR_ARGUMENT) }
            return message.withUnsafeMutableBufferPointer { m in
                switch format {
                case .png:
                    return cimageio_decode_png(base, buffer.count, Int64(maxSide), Int64(maxPixels), &raw, m.baseAddress, m.count)
                case .jpeg:
                    return cimageio_decode_jpeg(base, buffer.count, Int64(maxSide), Int64(maxPixels), &raw, m.baseAddress, m.count)
                }
            }
        }
        defer { cimageio_image_free(&raw) }
        let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let what = format == .png ? "PNG" : "JPEG"
        guard status == Int32(CIMAGEIO_OK) else {
            switch Int(status) {
            case Int(CIMAGEIO_ERR_TOO_LARGE): throw ImagingError(.tooLarge, "\(what): \(text)")
            case Int(CIMAGEIO_ERR_UNSUPPORTED): throw ImagingError(.unsupported, "\(what): \(text)")
            case Int(CIMAGEIO_ERR_MEMORY): throw ImagingError(.tooLarge, "\(what): \(text)")
            default: throw ImagingError(.corrupt, "corrupt or truncated \(what): \(text)")
            }
        }
        let width = Int(raw.width), height = Int(raw.height)
        guard let rgb = raw.rgb, width > 0, height > 0, let mode = SourceMode(code: raw.source_mode) else {
            throw ImagingError(.corrupt, "\(what) decoder returned no image")
        }
        let pixels = Array(UnsafeBufferPointer(start: rgb, count: width * height * 3))
        let indices = raw.indices.map { Array(UnsafeBufferPointer(start: $0, count: width * height)) }
        let alpha = raw.alpha.map { Array(UnsafeBufferPointer(start: $0, count: width * height)) }
        return DecodedImage(image: RGBImage(width: width, height: height, pixels: pixels), format: format,
                            sourceMode: mode, hadTransparencyKey: raw.has_transparency != 0, paletteIndices: indices,
                            alpha: alpha)
    }
}
