import Checkpoint
import Dispatch
import Foundation
import Imaging
import Pruning
import Tensor
import Tokenizer

/// One question for the full pipeline.
public struct PipelineRequest: Sendable {
    /// The image, or nil for a text-only question.
    public var imageURL: URL?
    /// The user message after the image placeholder (question text with its prompt suffix).
    public var question: String
    /// Selection method; nil feeds every visual token (the unpruned model).
    public var method: SelectionMethod?
    /// Visual-token budget per view (LLaVA-1.6: per base view and per crop).
    public var tokens: Int
    public var ratio: Double
    public var seed: UInt64
    public var maxNewTokens: Int
    /// Feed exactly these patch indices per view instead of selecting (replays a recorded selection,
    /// e.g. to compare everything downstream of pruning with a reference run).
    public var fixedSelection: [[Int]]?

    public init(imageURL: URL?, question: String, method: SelectionMethod?, tokens: Int = 576, ratio: Double = 0.5,
                seed: UInt64 = 0, maxNewTokens: Int = 128, fixedSelection: [[Int]]? = nil) {
        self.imageURL = imageURL
        self.question = question
        self.method = method
        self.tokens = tokens
        self.ratio = ratio
        self.seed = seed
        self.maxNewTokens = maxNewTokens
        self.fixedSelection = fixedSelection
    }
}

/// What the pipeline produced for one request.
public struct PipelineResult: Sendable {
    /// The conversation text fed to the tokenizer (vicuna_v1 template).
    public var prompt: String
    /// Prompt ids with -200 where the image goes.
    public var inputIDs: [Int]
    /// New token ids (no prompt, no leading BOS).
    public var generatedIDs: [Int]
    /// Decoded answer, special tokens skipped and stripped as the reference does.
    public var text: String
    /// Per view (one for LLaVA-1.5; base view then crops for LLaVA-1.6): kept, important and diverse patch indices.
    public var selections: [Selection]
    /// Visual tokens that reached the language model (after pruning and truncation).
    public var visualTokensFed: Int
    /// Length of the spliced text + visual sequence.
    public var inputsEmbedsLength: Int
    public var timings: StageTimings
    /// Next-token logits after the prompt ([vocab]).
    public var firstLogits: Tensor
}

/// How LLaVA-1.6 (anyres) images are split and fed.
public enum AnyresMode: String, CaseIterable, Sendable {
    /// VisPruner's reference: a fixed 2×2 grid of 336 px crops plus the base view, every kept token fed,
    /// no unpadding and no newline tokens (the default; what the recorded results use).
    case fixed
    /// Stock LLaVA-1.6: the grid from `image_grid_pinpoints` that best fits the image, `spatial_unpad`,
    /// and `image_newline` after every row.
    case stock
}

/// Image file + question → answer, exactly as the reference evaluation runs LLaVA with VisPruner:
/// vicuna_v1 prompt, `<image>` spliced at -200, LLaVA-1.5 pad preprocessing or LLaVA-1.6 anyres,
/// selection per view between the vision tower and the projector, greedy decoding.
public final class LLaVAPipeline {
    public let model: LLaVAModel
    public let tokenizer: SentencePieceTokenizer
    public let preprocessor: CLIPPreprocessor
    public let modelDirectory: URL
    public let visionTowerDirectory: URL
    /// How LLaVA-1.6 images are split and fed (ignored for LLaVA-1.5).
    public let anyresMode: AnyresMode
    /// Milliseconds spent opening the checkpoint (weights are memory-mapped, not read).
    public let loadMilliseconds: Double

