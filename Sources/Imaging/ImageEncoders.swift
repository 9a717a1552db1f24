import CImageIO
import Foundation

private func collect(_ status: Int32, _ buffer: UnsafeMutablePointer<UInt8>?, _ size: Int,
                     _ message: [CChar], _ what: String) throws -> Data {
    defer { cimageio_buffer_free(buffer) }
    guard status == Int32(CIMAGEIO_OK), let buffer else {
        let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw ImagingError(.invalidArgument, "\(what) encoding failed: \(text)")
    }
    return Data(bytes: buffer, count: size)
}

/// 8-bit PNG encoding for plots, overlays and test images.
public enum PNGEncoder {
    /// Encodes interleaved RGB bytes (`width * height * 3`).
    public static func encode(rgb: [UInt8], width: Int, height: Int) throws -> Data {
        try encode(pixels: rgb, width: width, height: height, channels: 3)
    }

    /// Encodes interleaved RGBA bytes (`width * height * 4`), alpha not premultiplied.
    public static func encode(rgba: [UInt8], width: Int, height: Int) throws -> Data {
        try encode(pixels: rgba, width: width, height: height, channels: 4)
    }

    public static func encode(_ image: RGBImage) throws -> Data {
        try encode(rgb: image.pixels, width: image.width, height: image.height)
    }

    static func encode(pixels: [UInt8], width: Int, height: Int, channels: Int) throws -> Data {
        guard width > 0, height > 0, width <= Int(Int32.max) / channels, height <= Int(Int32.max),
              pixels.count == width * height * channels else {
            throw ImagingError(.invalidArgument,
                               "PNG encode: \(width)x\(height) with \(channels) channels needs \(max(0, width * height * channels)) bytes, got \(pixels.count)")
        }
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = pixels.withUnsafeBufferPointer { p in
            message.withUnsafeMutableBufferPointer { m in
                cimageio_encode_png(p.baseAddress, Int32(width), Int32(height), Int32(channels), &out, &size, m.baseAddress, m.count)
            }
        }
        return try collect(status, out, size, message, "PNG")
    }
}

/// Baseline JPEG encoding (used to build gray/CMYK test inputs; PIL-compatible files).
public enum JPEGEncoder {
    /// Colour layouts accepted by the encoder.
    public enum Layout: Int, Sendable {
        case gray = 1
        case rgb = 3
        /// Samples are written as given with an Adobe marker, i.e. in the inverted polarity Photoshop uses.
        case cmyk = 4
    }

    public static func encode(pixels: [UInt8], width: Int, height: Int, layout: Layout, quality: Int = 95) throws -> Data {
        let channels = layout.rawValue
        guard width > 0, height > 0, width <= 65_500, height <= 65_500, pixels.count == width * height * channels,
              (1...100).contains(quality) else {
            throw ImagingError(.invalidArgument,
                               "JPEG encode: \(width)x\(height) \(layout) at quality \(quality) with \(pixels.count) bytes is not valid")
        }
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = pixels.withUnsafeBufferPointer { p in
            message.withUnsafeMutableBufferPointer { m in
                cimageio_encode_jpeg(p.baseAddress, Int32(width), Int32(height), Int32(channels), Int32(quality),
                                     &out, &size, m.baseAddress, m.count)
            }
        }
        return try collect(status, out, size, message, "JPEG")
    }
}
