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
}
