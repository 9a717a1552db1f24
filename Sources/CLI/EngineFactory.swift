import ArgumentParser
import Foundation
import Datasets
import Harness
import Model
import Scoring

// How the CLI builds engines, adapters and scorers; the eval/sweep/merge commands only call these.

/// The native LLaVA engine for a checkpoint directory.
func makeEngine(model: URL, visionTower: URL?, anyres: AnyresMode = .fixed,
                precision: ComputePrecision = .float32) throws -> AnswerEngine {
    try LLaVAAnswerEngine(modelDirectory: model, visionTower: visionTower, anyresMode: anyres, precision: precision)
}

/// The adapter for a benchmark name declared in datasets.json, with paths resolved under `dataRoot`.
func makeAdapter(dataset: String, dataRoot: URL) throws -> BenchmarkAdapter {
    try DatasetRegistry.load().adapter(for: dataset, dataRoot: dataRoot)
}

/// The official-identical scorer for a benchmark, or nil when the benchmark has no local score
/// (VQAv2 test-dev is scored by the EvalAI server).
func makeScorer(dataset: String, dataRoot: URL) throws -> BenchmarkScorer? {
    let spec = try DatasetRegistry.load().spec(named: dataset)
    if spec.name == "vqav2" && spec.split.hasPrefix("test") { return nil }
    return try ScorerRegistry.scorer(for: spec, dataRoot: dataRoot)
}

extension AnyresMode: ExpressibleByArgument {}
extension ComputePrecision: ExpressibleByArgument {}
