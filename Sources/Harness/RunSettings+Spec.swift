import Benchmarks
import Records

extension RunSettings {
    /// The run config these settings give for a model and a benchmark (its split, its decoding length
    /// unless the settings override it, and how its reference script opens images).
    public func config(modelID: String, fingerprint: String, spec: DatasetSpec) -> RunConfig {
        resolving(spec).config(modelID: modelID, fingerprint: fingerprint, dataset: spec.name, split: spec.split,
                               defaultMaxNewTokens: spec.maxNewTokens)
    }

    /// These settings as they apply to one benchmark (`--images` resolved against its reference script).
    public func resolving(_ spec: DatasetSpec) -> RunSettings {
        resolvingImages(benchmarkOpensUnconverted: BenchmarkCatalog.implementation(for: spec)?.opensImagesUnconverted ?? false)
    }
}
