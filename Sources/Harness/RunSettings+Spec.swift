import Benchmarks
import Records

extension RunSettings {
    /// The run config these settings give for a model and a benchmark (its split, and its decoding
    /// length unless the settings override it).
    public func config(modelID: String, fingerprint: String, spec: DatasetSpec) -> RunConfig {
        config(modelID: modelID, fingerprint: fingerprint, dataset: spec.name, split: spec.split,
               defaultMaxNewTokens: spec.maxNewTokens)
    }
}
