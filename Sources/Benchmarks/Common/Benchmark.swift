import Foundation
import Records

/// A benchmark: its items, the prompt fed for each, how a model output becomes the scored answer, its
/// official-identical scorer and its submission files. One conforming type per benchmark, each in its own
/// folder (VQAv2/, GQA/, ...) with everything it needs; `BenchmarkCatalog` lists them, and an entry of
/// `datasets.json` whose `scorer` names one of them makes it runnable.
public protocol Benchmark: Sendable {
    /// The `scorer` key in datasets.json that selects this implementation.
    static var implementation: String { get }
    /// The `submissionFormat` key of the files `submissionExporter()` writes.
    static var submissionFormat: String { get }

    var spec: DatasetSpec { get }
    /// Absolute data root the spec's relative paths are resolved against.
    var dataRoot: URL { get }

    init(spec: DatasetSpec, dataRoot: URL)

    /// Items in question-file order (the order answers files and submissions follow).
    func items() throws -> [BenchmarkItem]

    /// The answer that gets scored/stored for a raw model output (after the reference's parsing).
    func parseAnswer(_ output: String) -> String

    /// False when the configured split has no labels here and answers go to a server (VQAv2 test-dev).
    var isScoredLocally: Bool { get }

    /// The questions a scored answers set is compared against for coverage notes (VQAv2: the val questions).
    func scoredItems() throws -> [BenchmarkItem]

    /// The official-identical scorer (loads the ground truth).
    func scorer() throws -> any BenchmarkScorer

    /// The exporter of the benchmark's own submission format.
    func submissionExporter() -> any SubmissionExporter

    /// True when the submission file is the LLaVA answers `.jsonl` itself (POPE), so it is written once.
    static var submissionIsAnswersFile: Bool { get }

    /// Its columns in report tables, in paper units (default: the headline metric as stored).
    static func tableColumns(_ spec: DatasetSpec) -> BenchmarkColumns

    /// True when the benchmark's reference script opens image files without `.convert('RGB')` (ScienceQA's
    /// `model_vqa_science.py`), so that LLaVA's padding sees the file's own mode (EVAL.md, "Image handling").
    static var opensImagesUnconverted: Bool { get }

    /// Problems with the files scoring and exporting need (present, parsing, consistent with the questions),
    /// found before any answer is generated. Default: the scorer loads its ground truth.
    func preflight() -> [String]
}

extension Benchmark {
    public var isScoredLocally: Bool { true }

    public static var opensImagesUnconverted: Bool { false }

    public static var submissionIsAnswersFile: Bool { false }

    public func scoredItems() throws -> [BenchmarkItem] { try items() }

    public static func tableColumns(_ spec: DatasetSpec) -> BenchmarkColumns { .plain(spec.name) }

    public func preflight() -> [String] { groundTruthProblems() }

    /// The scorer's ground truth does not load (missing or malformed annotation files).
    public func groundTruthProblems() -> [String] {
        guard isScoredLocally else { return [] }
        do { _ = try scorer() } catch { return ["cannot load the ground truth: \(error)"] }
        return []
    }

    /// One column: the headline metric (already in percent or points) under `title`.
    static func headlineColumn(_ spec: DatasetSpec, _ title: String, scale: Double = 1,
                               axisLabel: String = "Accuracy (%)") -> BenchmarkColumns {
        let c = TableColumn(title, metric: Metric.headlineName, scale: scale, axisLabel: axisLabel)
        return BenchmarkColumns(dataset: spec.name, columns: [c], headline: c)
    }

    /// The exporter for `format` (default: the spec's): the benchmark's own format or LLaVA answers `.jsonl`.
    public func exporter(format: String? = nil) throws -> any SubmissionExporter {
        switch format ?? spec.submissionFormat {
        case AnswersJSONLExporter.format: return AnswersJSONLExporter(spec: spec, dataRoot: dataRoot)
        case Self.submissionFormat: return submissionExporter()
        case let f:
            throw DatasetError("\(spec.name) writes '\(Self.submissionFormat)' or '\(AnswersJSONLExporter.format)', not '\(f)'")
        }
    }
}

extension Benchmark {
    /// Absolute URL of an item's image, refusing any path that escapes the image folder.
    public func imageURL(for item: BenchmarkItem) throws -> URL? {
        guard let rel = item.image else { return nil }
        let folder = try SafePath.resolve(spec.imageFolder, under: dataRoot)
        return try SafePath.resolve(rel, under: folder)
    }

    /// Absolute URL of a file named in the spec, inside the data root.
    public func resolve(_ relative: String) throws -> URL {
        try SafePath.resolve(relative, under: dataRoot)
    }
}

/// Path resolution that refuses escapes: absolute paths, `..` components that leave the root,
/// and symbolic links that point outside it.
public enum SafePath {
    public static func resolve(_ relative: String, under root: URL) throws -> URL {
        guard !relative.isEmpty else { throw DatasetError("empty path") }
        guard !relative.hasPrefix("/") else { throw DatasetError("path '\(relative)' is absolute; expected a path inside \(root.path)") }
        guard !relative.contains("\0") else { throw DatasetError("path contains a NUL byte") }
        var parts: [String] = []
        for comp in relative.split(separator: "/", omittingEmptySubsequences: true) {
            if comp == "." { continue }
            if comp == ".." {
                guard !parts.isEmpty else { throw DatasetError("path '\(relative)' escapes \(root.path)") }
                parts.removeLast()
            } else {
                parts.append(String(comp))
            }
        }
        let url = parts.reduce(root.standardizedFileURL) { $0.appendingPathComponent($1) }
        // A symlink inside the root may still point outside it: compare resolved paths when the file exists.
        if FileManager.default.fileExists(atPath: url.path) {
            let realRoot = root.resolvingSymlinksInPath().standardizedFileURL.path
            let real = url.resolvingSymlinksInPath().standardizedFileURL.path
            guard real == realRoot || real.hasPrefix(realRoot.hasSuffix("/") ? realRoot : realRoot + "/") else {
                throw DatasetError("path '\(relative)' resolves outside \(root.path) (symbolic link)")
            }
        }
        return url
    }
}
