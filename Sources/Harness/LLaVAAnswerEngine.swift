import Checkpoint
import Foundation
import Model
import Tensor
import Records

/// The native LLaVA engine behind the harness's `AnswerEngine` seam.
public final class LLaVAAnswerEngine: AnswerEngine {
    public let pipeline: LLaVAPipeline
    public let modelID: String
    public let fingerprint: String
    private var pendingLoadMilliseconds: Double
    /// Share features, prefixes and decoding between the items of a group (`answer(group:)`); false
    /// answers each item on its own, the plain path (`--no-reuse`).
    public var reuse = true
    /// Sequences decoded together when reusing.
    public var batch = ImageGridRequest.defaultBatch
    private let costModel: CostModel

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
        // Answers computed with another summation order (an older engine, or a machine-dependent opt-in such as
        // OpenBLAS) never resume, merge or share with these: the arithmetic is part of the run key.
        key += "+numerics-" + Numerics.arithmetic(bfloat16: precision == .bfloat16)
        fingerprint = key
        pendingLoadMilliseconds = pipeline.loadMilliseconds
        costModel = CostModel(config: pipeline.model.config, vision: pipeline.model.vision.config)
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
        answer(from: try pipeline.run(PipelineRequest(imageURL: request.imageURL, question: request.prompt, settings: request.settings)))
    }

    public func answer(group: AnswerGroup) -> [[Result<EngineAnswer, Error>]] {
        guard reuse else {
            return group.settings.map { s in
                group.prompts.map { p in Result { try answer(AnswerRequest(imageURL: group.imageURL, prompt: p, settings: s)) } }
            }
        }
        let results = pipeline.runGrid(ImageGridRequest(imageURL: group.imageURL, questions: group.prompts,
                                                        settings: group.settings, batch: batch))
        return results.map { row in row.map { $0.map(answer(from:)) } }
    }

    private func answer(from r: PipelineResult) -> EngineAnswer {
        var timings = r.timings
        // Opening the checkpoint is paid once per engine: it is counted on the first item answered.
        timings.load = pendingLoadMilliseconds
        pendingLoadMilliseconds = 0
        return EngineAnswer(text: r.text, generatedTokens: r.generatedIDs.count, visualTokensFed: r.visualTokensFed,
                            kept: r.selections.map(\.kept), timings: timings, cost: costModel.cost(of: r),
                            imagePath: r.imagePath, selectionMargin: r.selections.compactMap(\.margin).min())
    }
}
