import Foundation
import Tensor

/// The fields of a Hugging Face `preprocessor_config.json` that `CLIPImageProcessor` uses.
public struct CLIPPreprocessorConfig: Decodable, Equatable, Sendable {
    /// How `size` is given: shortest edge (aspect preserved) or an exact height × width.
    public enum Size: Equatable, Sendable {
        case shortestEdge(Int)
        case exact(height: Int, width: Int)
    }

    public var doResize: Bool
    public var size: Size
    /// PIL resampling code (3 = bicubic, 2 = bilinear, ...).
    public var resample: Int
    public var doCenterCrop: Bool
    public var cropHeight: Int
    public var cropWidth: Int
    public var doRescale: Bool
    public var rescaleFactor: Double
    public var doNormalize: Bool
    public var imageMean: [Double]
    public var imageStd: [Double]
    public var doConvertRGB: Bool

    public init(doResize: Bool = true, size: Size, resample: Int = 3, doCenterCrop: Bool = true,
                cropHeight: Int, cropWidth: Int, doRescale: Bool = true, rescaleFactor: Double = 1.0 / 255.0,
                doNormalize: Bool = true, imageMean: [Double], imageStd: [Double], doConvertRGB: Bool = true) {
        self.doResize = doResize
        self.size = size
        self.resample = resample
        self.doCenterCrop = doCenterCrop
        self.cropHeight = cropHeight
        self.cropWidth = cropWidth
        self.doRescale = doRescale
        self.rescaleFactor = rescaleFactor
        self.doNormalize = doNormalize
        self.imageMean = imageMean
        self.imageStd = imageStd
        self.doConvertRGB = doConvertRGB
    }

    /// openai/clip-vit-large-patch14-336, the LLaVA-1.5/1.6 vision tower's processor.
    public static let clipVitL336 = CLIPPreprocessorConfig(
        size: .shortestEdge(336), resample: 3, cropHeight: 336, cropWidth: 336,
        rescaleFactor: 0.00392156862745098,
        imageMean: [0.48145466, 0.4578275, 0.40821073], imageStd: [0.26862954, 0.26130258, 0.27577711])

    private enum Keys: String, CodingKey {
        case do_resize, size, resample, do_center_crop, crop_size, do_rescale, rescale_factor
        case do_normalize, image_mean, image_std, do_convert_rgb
    }

    private struct SizeDict: Decodable {
        var shortest_edge: Int?
        var height: Int?
        var width: Int?
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        doResize = try c.decodeIfPresent(Bool.self, forKey: .do_resize) ?? true
        // Older configs give sizes as bare integers; CLIPImageProcessor reads those as shortest edge
        // (size) and as a square (crop_size).
        if let edge = try? c.decode(Int.self, forKey: .size) {
            size = .shortestEdge(edge)
        } else {
            let d = try c.decodeIfPresent(SizeDict.self, forKey: .size) ?? SizeDict(shortest_edge: 224)
            if let edge = d.shortest_edge {
                size = .shortestEdge(edge)
            } else if let h = d.height, let w = d.width {
                size = .exact(height: h, width: w)
            } else {
                throw DecodingError.dataCorruptedError(forKey: .size, in: c,
                                                       debugDescription: "size needs shortest_edge or height and width")
            }
        }
        resample = try c.decodeIfPresent(Int.self, forKey: .resample) ?? 3
        doCenterCrop = try c.decodeIfPresent(Bool.self, forKey: .do_center_crop) ?? true
        if let side = try? c.decode(Int.self, forKey: .crop_size) {
            cropHeight = side
            cropWidth = side
        } else {
            let d = try c.decodeIfPresent(SizeDict.self, forKey: .crop_size) ?? SizeDict(height: 224, width: 224)
            guard let h = d.height, let w = d.width else {
                throw DecodingError.dataCorruptedError(forKey: .crop_size, in: c, debugDescription: "crop_size needs height and width")
            }
            cropHeight = h
            cropWidth = w
        }
        doRescale = try c.decodeIfPresent(Bool.self, forKey: .do_rescale) ?? true
        rescaleFactor = try c.decodeIfPresent(Double.self, forKey: .rescale_factor) ?? 1.0 / 255.0
        doNormalize = try c.decodeIfPresent(Bool.self, forKey: .do_normalize) ?? true
        imageMean = try c.decodeIfPresent([Double].self, forKey: .image_mean) ?? Self.clipVitL336.imageMean
        imageStd = try c.decodeIfPresent([Double].self, forKey: .image_std) ?? Self.clipVitL336.imageStd
        doConvertRGB = try c.decodeIfPresent(Bool.self, forKey: .do_convert_rgb) ?? true
    }

    /// Reads and validates a `preprocessor_config.json`.
    public static func load(_ url: URL) throws -> Self {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ImagingError(.unreadable, "cannot read: \(error.localizedDescription)", path: url.path)
        }
        let config: Self
        do { config = try JSONDecoder().decode(Self.self, from: data) } catch {
            throw ImagingError(.invalidArgument, "not a valid preprocessor config: \(error)", path: url.path)
        }
        do { try config.validate() } catch let e as ImagingError { throw e.at(url.path) }
        return config
    }

    /// Checks the values this implementation relies on (bounded sizes, three channels, a supported filter).
    public func validate() throws {
        func bad(_ text: String) -> ImagingError { ImagingError(.invalidArgument, text) }
        let limit = 8192
        switch size {
        case .shortestEdge(let e):
            guard e > 0 && e <= limit else { throw bad("size.shortest_edge \(e) is outside 1...\(limit)") }
        case .exact(let h, let w):
            guard (1...limit).contains(h), (1...limit).contains(w) else { throw bad("size \(h)x\(w) is outside 1...\(limit)") }
        }
        guard (1...limit).contains(cropHeight), (1...limit).contains(cropWidth) else {
            throw bad("crop_size \(cropHeight)x\(cropWidth) is outside 1...\(limit)")
        }
        guard ResampleFilter(pilCode: resample) != nil else {
            throw bad("resample \(resample) is not supported (use 1 lanczos, 2 bilinear, 3 bicubic, 4 box or 5 hamming)")
        }
        guard imageMean.count == 3, imageStd.count == 3 else {
            throw bad("image_mean and image_std need 3 values, got \(imageMean.count) and \(imageStd.count)")
        }
        guard imageStd.allSatisfy({ $0 != 0 && $0.isFinite }), imageMean.allSatisfy(\.isFinite), rescaleFactor.isFinite else {
            throw bad("image_mean/image_std/rescale_factor must be finite and std non-zero")
        }
    }
}

