import Foundation
import Datasets

/// Scorer and exporter for each benchmark, chosen by the spec's `scorer` / `submissionFormat` keys.
public enum ScorerRegistry {
    /// The generic format every benchmark supports (LLaVA answers `.jsonl`).
    public static let answersJSONLFormat = "answers-jsonl"

    /// The scorer for a spec (loads its ground truth).
    public static func scorer(for spec: DatasetSpec, dataRoot: URL) throws -> any BenchmarkScorer {
        switch spec.scorer {
        case "vqav2": return try VQAv2Scorer(spec: spec, dataRoot: dataRoot)
        case "gqa": return try GQAScorer(spec: spec, dataRoot: dataRoot)
        case "textvqa": return try TextVQAScorer(spec: spec, dataRoot: dataRoot)
        case "mme": return try MMEScorer(spec: spec, dataRoot: dataRoot)
        case "pope": return try POPEScorer(spec: spec, dataRoot: dataRoot)
        case "scienceqa": return try ScienceQAScorer(spec: spec, dataRoot: dataRoot)
        default:
            throw DatasetError("no scorer '\(spec.scorer)' (benchmark '\(spec.name)') in this build")
        }
    }

    /// The submission exporter for a spec; `format` overrides the spec's (e.g. "answers-jsonl").
    public static func exporter(for spec: DatasetSpec, dataRoot: URL, format: String? = nil) throws -> any SubmissionExporter {
        switch format ?? spec.submissionFormat {
        case answersJSONLFormat: return AnswersJSONLExporter(spec: spec, dataRoot: dataRoot)
        case "evalai-vqav2": return VQAv2Exporter(spec: spec, dataRoot: dataRoot)
        case "gqa-predictions": return GQAExporter(spec: spec, dataRoot: dataRoot)
        case "evalai-textvqa": return TextVQAExporter(spec: spec, dataRoot: dataRoot)
        case "mme-eval-tool": return MMEExporter(spec: spec, dataRoot: dataRoot)
        case "pope-answers": return POPEExporter(spec: spec, dataRoot: dataRoot)
        case "scienceqa-result": return ScienceQAExporter(spec: spec, dataRoot: dataRoot)
        case let f:
            throw DatasetError("no exporter '\(f)' (benchmark '\(spec.name)') in this build")
        }
    }
}
