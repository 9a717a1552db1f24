import Checkpoint
import Foundation
import Model
import Pruning
import Store

/// The native LLaVA engine behind the harness's `AnswerEngine` seam.
public final class LLaVAAnswerEngine: AnswerEngine {
    public let pipeline: LLaVAPipeline
    public let modelID: String
    public let fingerprint: String

    public init(modelDirectory: URL, visionTower: URL? = nil, anyresMode: AnyresMode = .fixed,
                precision: ComputePrecision = .float32) throws {
        pipeline = try LLaVAPipeline(modelDirectory: modelDirectory, visionTower: visionTower, anyresMode: anyresMode,
                                     precision: precision)
        modelID = modelDirectory.standardizedFileURL.lastPathComponent
        let weights = try Self.fingerprint(model: modelDirectory, visionTower: pipeline.visionTowerDirectory)
        // Stock anyres feeds LLaVA-1.6 differently: its runs must never resume or merge with fixed-grid runs,
        // so the mode joins the fingerprint (the default leaves existing run keys unchanged).
        var key = pipeline.isAnyres && anyresMode != .fixed ? "\(weights)+anyres-\(anyresMode.rawValue)" : weights
        // Reduced-precision answers differ from float32 ones: they get their own run key too.
        if precision != .float32 { key += "+\(precision.rawValue)" }
        fingerprint = key
    }

    /// Identifies the weights without reading them: the configs plus every tensor's name, dtype and
    /// shape, of the language model and of the vision tower.
    public static func fingerprint(model: URL, visionTower: URL) throws -> String {
        var text = ""
        for dir in [model, visionTower] {
            let config = (try? String(contentsOf: dir.appendingPathComponent("config.json"), encoding: .utf8)) ?? ""
            text += "config:\(config)\n"
            let store = try WeightStore(directory: dir)
            for name in store.names.sorted() {
                let t = try store.tensor(name)
                text += "\(name):\(t.dtype.rawValue):\(t.shape)\n"
            }
        }
        return SHA256Digest.hex(text)
    }

    public func answer(_ request: AnswerRequest) throws -> EngineAnswer {
        let method: SelectionMethod?
        if request.method == RunConfig.baselineMethod || request.tokens == nil {
            method = nil
        } else {
            guard let m = SelectionMethod(rawValue: request.method) else {
                throw HarnessError("unknown pruning method '\(request.method)' (known: \(SelectionMethod.names), or \(RunConfig.baselineMethod))")
            }
            method = m
        }
        let r = try pipeline.run(PipelineRequest(imageURL: request.imageURL, question: request.prompt, method: method,
                                                 tokens: request.tokens ?? 576, ratio: request.ratio, seed: request.seed,
                                                 maxNewTokens: request.maxNewTokens))
        let t = r.timings
        return EngineAnswer(text: r.text, generatedTokens: r.generatedIDs.count, visualTokensFed: r.visualTokensFed,
                            kept: r.selections.map(\.kept),
                            // The projector runs inside the reference's encode_images, so it is counted with the vision stage.
                            timings: ["preprocess": t.preprocess, "vision": t.vision + t.projector, "prune": t.prune,
                                      "prefill": t.prefill, "decode": t.decode, "total": t.total])
    }
}
