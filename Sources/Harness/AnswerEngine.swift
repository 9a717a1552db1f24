import Foundation
import Records

/// The seam between the harness and a model: anything that answers one benchmark item.
/// The native LLaVA engine conforms; tests use fakes.
public protocol AnswerEngine: AnyObject {
    /// Model name written to answers files (`model_id`), e.g. the checkpoint directory "llava-v1.5-7b".
    var modelID: String { get }
    /// Identifies the exact weights (e.g. a hash of the config and tensor index); part of the run key.
    var fingerprint: String { get }
    /// Answers one item. Throwing fails only that item; the harness records the error and goes on.
    func answer(_ request: AnswerRequest) throws -> EngineAnswer
    /// Answers every prompt about one image under every setting: `[setting][prompt]`. Engines that can
    /// share work between them (features, prompt prefixes, batched decoding) do so here; the answers
    /// must be those `answer(_:)` gives each alone. The default asks `answer(_:)` for each.
    func answer(group: AnswerGroup) -> [[Result<EngineAnswer, Error>]]
}

extension AnswerEngine {
    public func answer(group: AnswerGroup) -> [[Result<EngineAnswer, Error>]] {
        group.settings.map { s in
            group.prompts.map { p in Result { try answer(AnswerRequest(imageURL: group.imageURL, prompt: p, settings: s)) } }
        }
    }
}

/// The questions about one image (or one text-only question) under the settings of a grid.
public struct AnswerGroup: Sendable {
    public var imageURL: URL?
    /// User messages after `<image>\n`, one per item.
    public var prompts: [String]
    public var settings: [RunSettings]

    public init(imageURL: URL?, prompts: [String], settings: [RunSettings]) {
        self.imageURL = imageURL
        self.prompts = prompts
        self.settings = settings
    }
}

/// One question for the engine.
public struct AnswerRequest: Equatable, Sendable {
    /// The image, or nil for text-only items.
    public var imageURL: URL?
    /// The user message after `<image>\n` (question text with its prompt suffix).
    public var prompt: String
    /// The run's settings, decoding length resolved (the same value the run key is derived from).
    public var settings: RunSettings

    public init(imageURL: URL?, prompt: String, settings: RunSettings) {
        self.imageURL = imageURL
        self.prompt = prompt
        self.settings = settings
    }

    /// Method name as stored ("none" for the baseline).
    public var method: String { settings.pruning.methodName }
    /// Visual-token budget; nil feeds every visual token.
    public var tokens: Int? { settings.pruning.tokens }
    public var ratio: Double { settings.pruning.ratio }
}

/// The engine's answer to one request.
public struct EngineAnswer: Equatable, Sendable {
    /// Decoded output, special tokens skipped and stripped as the reference does.
    public var text: String
    public var generatedTokens: Int
    /// Visual tokens actually fed to the language model after pruning.
    public var visualTokensFed: Int
    /// Kept visual-token indices, one list per image (or anyres crop).
    public var kept: [[Int]]
    /// Milliseconds per stage; a `total` of 0 is filled from the harness's own clock.
    public var timings: StageTimings
    /// Analytic FLOPs and KV-cache size of the item; zero (not recorded) for engines that do not know them.
    public var cost: ItemCost
    /// Which path an image opened unconverted took (`RunSettings.opensImagesUnconverted`); nil otherwise.
    public var imagePath: ImagePath?
    /// The smallest selection margin over the views (`SelectionMargin`); nil when nothing was ranked.
    public var selectionMargin: Double?

    public init(text: String, generatedTokens: Int, visualTokensFed: Int, kept: [[Int]], timings: StageTimings,
                cost: ItemCost = .zero, imagePath: ImagePath? = nil, selectionMargin: Double? = nil) {
        self.text = text
        self.generatedTokens = generatedTokens
        self.visualTokensFed = visualTokensFed
        self.kept = kept
        self.timings = timings
        self.cost = cost
        self.imagePath = imagePath
        self.selectionMargin = selectionMargin
    }
}

/// Errors from the harness, with a message fit to show the user as is.
public struct HarnessError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
