import Checkpoint
import Dispatch
import Foundation
import Imaging
import Pruning
import Records
import Tensor
import Tokenizer

/// One question for the full pipeline.
public struct PipelineRequest: Sendable {
    /// The image, or nil for a text-only question.
    public var imageURL: URL?
    /// The user message after the image placeholder (question text with its prompt suffix).
    public var question: String
    /// Pruning, seed and decoding length (nil: 128, the reference scripts' default).
    public var settings: RunSettings
    /// Feed exactly these patch indices per view instead of selecting (replays a recorded selection,
    /// e.g. to compare everything downstream of pruning with a reference run).
    public var fixedSelection: [[Int]]?

    public init(imageURL: URL?, question: String, settings: RunSettings, fixedSelection: [[Int]]? = nil) {
        self.imageURL = imageURL
        self.question = question
        self.settings = settings
        self.fixedSelection = fixedSelection
    }

    public static let defaultMaxNewTokens = 128
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

/// How this checkpoint turns an image into views, decided once from its config.
enum ImageMode {
    /// LLaVA-1.5 `image_aspect_ratio: pad`: expand to a square with the mean colour, then CLIP preprocessing.
    case pad
    /// CLIP preprocessing only (resize shortest side, centre crop).
    case crop
    /// LLaVA-1.6 anyres: the base view plus the crops of `grid`; `stock` feeds with unpadding and newlines.
    case anyres(AnyresGrid, stock: Bool)
}

/// Image file + question → answer, exactly as the reference evaluation runs LLaVA with VisPruner:
/// vicuna_v1 prompt, `<image>` spliced at -200, LLaVA-1.5 pad preprocessing or LLaVA-1.6 anyres,
/// selection per view between the vision tower and the projector, greedy decoding (`Stages`).
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
    let imageMode: ImageMode
    /// Tower outputs of images seen before (`runGrid`); replace it to change the bound.
    public var featureMemo = FeatureMemo(maxBytes: FeatureMemo.defaultMaxBytes)
    /// Keys and values of the prompt text before the image, per distinct id list (`runGrid`).
    var promptPrefixMemo: [[Int]: KVCache] = [:]
    /// Tower outputs kept on disk between processes and shards (`--feature-cache`), or nil.
    public var featureStore: DiskFeatureCache?
    private var cachedTowerFingerprint: String?

