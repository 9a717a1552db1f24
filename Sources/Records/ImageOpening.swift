/// How an item's image file reaches preprocessing. The reference evaluation scripts differ here:
/// most open images with `.convert('RGB')`, ScienceQA's `model_vqa_science.py` does not, and LLaVA's
/// `expand2square` then pads palette and CMYK images differently (EVAL.md, "Image handling").
public enum ImageOpening: String, CaseIterable, Sendable, Codable {
    /// As the benchmark's reference script opens it (the default).
    case reference
    /// Always converted to RGB first, whatever the reference script does.
    case rgb

    /// The `RunSettings.extra` key a run that opens images unconverted is recorded under. Runs that
    /// convert to RGB carry no such key, so runs stored before this option existed (which converted)
    /// keep their keys and are matched as RGB runs.
    public static let extraKey = "images"
    public static let unconvertedValue = "unconverted"
}

/// Which preprocessing path an image took in a run that opens images unconverted.
public enum ImagePath: String, CaseIterable, Sendable, Codable {
    /// The unconverted mode changed nothing (RGB/RGBA, or a square image).
    case plain
    /// The reference's unconverted-image handling changed the pixels (palette black-out, CMYK ink background).
    case quirk
    /// The reference cannot process this image (it raises); it was converted to RGB instead (documented rule).
    case fallback
}

extension RunSettings {
    /// True when images are opened without conversion, as ScienceQA's reference script does.
    public var opensImagesUnconverted: Bool { extra[ImageOpening.extraKey] == ImageOpening.unconvertedValue }

    /// These settings for a benchmark whose reference script opens images unconverted (`unconverted`) or
    /// converted: the run key records the unconverted path only where it applies and was not overridden.
    public func resolvingImages(benchmarkOpensUnconverted unconverted: Bool) -> RunSettings {
        var s = self
        if unconverted && images == .reference {
            s.extra[ImageOpening.extraKey] = ImageOpening.unconvertedValue
        } else {
            s.extra.removeValue(forKey: ImageOpening.extraKey)
        }
        return s
    }
}
