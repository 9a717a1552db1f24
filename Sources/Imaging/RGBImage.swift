/// An 8-bit RGB image, pixels interleaved row-major (`pixels[(y * width + x) * 3 + c]`).
///
/// Every decoded image is brought to this form (PIL's `convert('RGB')`), which is all the LLaVA
/// preprocessing needs.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    /// Wraps existing pixels; `pixels.count` must be `width * height * 3`.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0, "negative image size \(width)x\(height)")
        precondition(pixels.count == width * height * 3,
                     "\(width)x\(height) RGB image needs \(width * height * 3) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A uniformly coloured image (PIL's `Image.new('RGB', size, color)`).
    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        precondition(width >= 0 && height >= 0, "negative image size \(width)x\(height)")
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        if fill != (0, 0, 0) {
            pixels.withUnsafeMutableBufferPointer { p in
                var i = 0
                while i < p.count {
                    p[i] = fill.0; p[i + 1] = fill.1; p[i + 2] = fill.2
                    i += 3
                }
            }
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    /// The pixel at (x, y) as (r, g, b).
    public func pixel(x: Int, y: Int) -> (UInt8, UInt8, UInt8) {
        let i = (y * width + x) * 3
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// Copies `image` onto this one with its top-left corner at (x, y), clipping whatever falls outside
    /// (PIL's `paste` with a 2-tuple box).
    public mutating func paste(_ image: RGBImage, x: Int, y: Int) {
        let x0 = max(0, x), y0 = max(0, y)
        let x1 = min(width, x + image.width), y1 = min(height, y + image.height)
        guard x0 < x1, y0 < y1 else { return }
        let rowBytes = (x1 - x0) * 3
        let dstWidth = width
        pixels.withUnsafeMutableBufferPointer { dst in
            image.pixels.withUnsafeBufferPointer { src in
                guard let d = dst.baseAddress, let s = src.baseAddress else { return }
                for row in y0..<y1 {
                    let from = s + ((row - y) * image.width + (x0 - x)) * 3
                    (d + (row * dstWidth + x0) * 3).update(from: from, count: rowBytes)
                }
            }
        }
    }

    /// The region `width`×`height` at (x, y); parts outside this image are black, as with PIL's `crop`.
    public func cropped(x: Int, y: Int, width: Int, height: Int) -> RGBImage {
        var out = RGBImage(width: width, height: height)
        out.paste(self, x: -x, y: -y)
        return out
    }
}
