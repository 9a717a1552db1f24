import Foundation
import Tensor

/// A candidate anyres canvas in pixels, written `[width, height]` in LLaVA's `image_grid_pinpoints`.
public struct AnyresResolution: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// Parses `image_grid_pinpoints` as a list of `[width, height]` pairs, refusing empty, odd-shaped or
    /// absurd entries (each side must be in 1...8192).
    public static func pinpoints(_ pairs: [[Int]]) throws -> [AnyresResolution] {
        guard !pairs.isEmpty else { throw ImagingError(.invalidArgument, "image_grid_pinpoints is empty") }
        return try pairs.enumerated().map { i, p in
            guard p.count == 2, (1...8192).contains(p[0]), (1...8192).contains(p[1]) else {
                throw ImagingError(.invalidArgument, "image_grid_pinpoints[\(i)] = \(p) is not a [width, height] pair in 1...8192")
            }
            return AnyresResolution(width: p[0], height: p[1])
        }
    }
}

/// How the LLaVA-1.6 anyres canvas is chosen.
public enum AnyresGrid: Equatable, Sendable {
    /// VisPruner's reference: always 672×672 (2×2 crops + base view = 5 × 576 tokens).
    case fixed672
    /// Stock LLaVA-1.6: `select_best_resolution` over `image_grid_pinpoints`.
    case bestFit([AnyresResolution])

    /// The canvas an image of `width`×`height` is resized and padded onto.
    public func resolution(forWidth width: Int, height: Int) -> AnyresResolution {
        switch self {
        case .fixed672:
            return AnyresResolution(width: 672, height: 672)
        case .bestFit(let candidates):
            return LLaVAImagePreprocessing.selectBestResolution(width: width, height: height, candidates: candidates)
        }
    }
}

/// Image preprocessing exactly as the LLaVA code VisPruner runs (llava/mm_utils.py), on top of the
/// CLIP processor.
public enum LLaVAImagePreprocessing {
    /// LLaVA-1.5 (`image_aspect_ratio` "pad"): `expand2square` onto the CLIP mean colour
    /// (`int(mean * 255)` per channel, the image pasted at floor((long - short) / 2)), then the CLIP
    /// processor. Returns [3, crop, crop].
    public static func pad(_ img: RGBImage, processor: CLIPPreprocessor = CLIPPreprocessor(config: .clipVitL336)) -> Tensor {
        processor(expandToSquare(img, background: meanColour(processor.config)))
    }

    /// LLaVA-1.6 anyres: the base view (the whole image resized straight to shortest_edge², bicubic)
    /// followed by the crops of the image resized to fit the chosen canvas (bicubic, aspect kept,
    /// `ceil` on the scaled side) and centred on black, split row-major into crop-sized tiles; every
    /// view then goes through the CLIP processor. Returns views [1 + rows·columns, 3, crop, crop] and the
    /// grid in tiles (what `get_anyres_image_grid_shape` gives the model for `spatial_unpad`).
    public static func anyres(_ img: RGBImage, grid: AnyresGrid = .fixed672,
                              processor: CLIPPreprocessor = CLIPPreprocessor(config: .clipVitL336))
        -> (views: Tensor, gridSize: (columns: Int, rows: Int)) {
        anyres(img, grid: grid, processor: processor) { $0.resized(width: $1, height: $2, filter: .bicubic) }
    }

