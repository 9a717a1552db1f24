import Foundation

/// Convolution filters of `PIL.Image.resize`, with PIL's numeric codes.
public enum ResampleFilter: Int, Sendable, CaseIterable {
    case lanczos = 1
    case bilinear = 2
    case bicubic = 3
    case box = 4
    case hamming = 5

    /// The filter for a PIL `Resampling` code (0 = NEAREST is not a convolution and is not supported).
    public init?(pilCode: Int) { self.init(rawValue: pilCode) }

    var support: Double {
        switch self {
        case .box: return 0.5
        case .bilinear, .hamming: return 1
        case .bicubic: return 2
        case .lanczos: return 3
        }
    }

    /// Filter kernels as PIL defines them, including its single-precision Hamming constants.
    func weight(_ t: Double) -> Double {
        switch self {
        case .box:
            return t > -0.5 && t <= 0.5 ? 1 : 0
        case .bilinear:
            let x = abs(t)
            return x < 1 ? 1 - x : 0
        case .hamming:
            let x = abs(t)
            if x == 0 { return 1 }
            if x >= 1 { return 0 }
            let px = x * Double.pi
            return sin(px) / px * (Double(Float(0.54)) + Double(Float(0.46)) * cos(px))
        case .bicubic:
            let a = -0.5
            let x = abs(t)
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        case .lanczos:
            guard t >= -3, t < 3 else { return 0 }
            return Self.sinc(t) * Self.sinc(t / 3)
        }
    }

    private static func sinc(_ t: Double) -> Double {
        if t == 0 { return 1 }
        let x = t * Double.pi
        return sin(x) / x
    }
}

/// Fixed-point taps for one resampling axis, laid out as PIL's `precompute_coeffs` +
/// `normalize_coeffs_8bpc` produce them: per output position a first source index, a tap count, and
/// `taps` integer weights scaled by 2^22 and rounded half away from zero. Sums are accumulated in
/// Int32 as PIL does; they cannot overflow because the absolute tap sum stays below 2 for these filters.
struct ResampleTaps {
    static let precisionBits = 22
    let taps: Int
    var first: [Int]
    let count: [Int]
    let weights: [Int32]

    init(inSize: Int, outSize: Int, filter: ResampleFilter) {
        // PIL passes the box edges as C floats; integer sizes below 2^24 are exact either way.
        let scale = Double(Float(inSize)) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        taps = Int(support.rounded(.up)) * 2 + 1
        var first = [Int](repeating: 0, count: outSize)
        var count = [Int](repeating: 0, count: outSize)
        var weights = [Int32](repeating: 0, count: outSize * taps)
        var k = [Double](repeating: 0, count: taps)
        let inverse = 1 / filterScale
        let unit = Double(1 << Self.precisionBits)
        for xx in 0..<outSize {
            let center = (Double(xx) + 0.5) * scale
            // C's (int) cast truncates toward zero, as Int(_: Double) does.
            let lo = max(Int(center - support + 0.5), 0)
            let n = min(Int(center + support + 0.5), inSize) - lo
            var sum = 0.0
            for x in 0..<max(n, 0) {
                let w = filter.weight((Double(x + lo) - center + 0.5) * inverse)
                k[x] = w
                sum += w
            }
            for x in 0..<max(n, 0) {
                let w = sum != 0 ? k[x] / sum : k[x]
                weights[xx * taps + x] = w < 0 ? Int32(-0.5 + w * unit) : Int32(0.5 + w * unit)
            }
            first[xx] = lo
            count[xx] = max(n, 0)
        }
        self.first = first
        self.count = count
        self.weights = weights
    }
}

/// Interleaved 8-bit pixels with any channel count: the resampler's working form (RGB, or RGBa when
/// emulating PIL's premultiplied RGBA resize).
struct PixelBuffer {
    var width: Int
    var height: Int
    var channels: Int
    var bytes: [UInt8]

    init(width: Int, height: Int, channels: Int, bytes: [UInt8]) {
        precondition(bytes.count == width * height * channels, "pixel buffer size mismatch")
        self.width = width
        self.height = height
        self.channels = channels
        self.bytes = bytes
    }

    init(_ image: RGBImage) {
        self.init(width: image.width, height: image.height, channels: 3, bytes: image.pixels)
    }