    /// SHA-256 over the tower's configuration files and every byte of its weight files: two towers share
    /// cached features only if they are the same tower (a fine-tuned copy of the same shape is not).
    /// Read once, on first use.
    public func towerFingerprint() throws -> String {
        if let cachedTowerFingerprint { return cachedTowerFingerprint }
        var hash = SHA256Stream()
        let files = try FileManager.default.contentsOfDirectory(atPath: visionTowerDirectory.path).sorted()
            .filter { $0.hasSuffix(".json") || $0.hasSuffix(".safetensors") || $0.hasSuffix(".bin") }
        for name in files {
            hash.update(Array("\(name)\n".utf8))
            guard let handle = FileHandle(forReadingAtPath: visionTowerDirectory.appendingPathComponent(name).path) else {
                throw ModelError("cannot read \(visionTowerDirectory.path)/\(name)")
            }
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: 1 << 22), !chunk.isEmpty {
                chunk.withUnsafeBytes { hash.update($0) }
            }
        }
        let hex = SHA256Digest.hex(bytes: hash.finalize())
        cachedTowerFingerprint = hex
        return hex
    }

    public init(modelDirectory: URL, visionTower: URL? = nil, anyresMode: AnyresMode = .fixed,
                precision: ComputePrecision = .float32) throws {
        let t0 = DispatchTime.now()
        let config = try LLaVAConfig.load(directory: modelDirectory)
        guard let towerName = config.mmVisionTower ?? visionTower?.path else {
            throw CheckpointError("\(modelDirectory.path)/config.json: mm_vision_tower is missing and no vision tower was given")
        }
        visionTowerDirectory = try VisionTowerLocator.resolve(towerName, modelDirectory: modelDirectory, override: visionTower)
        model = try LLaVAModel(config: config, store: try WeightStore(directory: modelDirectory),
                               visionConfig: try CLIPVisionConfig.load(directory: visionTowerDirectory),
                               visionStore: try WeightStore(directory: visionTowerDirectory), precision: precision)
        tokenizer = try SentencePieceTokenizer(modelURL: modelDirectory.appendingPathComponent("tokenizer.model"))
        let preprocessorURL = visionTowerDirectory.appendingPathComponent("preprocessor_config.json")
        let ppConfig = FileManager.default.fileExists(atPath: preprocessorURL.path)
            ? try CLIPPreprocessorConfig.load(preprocessorURL) : .clipVitL336
        preprocessor = CLIPPreprocessor(config: ppConfig)
        self.modelDirectory = modelDirectory
        self.anyresMode = anyresMode
        if config.imageAspectRatio.hasPrefix("anyres") {
            switch anyresMode {
            case .fixed: imageMode = .anyres(.fixed672, stock: false)
            case .stock:
                guard let pinpoints = config.imageGridPinpoints else {
                    throw ModelError("stock anyres needs image_grid_pinpoints in config.json")
                }
                imageMode = .anyres(.bestFit(try AnyresResolution.pinpoints(pinpoints)), stock: true)
            }
        } else {
            imageMode = config.imageAspectRatio == "pad" ? .pad : .crop
        }
        loadMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - t0.uptimeNanoseconds) / 1e6
    }

    /// True for LLaVA-1.6 checkpoints (`image_aspect_ratio` anyres).
    public var isAnyres: Bool {
        if case .anyres = imageMode { return true }
        return false
    }

    public func run(_ request: PipelineRequest) throws -> PipelineResult {
        let prompt = request.imageURL == nil ? ConversationTemplate.vicunaV1.prompt(userMessage: request.question)
            : PromptParts(question: request.question).prompt
        let inputIDs = ImageTokens.tokenize(prompt: prompt, with: tokenizer)
        let selector = request.fixedSelection.map(PatchSelector.fixed)
            ?? PatchSelector(request.settings.pruning, seed: request.settings.seed)

        var clock = StageClock()
        let image = try request.imageURL.map { url in
            try clock.time(\.preprocess) { try prepare(try ImageDecoder.decode(contentsOf: url)) }
        }
        var staged = try Stages.answer(model: model, inputIDs: inputIDs, image: image, selector: selector,
                                       maxNewTokens: request.settings.maxNewTokens ?? PipelineRequest.defaultMaxNewTokens,
                                       eosID: model.config.eosTokenID)
        staged.generation.timings.preprocess = clock.timings.preprocess
        staged.generation.timings.total = staged.generation.timings.stagesSum
        let out = staged.generation
        // As the reference counts it: visual tokens selected for the language model, before the spliced
        // sequence is truncated to tokenizer_model_max_length (inputsEmbedsLength shows the truncation).
        return PipelineResult(prompt: prompt, inputIDs: inputIDs, generatedIDs: out.tokens,
                              text: tokenizer.decodeAnswer(out.tokens), selections: staged.selections,
                              visualTokensFed: request.imageURL == nil ? 0 : out.visualTokens,
                              inputsEmbedsLength: out.inputsEmbedsLength, timings: out.timings,
                              firstLogits: out.firstLogits)
    }

    /// How an image's tokens are fed, without making its views (for features found in the disk cache).
    func layoutOnly(_ image: RGBImage) throws -> VisualLayout {
        guard case .anyres(let grid, let stock) = imageMode else { return .single }
        let canvas = grid.resolution(forWidth: image.width, height: image.height)
        let tile = preprocessor.config.cropHeight
        let rows = canvas.height / tile, columns = canvas.width / tile
        return stock ? .stockGrid(rows: rows, columns: columns, imageWidth: image.width, imageHeight: image.height)
            : .fixedGrid(rows: rows, columns: columns)
    }

    /// Preprocessing: the views the tower sees and how their tokens are fed.
    public func prepare(_ image: RGBImage) throws -> PreparedImage {
        switch imageMode {
        case .pad:
            return PreparedImage(views: [LLaVAImagePreprocessing.pad(image, processor: preprocessor)], layout: .single)
        case .crop:
            return PreparedImage(views: [preprocessor(image)], layout: .single)
        case .anyres(let grid, let stock):
            let (views, size) = LLaVAImagePreprocessing.anyres(image, grid: grid, processor: preprocessor)
            let viewTensors = (0..<views.shape[0]).map { views.rows($0..<($0 + 1)).reshaped(Array(views.shape.dropFirst())) }
            let layout: VisualLayout = stock
                ? .stockGrid(rows: size.rows, columns: size.columns, imageWidth: image.width, imageHeight: image.height)
                : .fixedGrid(rows: size.rows, columns: size.columns)
            return PreparedImage(views: viewTensors, layout: layout)
        }
    }

    /// The picture of the first view as the tower sees it before normalisation (LLaVA-1.5: padded to a
    /// square; LLaVA-1.6: the base view is the whole image), for drawing selections over.
    public func firstViewPicture(_ image: RGBImage) -> RGBImage {
        switch imageMode {
        case .pad: return LLaVAImagePreprocessing.expandToSquare(image, background: LLaVAImagePreprocessing.meanColour(preprocessor.config))
        case .crop: return LLaVAImagePreprocessing.expandToSquare(image, background: LLaVAImagePreprocessing.meanColour(preprocessor.config))
        case .anyres: return image
        }
    }
}