    public init(modelDirectory: URL, visionTower: URL? = nil, anyresMode: AnyresMode = .fixed,
                precision: ComputePrecision = .float32) throws {
        let t0 = DispatchTime.now()
        let config = try LLaVAConfig.load(directory: modelDirectory)
        guard let towerName = config.mmVisionTower ?? visionTower?.path else {
            throw CheckpointError("\(modelDirectory.path)/config.json: mm_vision_tower is missing and no vision tower was given")
        }
        visionTowerDirectory = try VisionTowerLocator.resolve(towerName, modelDirectory: modelDirectory, override: visionTower)
        model = try LLaVAModel(directory: modelDirectory, visionTower: visionTowerDirectory, precision: precision)
        let tokenizerURL = modelDirectory.appendingPathComponent("tokenizer.model")
        tokenizer = try SentencePieceTokenizer(modelURL: tokenizerURL)
        let preprocessorURL = visionTowerDirectory.appendingPathComponent("preprocessor_config.json")
        let ppConfig = FileManager.default.fileExists(atPath: preprocessorURL.path)
            ? try CLIPPreprocessorConfig.load(preprocessorURL) : .clipVitL336
        preprocessor = CLIPPreprocessor(config: ppConfig)
        self.modelDirectory = modelDirectory
        self.anyresMode = anyresMode
        loadMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - t0.uptimeNanoseconds) / 1e6
    }

    /// True for LLaVA-1.6 checkpoints (`image_aspect_ratio` anyres).
    public var isAnyres: Bool { model.config.imageAspectRatio.hasPrefix("anyres") }

    public func run(_ request: PipelineRequest) throws -> PipelineResult {
        guard request.tokens > 0 else { throw ModelError("the visual-token budget must be positive") }
        let message = request.imageURL == nil ? request.question : ImageTokens.placeholder + "\n" + request.question
        let prompt = ConversationTemplate.vicunaV1.prompt(userMessage: message)
        let inputIDs = ImageTokens.tokenize(prompt: prompt, with: tokenizer)
        let selector = request.method?.selector(seed: request.seed)
        var selections: [Selection] = []
        func choose(_ out: VisionOutput) throws -> [Int]? {
            if let fixed = request.fixedSelection {
                let view = selections.count
                guard view < fixed.count else { throw ModelError("fixed selection has \(fixed.count) views; the image has more") }
                let n = out.features.shape[0]
                guard fixed[view].allSatisfy({ $0 >= 0 && $0 < n }) else {
                    throw ModelError("fixed selection for view \(view) has indices outside 0..<\(n)")
                }
                selections.append(Selection(important: [], diverse: fixed[view]))
                return fixed[view]
            }
            guard let selector else {
                selections.append(Selection(important: [], diverse: Array(0..<out.features.shape[0])))
                return nil
            }
            let s = try selector.select(features: out.features, attention: out.clsAttention,
                                        tokens: request.tokens, ratio: request.ratio)
            selections.append(s)
            return s.kept
        }

        var output: GenerationOutput
        var preprocessMs = 0.0
        if let url = request.imageURL {
            let t0 = DispatchTime.now()
            let image = try ImageDecoder.decode(contentsOf: url)
            if isAnyres {
                let grid: AnyresGrid
                switch anyresMode {
                case .fixed: grid = .fixed672
                case .stock:
                    guard let pinpoints = model.config.imageGridPinpoints else {
                        throw ModelError("stock anyres needs image_grid_pinpoints in config.json")
                    }
                    grid = .bestFit(try AnyresResolution.pinpoints(pinpoints))
                }
                let (views, size) = LLaVAImagePreprocessing.anyres(image, grid: grid, processor: preprocessor)
                let viewTensors = (0..<views.shape[0]).map { views.rows($0..<($0 + 1)).reshaped(Array(views.shape.dropFirst())) }
                preprocessMs = Self.ms(since: t0)
                if anyresMode == .stock {
                    output = try model.generateAnyresStock(inputIDs: inputIDs, views: viewTensors, gridRows: size.rows,
                                                           gridCols: size.columns, imageWidth: image.width,
                                                           imageHeight: image.height, maxNewTokens: request.maxNewTokens,
                                                           eosID: model.config.eosTokenID) { _, out in try choose(out) }
                } else {
                    output = try model.generateAnyres(inputIDs: inputIDs, views: viewTensors, gridRows: size.rows, gridCols: size.columns,
                                                      maxNewTokens: request.maxNewTokens, eosID: model.config.eosTokenID) { _, out in
                        try choose(out)
                    }
                }
            } else {
                let pixels = model.config.imageAspectRatio == "pad"
                    ? LLaVAImagePreprocessing.pad(image, processor: preprocessor) : preprocessor(image)
                preprocessMs = Self.ms(since: t0)
                output = try model.generate(inputIDs: inputIDs, pixels: pixels, maxNewTokens: request.maxNewTokens,
                                            eosID: model.config.eosTokenID, select: choose)
            }
        } else {
            output = try model.generate(inputIDs: inputIDs, imageEmbeddings: [], maxNewTokens: request.maxNewTokens,
                                        eosID: model.config.eosTokenID)
        }
        output.timings.preprocess = preprocessMs
        // As the reference counts it: visual tokens selected for the language model, before the spliced
        // sequence is truncated to tokenizer_model_max_length (inputsEmbedsLength shows the truncation).
        let fed = output.visualTokens
        return PipelineResult(prompt: prompt, inputIDs: inputIDs, generatedIDs: output.tokens,
                              text: tokenizer.decodeAnswer(output.tokens), selections: selections,
                              visualTokensFed: request.imageURL == nil ? 0 : fed,
                              inputsEmbedsLength: output.inputsEmbedsLength, timings: output.timings,
                              firstLogits: output.firstLogits)
    }

    static func ms(since t0: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - t0.uptimeNanoseconds) / 1e6
    }
}
