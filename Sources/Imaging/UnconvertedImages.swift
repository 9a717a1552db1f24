import Tensor

extension LLaVAImagePreprocessing {
    /// LLaVA-1.5 "pad" preprocessing of an image the caller did NOT convert to RGB first, as the
    /// reference's ScienceQA script does (`Image.open(...)` straight into `process_images`).
    ///
    /// `expand2square` then builds its canvas in the file's own mode, which changes the result for
    /// non-square images (square ones are untouched and the CLIP processor converts them to RGB):
    /// - RGB, RGBA: identical to `pad` (the RGBA canvas gets alpha 255 and alpha is dropped later).
    /// - P (palette): `Image.new('P', size, rgb)` creates a fresh palette holding only the background
    ///   colour at index 0, and `paste` copies indices without the source palette, so pixels with index
    ///   0 take the background colour and every other index turns black (current Pillow zero-fills
    ///   palette entries it was not given).
    /// - CMYK: the 3-tuple becomes ink (c, m, y, k = 255), i.e. a black background.
    /// - L, LA, 1, I;16: Pillow raises `TypeError` for a 3-tuple colour; this throws `.unsupported`.
    public static func padUnconverted(_ decoded: DecodedImage,
                                      processor: CLIPPreprocessor = CLIPPreprocessor(config: .clipVitL336)) throws -> Tensor {
        let img = decoded.image
        if img.width == img.height { return processor(img) }
        switch decoded.sourceMode {
        case .rgb, .rgba:
            return pad(img, processor: processor)
        case .cmyk:
            return processor(expandToSquare(img, background: (0, 0, 0)))
        case .palette:
            guard let indices = decoded.paletteIndices, indices.count == img.width * img.height else {
                throw ImagingError(.invalidArgument, "palette image without its palette indices")
            }
            let bg = meanColour(processor.config)
            var remapped = [UInt8](repeating: 0, count: indices.count * 3)
            for (i, index) in indices.enumerated() where index == 0 {
                remapped[3 * i] = bg.0
                remapped[3 * i + 1] = bg.1
                remapped[3 * i + 2] = bg.2
            }
            let quirk = RGBImage(width: img.width, height: img.height, pixels: remapped)
            return processor(expandToSquare(quirk, background: bg))
        case .gray, .bilevel, .gray16, .grayAlpha:
            throw ImagingError(.unsupported,
                               "reference expand2square cannot pad a mode \(decoded.sourceMode.rawValue) image with an RGB colour (PIL raises TypeError); convert to RGB and use pad()")
        }
    }

    /// LLaVA-1.6 anyres of an image the caller did NOT convert to RGB first (the reference's
    /// ScienceQA path). PIL's `resize` then depends on the file's mode: "P" and "1" images are resized
    /// with NEAREST whatever filter is asked for, and RGBA / LA images are resized premultiplied by alpha
    /// (then un-premultiplied), so colours under partial transparency differ from `anyres`. Other modes
    /// use `anyres` unchanged (for CMYK and 16-bit gray, PIL resizes in the source mode before
    /// converting; that is not emulated and may differ by rounding).
    public static func anyresUnconverted(_ decoded: DecodedImage, grid: AnyresGrid = .fixed672,
                                         processor: CLIPPreprocessor = CLIPPreprocessor(config: .clipVitL336))
        -> (views: Tensor, gridSize: (columns: Int, rows: Int)) {
        let alpha = decoded.alpha.flatMap { $0.count == decoded.image.width * decoded.image.height ? $0 : nil }
        return anyres(decoded.image, grid: grid, processor: processor) { img, w, h in
            switch decoded.sourceMode {
            case .palette, .bilevel:
                return img.resizedNearest(width: w, height: h)
            case .rgba, .grayAlpha:
                guard let alpha else { fallthrough }
                return img.resizedPremultiplied(alpha: alpha, width: w, height: h, filter: .bicubic)
            default:
                return img.resized(width: w, height: h, filter: .bicubic)
            }
        }
    }
}
