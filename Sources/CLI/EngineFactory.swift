import Foundation
import Datasets
import Harness
import Scoring

// Seams between the CLI and modules written separately. Each function below is a placeholder
// that the lead replaces when the corresponding module lands; the eval/sweep/merge commands only
// call these.

/// SEAM (Model module): builds the native LLaVA engine for a checkpoint directory.
func makeEngine(model: URL, visionTower: URL?) throws -> AnswerEngine {
    throw HarnessError("engine not available yet: the native LLaVA engine is not wired into this build (model \(model.path))")
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
