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

extension RGBImage {
    /// `PIL.Image.resize((width, height), filter)` on an RGB image, bit-exact: separable fixed-point
    /// convolution (taps scaled by 2^22), each pass rounded and clipped to 8 bits.
    ///
    /// Pass order follows the Pillow that recorded the reference fixtures: when the height shrinks
    /// but the width does not, the vertical pass runs first; otherwise the horizontal pass runs first,
    /// over only the rows the vertical pass reads. (Pillow releases up to 12.3 always go horizontal
    /// first; the fixtures' 37×501 → 336×336 base view only matches vertical-first.)
    public func resized(width newWidth: Int, height newHeight: Int, filter: ResampleFilter = .bicubic) -> RGBImage {
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

    private func horizontalPass(rows: Range<Int>, taps: ResampleTaps, outWidth: Int) -> RGBImage {
        var out = [UInt8](repeating: 0, count: outWidth * rows.count * 3)
        let inStride = width * 3, outStride = outWidth * 3, ksize = taps.taps
        let half = Int32(1 << (ResampleTaps.precisionBits - 1)), shift = Int32(ResampleTaps.precisionBits)
        pixels.withUnsafeBufferPointer { src in
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
                                    var p = line + firsts[xx] * 3
                                    var r = half, g = half, b = half
                                    for x in 0..<counts[xx] {
                                        let w = k[x]
                                        r &+= Int32(p[0]) &* w
                                        g &+= Int32(p[1]) &* w
                                        b &+= Int32(p[2]) &* w
                                        p += 3
                                    }
                                    outLine[xx * 3] = clip8(r >> shift)
                                    outLine[xx * 3 + 1] = clip8(g >> shift)
                                    outLine[xx * 3 + 2] = clip8(b >> shift)
                                }
                            }
                        }
                    }
                }
            }
        }
        return RGBImage(width: outWidth, height: rows.count, pixels: out)
    }

    private func verticalPass(taps: ResampleTaps, outHeight: Int) -> RGBImage {
        let rowBytes = width * 3, ksize = taps.taps
        var out = [UInt8](repeating: 0, count: rowBytes * outHeight)
        let half = Int32(1 << (ResampleTaps.precisionBits - 1)), shift = Int32(ResampleTaps.precisionBits)
        // Accumulating whole rows keeps the inner loop contiguous (and vectorisable in release).
        var acc = [Int32](repeating: 0, count: rowBytes)
        pixels.withUnsafeBufferPointer { src in
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
        return RGBImage(width: width, height: outHeight, pixels: out)
    }
}

@inline(__always)
private func clip8(_ v: Int32) -> UInt8 {
    v <= 0 ? 0 : (v >= 255 ? 255 : UInt8(truncatingIfNeeded: v))
}