/// `CLIPImageProcessor.preprocess` (transformers 4.37.2) for one RGB image: resize (PIL, shortest
/// edge → `size`, long edge `int(size * long / short)`), centre crop (offsets floor((in - crop) / 2),
/// zero padding when the image is smaller), rescale in float64 then cast to float32, normalise in
/// float32. Output is a float32 tensor [3, cropHeight, cropWidth] (or the resized size without crop).
public struct CLIPPreprocessor: Sendable {
    public let config: CLIPPreprocessorConfig
    private let filter: ResampleFilter
    /// Per channel, the normalised value of each byte: the arithmetic is per-byte, so a table is exact.
    private let table: [Float]

    /// Builds a processor; an unsupported `resample` falls back to bicubic (use `load` + `validate` to
    /// reject such configs up front).
    public init(config: CLIPPreprocessorConfig) {
        self.config = config
        filter = ResampleFilter(pilCode: config.resample) ?? .bicubic
        var table = [Float](repeating: 0, count: 3 * 256)
        for c in 0..<3 {
            let mean = Float(c < config.imageMean.count ? config.imageMean[c] : 0)
            let std = Float(c < config.imageStd.count ? config.imageStd[c] : 1)
            for v in 0..<256 {
                var x = config.doRescale ? Float(Double(v) * config.rescaleFactor) : Float(v)
                if config.doNormalize { x = (x - mean) / std }
                table[c * 256 + v] = x
            }
        }
        self.table = table
    }

    /// The (width, height) the resize step produces for an input of the given size.
    public func resizedSize(width: Int, height: Int) -> (width: Int, height: Int) {
        guard config.doResize else { return (width, height) }
        switch config.size {
        case .exact(let h, let w):
            return (w, h)
        case .shortestEdge(let edge):
            let short = max(min(width, height), 1), long = max(width, height)
            let newLong = Int(Double(edge * long) / Double(short))
            return width <= height ? (edge, newLong) : (newLong, edge)
        }
    }

    public func callAsFunction(_ img: RGBImage) -> Tensor {
        let target = resizedSize(width: img.width, height: img.height)
        let image = img.resized(width: target.width, height: target.height, filter: filter)
        let outH = config.doCenterCrop ? config.cropHeight : image.height
        let outW = config.doCenterCrop ? config.cropWidth : image.width
        // transformers zero-pads a too-small image centred by ceil and then crops at floor offsets;
        // both cases reduce to: source = output + floor((in - crop) / 2), zero outside the image.
        let top = config.doCenterCrop ? floorDiv(image.height - outH, 2) : 0
        let left = config.doCenterCrop ? floorDiv(image.width - outW, 2) : 0
        var data = [Float](repeating: 0, count: 3 * outH * outW)
        let plane = outH * outW
        let srcW = image.width, srcH = image.height
        image.pixels.withUnsafeBufferPointer { src in
            table.withUnsafeBufferPointer { lut in
                data.withUnsafeMutableBufferPointer { dst in
                    for y in 0..<outH {
                        let sy = y + top
                        for x in 0..<outW {
                            let sx = x + left
                            let o = y * outW + x
                            if sy >= 0 && sy < srcH && sx >= 0 && sx < srcW {
                                let i = (sy * srcW + sx) * 3
                                dst[o] = lut[Int(src[i])]
                                dst[plane + o] = lut[256 + Int(src[i + 1])]
                                dst[2 * plane + o] = lut[512 + Int(src[i + 2])]
                            } else {
                                dst[o] = lut[0]
                                dst[plane + o] = lut[256]
                                dst[2 * plane + o] = lut[512]
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [3, outH, outW], data: data)
    }
}

@inline(__always)
func floorDiv(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

extension CLIPPreprocessor {
    /// The picture a preprocessed view [3, H, W] shows, back in bytes: what the vision tower saw after
    /// padding, anyres cropping and resizing, for drawing a selection over exactly those patches.
    public func picture(of view: Tensor) -> RGBImage {
        precondition(view.rank == 3 && view.shape[0] == 3, "a view is [3, H, W], got \(view.shape)")
        let h = view.shape[1], w = view.shape[2], plane = h * w
        let data = view.data
        var pixels = [UInt8](repeating: 0, count: 3 * plane)
        for c in 0..<3 {
            let mean = c < config.imageMean.count ? config.imageMean[c] : 0
            let std = c < config.imageStd.count ? config.imageStd[c] : 1
            for o in 0..<plane {
                var x = Double(data[c * plane + o])
                if config.doNormalize { x = x * std + mean }
                if config.doRescale { x /= config.rescaleFactor }
                pixels[3 * o + c] = UInt8(max(0, min(255, x.rounded())))
            }
        }
        return RGBImage(width: w, height: h, pixels: pixels)
    }
}