    /// `anyres` with the two PIL `resize` calls (base view, fit-to-canvas) delegated to `resize`.
    static func anyres(_ img: RGBImage, grid: AnyresGrid, processor: CLIPPreprocessor,
                       resize: (RGBImage, Int, Int) -> RGBImage) -> (views: Tensor, gridSize: (columns: Int, rows: Int)) {
        let canvas = grid.resolution(forWidth: img.width, height: img.height)
        let padded = resizeAndPad(img, to: canvas, resize: resize)
        let tileH = processor.config.cropHeight, tileW = processor.config.cropHeight
        var views: [RGBImage] = []
        let edge: Int
        switch processor.config.size {
        case .shortestEdge(let e): edge = e
        case .exact(let h, _): edge = h
        }
        views.append(resize(img, edge, edge))
        // LLaVA's divide_to_patches steps by crop_size['height'] on both axes.
        for y in stride(from: 0, to: padded.height, by: tileH) {
            for x in stride(from: 0, to: padded.width, by: tileW) {
                views.append(padded.cropped(x: x, y: y, width: tileW, height: tileH))
            }
        }
        var data: [Float] = []
        var viewShape: [Int] = []
        for view in views {
            let t = processor(view)
            viewShape = t.shape
            data.append(contentsOf: t.data)
        }
        let columns = canvas.width / max(tileW, 1), rows = canvas.height / max(tileH, 1)
        return (Tensor(shape: [views.count] + viewShape, data: data), (columns, rows))
    }

    /// The CLIP mean as LLaVA's pad colour: `tuple(int(x * 255) for x in image_mean)`.
    public static func meanColour(_ config: CLIPPreprocessorConfig) -> (UInt8, UInt8, UInt8) {
        func channel(_ i: Int) -> UInt8 {
            guard i < config.imageMean.count else { return 0 }
            return UInt8(clamping: Int(config.imageMean[i] * 255))
        }
        return (channel(0), channel(1), channel(2))
    }

    /// `expand2square`: a square of the longer side filled with `background`, the image pasted centred
    /// with the floor offset on the short axis. Square images are returned unchanged.
    public static func expandToSquare(_ img: RGBImage, background: (UInt8, UInt8, UInt8)) -> RGBImage {
        if img.width == img.height { return img }
        let side = max(img.width, img.height)
        var out = RGBImage(width: side, height: side, fill: background)
        if img.width > img.height {
            out.paste(img, x: 0, y: (img.width - img.height) / 2)
        } else {
            out.paste(img, x: (img.height - img.width) / 2, y: 0)
        }
        return out
    }

    /// `resize_and_pad_image`: scale to fit `target` keeping the aspect ratio (the constrained side
    /// exact, the other `min(ceil(side * scale), target)`), bicubic, pasted centred on black.
    public static func resizeAndPad(_ img: RGBImage, to target: AnyresResolution) -> RGBImage {
        resizeAndPad(img, to: target) { $0.resized(width: $1, height: $2, filter: .bicubic) }
    }

    static func resizeAndPad(_ img: RGBImage, to target: AnyresResolution,
                             resize: (RGBImage, Int, Int) -> RGBImage) -> RGBImage {
        let scaleW = Double(target.width) / Double(img.width)
        let scaleH = Double(target.height) / Double(img.height)
        let newW: Int, newH: Int
        if scaleW < scaleH {
            newW = target.width
            newH = min(Int((Double(img.height) * scaleW).rounded(.up)), target.height)
        } else {
            newH = target.height
            newW = min(Int((Double(img.width) * scaleH).rounded(.up)), target.width)
        }
        let resized = resize(img, max(newW, 1), max(newH, 1))
        var canvas = RGBImage(width: target.width, height: target.height)
        canvas.paste(resized, x: (target.width - resized.width) / 2, y: (target.height - resized.height) / 2)
        return canvas
    }

    /// `select_best_resolution`: the candidate keeping the most image pixels after a fit-inside
    /// downscale (capped at the original count), ties broken by the least wasted area, first wins.
    public static func selectBestResolution(width: Int, height: Int, candidates: [AnyresResolution]) -> AnyresResolution {
        var best = candidates.first ?? AnyresResolution(width: 672, height: 672)
        var bestEffective = 0
        var leastWasted = Int.max
        for c in candidates {
            let scale = min(Double(c.width) / Double(width), Double(c.height) / Double(height))
            let w = Int(Double(width) * scale), h = Int(Double(height) * scale)
            let effective = min(w * h, width * height)
            let wasted = c.width * c.height - effective
            if effective > bestEffective || (effective == bestEffective && wasted < leastWasted) {
                bestEffective = effective
                leastWasted = wasted
                best = c
            }
        }
        return best
    }
}