    /// PIL's `ImagingResampleInner` for 8-bit images (see `RGBImage.resized` for the pass order).
    func resized(width newWidth: Int, height newHeight: Int, filter: ResampleFilter) -> PixelBuffer {
        precondition(newWidth > 0 && newHeight > 0, "resize target \(newWidth)x\(newHeight) must be positive")
        if newWidth == width && newHeight == height { return self }
        let needHorizontal = newWidth != width, needVertical = newHeight != height
        let horizontalFirst = !(newWidth >= width && newHeight < height)
        var vertical = ResampleTaps(inSize: height, outSize: newHeight, filter: filter)
        var image = self
        if horizontalFirst {
            if needHorizontal {
                let firstRow = vertical.first[0]
                let lastRow = vertical.first[newHeight - 1] + vertical.count[newHeight - 1]
                for i in 0..<newHeight { vertical.first[i] -= firstRow }
                let horizontal = ResampleTaps(inSize: width, outSize: newWidth, filter: filter)
                image = image.horizontalPass(rows: firstRow..<lastRow, taps: horizontal, outWidth: newWidth)
            }
            if needVertical { image = image.verticalPass(taps: vertical, outHeight: newHeight) }
        } else {
            if needVertical { image = image.verticalPass(taps: vertical, outHeight: newHeight) }
            if needHorizontal {
                let horizontal = ResampleTaps(inSize: width, outSize: newWidth, filter: filter)
                image = image.horizontalPass(rows: 0..<image.height, taps: horizontal, outWidth: newWidth)
            }
        }
        return image
    }

