import Foundation
import Records

/// Row id of a run inside one database file (not portable across files; the run key is).
public struct RunID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int64
    public init(_ rawValue: Int64) { self.rawValue = rawValue }
    public var description: String { String(rawValue) }
}

/// Life cycle of a run as stored. `complete` means every expected item has a prediction.
public enum RunStatus: String, Sendable, Codable, CaseIterable {
    /// Started and not (yet) finished; also what a killed process leaves behind.
    case running
    /// Finished writing, every expected item present.
    case complete
    /// Finished writing (or merged) with items missing: a shard, a `--limit` prefix, or item errors.
    case incomplete
    /// Stopped by an error that was not about a single item.
    case failed
}

/// Provenance stored with a run: which tool build, on which host.
public struct RunMetadata: Equatable, Sendable {
    public var toolVersion: String
    public var gitCommit: String
    public var host: String

    public init(toolVersion: String, gitCommit: String = "", host: String = ProcessInfo.processInfo.hostName) {
        self.toolVersion = toolVersion
        self.gitCommit = gitCommit
        self.host = host
    }
}

/// A stored run with its provenance and progress.
public struct RunInfo: Equatable, Sendable {
    public var id: RunID
    /// `config.key`, the identity used to match runs across database files.
    public var key: String
    public var config: RunConfig
    public var metadata: RunMetadata
    public var startedAt: Date
    public var finishedAt: Date?
    public var status: RunStatus
    /// How many items the whole run covers (all shards); nil when unknown.
    public var expectedItems: Int?
    /// Predictions present in this database.
    public var doneItems: Int
    /// Items whose last attempt failed and that have no prediction.
    public var errorItems: Int
    /// Items of the benchmark's whole question file when the run began; nil for runs recorded before
    /// this was kept. A run expecting fewer (`--limit`) is a subset.
    public var benchmarkItems: Int? = nil
    /// Why the run stopped early when something outside stopped it (e.g. "interrupted by SIGINT").
    public var stopReason: String? = nil
    /// The largest resident set of the processes that worked on the run, in bytes, as each read it when it
    /// finished (`getrusage` ru_maxrss: a process's peak so far, so in a sweep it includes the runs before
    /// it in the same process); nil when not recorded.
    public var peakRSSBytes: Int64? = nil

    /// The run covers only part of its benchmark (`--limit`), so its score is not the benchmark's.
    public var isSubset: Bool {
        guard let expectedItems, let benchmarkItems else { return false }
        return expectedItems < benchmarkItems
    }

    /// Every expected item has a prediction.
    public var isComplete: Bool {
        guard let expectedItems else { return false }
        return doneItems >= expectedItems
    }
}

/// Identity of an item within a run: its question id and how many earlier items of the question
/// file carry the same id (0 almost always; MME has two questions per image under one id).
public struct ItemKey: Hashable, Sendable, CustomStringConvertible {
    public var questionID: QuestionID
    public var occurrence: Int

    public init(_ questionID: QuestionID, occurrence: Int = 0) {
        self.questionID = questionID
        self.occurrence = occurrence
    }

    public var description: String {
        occurrence == 0 ? questionID.jsonLiteral : "\(questionID.jsonLiteral) #\(occurrence + 1)"
    }

    /// Keys for items in question-file order: each id's occurrence counter advances as it repeats.
    public static func keys(for ids: [QuestionID]) -> [ItemKey] {
        var seen: [QuestionID: Int] = [:]
        return ids.map { id in
            let n = seen[id, default: 0]
            seen[id] = n + 1
            return ItemKey(id, occurrence: n)
        }
    }
}

/// One answered item.
public struct PredictionRecord: Equatable, Sendable {
    public var runID: RunID
    public var questionID: QuestionID
    /// Earlier items of the question file with the same id (see `ItemKey`).
    public var occurrence: Int
    /// Position of the item in the question file; answers are listed in this order.
    public var itemIndex: Int
    /// What the answers file's `prompt` field holds for this item.
    public var prompt: String
    /// Model output after the reference's `strip()`.
    public var rawOutput: String
    /// The answer after the benchmark adapter's parsing.
    public var parsedAnswer: String
    /// 22-character shortuuid-style id (see `AnswerID`).
    public var answerID: String
    /// Visual tokens actually fed to the language model.
    public var visualTokens: Int
    public var generatedTokens: Int
    /// Kept visual-token indices per image (one list per image / anyres crop).
    public var kept: [[Int]]
    public var timings: StageTimings
    /// Analytic FLOPs and KV-cache size; `.zero` when not recorded. Like timings, not compared by merging.
    public var cost: ItemCost
    /// The path the image took in a run that opens images unconverted (ScienceQA as its reference runs it);
    /// nil when images are converted to RGB, for text-only items, and in rows written before it was kept.
    public var imagePath: ImagePath?
    /// The selection's margin (smallest relative score gap at any cut, over the views); nil when the method
    /// ranks nothing and in rows written before margins were kept.
    public var selectionMargin: Double?

    public init(runID: RunID, questionID: QuestionID, itemIndex: Int, prompt: String, rawOutput: String,
                parsedAnswer: String, answerID: String, visualTokens: Int, generatedTokens: Int,
                kept: [[Int]], timings: StageTimings, occurrence: Int = 0, cost: ItemCost = .zero,
                imagePath: ImagePath? = nil, selectionMargin: Double? = nil) {
        self.runID = runID
        self.questionID = questionID
        self.occurrence = occurrence
        self.itemIndex = itemIndex
        self.prompt = prompt
        self.rawOutput = rawOutput
        self.parsedAnswer = parsedAnswer
        self.answerID = answerID
        self.visualTokens = visualTokens
        self.generatedTokens = generatedTokens
        self.kept = kept
        self.timings = timings
        self.cost = cost
        self.imagePath = imagePath
        self.selectionMargin = selectionMargin
    }

    public var key: ItemKey { ItemKey(questionID, occurrence: occurrence) }

    /// Equal answers regardless of timing: what merging compares to call two rows duplicates.
    public func sameContent(as other: PredictionRecord) -> Bool {
        differingFields(from: other).isEmpty
    }

    /// Names of the content fields (not timings or costs, not run id) that differ. A row stored before costs
    /// were kept and the same answer with its cost are one answer.
    public func differingFields(from o: PredictionRecord) -> [String] {
        var d: [String] = []
        if questionID != o.questionID { d.append("question_id") }
        if occurrence != o.occurrence { d.append("occurrence") }
        if itemIndex != o.itemIndex { d.append("item_index") }
        if prompt != o.prompt { d.append("prompt") }
        if rawOutput != o.rawOutput { d.append("raw_output") }
        if parsedAnswer != o.parsedAnswer { d.append("parsed_answer") }
        if answerID != o.answerID { d.append("answer_id") }
        if visualTokens != o.visualTokens { d.append("visual_tokens") }
        if generatedTokens != o.generatedTokens { d.append("generated_tokens") }
        if kept != o.kept { d.append("kept") }
        if imagePath != o.imagePath { d.append("image_path") }
        if selectionMargin?.bitPattern != o.selectionMargin?.bitPattern { d.append("selection_margin") }
        return d
    }
}

/// The last failure of an item that has no prediction (e.g. a missing image).
public struct ItemError: Equatable, Sendable {
    public var questionID: QuestionID
    public var occurrence: Int
    public var itemIndex: Int
    public var message: String
    public var at: Date
}