    /// PIL's NEAREST resize (`ImagingScaleAffine`): source position accumulated in double precision
    /// from `scale / 2` in steps of `scale`, truncated.
    func resizedNearest(width newWidth: Int, height newHeight: Int) -> PixelBuffer {
        precondition(newWidth > 0 && newHeight > 0, "resize target \(newWidth)x\(newHeight) must be positive")
        if newWidth == width && newHeight == height { return self }
        func positions(_ inSize: Int, _ outSize: Int) -> [Int] {
            let step = Double(Float(inSize)) / Double(outSize)
            var at = step * 0.5
            var out = [Int](repeating: -1, count: outSize)
            for i in 0..<outSize {
                let v = at < 0 ? -1 : Int(at)
                out[i] = v < inSize ? v : -1
                at += step
            }
            return out
        }
        let xs = positions(width, newWidth), ys = positions(height, newHeight)
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * channels)
        let c = channels
        bytes.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (y, sy) in ys.enumerated() where sy >= 0 {
                    for (x, sx) in xs.enumerated() where sx >= 0 {
                        let i = (sy * width + sx) * c, o = (y * newWidth + x) * c
                        for k in 0..<c { dst[o + k] = src[i + k] }
                    }
                }
            }
        }
        return PixelBuffer(width: newWidth, height: newHeight, channels: channels, bytes: out)
    }

    private func horizontalPass(rows: Range<Int>, taps: ResampleTaps, outWidth: Int) -> PixelBuffer {
        let c = channels
        var out = [UInt8](repeating: 0, count: outWidth * rows.count * c)
        let inStride = width * c, outStride = outWidth * c, ksize = taps.taps
        let half = Int32(1 << (ResampleTaps.precisionBits - 1)), shift = Int32(ResampleTaps.precisionBits)
        bytes.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                taps.weights.withUnsafeBufferPointer { kk in
                    taps.first.withUnsafeBufferPointer { firsts in
                        taps.count.withUnsafeBufferPointer { counts in
                            guard let s = src.baseAddress, let d = dst.baseAddress, let k0 = kk.baseAddress else { return }
                            for (row, y) in rows.enumerated() {
                                let line = s + y * inStride
                                let outLine = d + row * outStride
                                for xx in 0..<outWidth {
                                    let k = k0 + xx * ksize
                                    var p = line + firsts[xx] * c
                                    let o = outLine + xx * c
                                    if c == 3 {
                                        var r = half, g = half, b = half
                                        for x in 0..<counts[xx] {
                                            let w = k[x]
                                            r &+= Int32(p[0]) &* w
                                            g &+= Int32(p[1]) &* w
                                            b &+= Int32(p[2]) &* w
                                            p += 3
                                        }
                                        o[0] = clip8(r >> shift)
                                        o[1] = clip8(g >> shift)
                                        o[2] = clip8(b >> shift)
                                    } else {
                                        for ch in 0..<c {
                                            var sum = half
                                            for x in 0..<counts[xx] { sum &+= Int32(p[x * c + ch]) &* k[x] }
                                            o[ch] = clip8(sum >> shift)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return PixelBuffer(width: outWidth, height: rows.count, channels: c, bytes: out)
    }

    private func verticalPass(taps: ResampleTaps, outHeight: Int) -> PixelBuffer {
        let rowBytes = width * channels, ksize = taps.taps
        var out = [UInt8](repeating: 0, count: rowBytes * outHeight)
        let half = Int32(1 << (ResampleTaps.precisionBits - 1)), shift = Int32(ResampleTaps.precisionBits)
        // Accumulating whole rows keeps the inner loop contiguous (and vectorisable in release).
        var acc = [Int32](repeating: 0, count: rowBytes)
        bytes.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                acc.withUnsafeMutableBufferPointer { a in
                    taps.weights.withUnsafeBufferPointer { kk in
                        guard let s = src.baseAddress, let d = dst.baseAddress, let sum = a.baseAddress else { return }
                        for yy in 0..<outHeight {
                            for i in 0..<rowBytes { sum[i] = half }
                            let first = taps.first[yy]
                            for y in 0..<taps.count[yy] {
                                let w = kk[yy * ksize + y]
                                let line = s + (first + y) * rowBytes
                                for i in 0..<rowBytes { sum[i] &+= Int32(line[i]) &* w }
                            }
                            let outLine = d + yy * rowBytes
                            for i in 0..<rowBytes { outLine[i] = clip8(sum[i] >> shift) }
                        }
                    }
                }
            }
        }
        return PixelBuffer(width: width, height: outHeight, channels: channels, bytes: out)
    }
}

extension RGBImage {
    /// `PIL.Image.resize((width, height), filter)` on an RGB image, bit-exact: separable fixed-point
    /// convolution (taps scaled by 2^22), each pass rounded and clipped to 8 bits.
    ///
    /// Pass order follows the Pillow that recorded the reference fixtures: when the height shrinks
    /// but the width does not, the vertical pass runs first; otherwise the horizontal pass runs first,
    /// over only the rows the vertical pass reads. (Pillow releases up to 12.3 always go horizontal
    /// first; the fixtures' 37×501 → 336×336 base view only matches vertical-first.)
    public func resized(width newWidth: Int, height newHeight: Int, filter: ResampleFilter = .bicubic) -> RGBImage {
        let out = PixelBuffer(self).resized(width: newWidth, height: newHeight, filter: filter)
        return RGBImage(width: out.width, height: out.height, pixels: out.bytes)
    }

    /// `PIL.Image.resize((width, height), NEAREST)`, which PIL also forces for "P" and "1" images.
    public func resizedNearest(width newWidth: Int, height newHeight: Int) -> RGBImage {
        let out = PixelBuffer(self).resizedNearest(width: newWidth, height: newHeight)
        return RGBImage(width: out.width, height: out.height, pixels: out.bytes)
    }

    /// `resize` of the RGBA image (self + `alpha`) as PIL does it: convert to premultiplied RGBa
    /// (c·a/255 rounded), resample all four channels, un-premultiply (255·c / a, truncated and clipped;
    /// unchanged where a is 0 or 255), and keep the colour channels (what pasting onto RGB or
    /// `convert('RGB')` leaves).
    public func resizedPremultiplied(alpha: [UInt8], width newWidth: Int, height newHeight: Int,
                                     filter: ResampleFilter = .bicubic) -> RGBImage {
        precondition(alpha.count == width * height, "alpha plane has \(alpha.count) values for \(width)x\(height)")
        if newWidth == width && newHeight == height { return self }
        var rgba = [UInt8](repeating: 0, count: width * height * 4)
        for i in 0..<(width * height) {
            let a = Int(alpha[i])
            for c in 0..<3 {
                let t = Int(pixels[3 * i + c]) * a + 128
                rgba[4 * i + c] = UInt8(((t >> 8) + t) >> 8)
            }
            rgba[4 * i + 3] = alpha[i]
        }
        let out = PixelBuffer(width: width, height: height, channels: 4, bytes: rgba)
            .resized(width: newWidth, height: newHeight, filter: filter)
        var rgb = [UInt8](repeating: 0, count: newWidth * newHeight * 3)
        for i in 0..<(newWidth * newHeight) {
            let a = Int(out.bytes[4 * i + 3])
            for c in 0..<3 {
                let v = Int(out.bytes[4 * i + c])
                rgb[3 * i + c] = (a == 0 || a == 255) ? UInt8(v) : UInt8(min(255, 255 * v / a))
            }
        }
        return RGBImage(width: newWidth, height: newHeight, pixels: rgb)
    }
}

@inline(__always)
private func clip8(_ v: Int32) -> UInt8 {
    v <= 0 ? 0 : (v >= 255 ? 255 : UInt8(truncatingIfNeeded: v))
}
