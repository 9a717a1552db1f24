import Foundation
import Records

/// The preflight of one benchmark under a data root: the question file parses, every image of the items in
/// scope is inside the image folder, present and readable as an image (`imageProblem`, which the caller gives
/// because decoding lives in the Imaging module), and the files scoring needs load (`Benchmark.preflight`).
/// `datasets check` prints it for every benchmark; `eval` and `sweep` run it before the first answer.
public enum DataRootCheck {
    /// Why an image cannot be used.
    public enum ImageIssue: Equatable, Sendable {
        case missing
        /// Present but its header does not decode as PNG or JPEG.
        case undecodable(String)
    }

    public struct Report: Sendable {
        public var lines: [String] = []
        public var problems = 0
        /// False when the benchmark's question file is absent and `requireQuestions` was off.
        public var checked = false
    }

    /// - Parameters:
    ///   - limit: check only the first `limit` items (what a `--limit` run will use).
    ///   - requireQuestions: an absent question file is a problem (eval/sweep), not a skip (datasets check).
    ///   - imageProblem: why an image file cannot be used, or nil.
    ///   - listLimit: image problems listed one by one (the rest counted in one line).
    public static func check(_ benchmark: Benchmark, limit: Int? = nil, requireQuestions: Bool = false,
                             listLimit: Int = 5, imageProblem: (URL) -> ImageIssue?) -> Report {
        var r = Report()
        let spec = benchmark.spec, root = benchmark.dataRoot
        func problem(_ text: String) { r.lines.append("  problem: " + text); r.problems += 1 }
        let questionURL: URL
        do { questionURL = try SafePath.resolve(spec.questionFile, under: root) } catch {
            r.lines.append("\(spec.name): \(printable("\(error)"))")
            r.problems += 1
            return r
        }
        guard FileManager.default.fileExists(atPath: questionURL.path) else {
            if requireQuestions {
                r.lines.append("\(spec.name): the question file \(printable(spec.questionFile)) is missing under \(printable(root.path))")
                r.problems += 1
            } else {
                r.lines.append("\(spec.name): skipped (no \(printable(spec.questionFile)) under the data root)")
            }
            return r
        }
        r.checked = true
        var items: [BenchmarkItem] = []
        var malformed: [(line: Int, reason: String)] = []
        do {
            if questionURL.pathExtension == "jsonl" {
                // The lenient reader lists every malformed line instead of stopping at the first; the good
                // lines' images are still checked.
                let lenient = try LLaVAQuestionFile.readLenient(questionURL)
                malformed = lenient.badLines
                if !malformed.isEmpty {
                    items = lenient.lines.map {
                        BenchmarkItem(questionID: $0.questionID, image: $0.image, prompt: $0.text, answerPrompt: $0.text,
                                      category: $0.category)
                    }
                }
            }
            if malformed.isEmpty { items = try benchmark.items() }
        } catch {
            r.lines.append("\(spec.name): cannot read the questions: \(printable("\(error)"))")
            r.problems += 1
            return r
        }
        let all = items.count
        if let limit { items = Array(items.prefix(limit)) }
        var seen = Set<QuestionID>()
        let duplicates = items.filter { !seen.insert($0.questionID).inserted }.count
        var missing: [String] = [], refused: [String] = [], undecodable: [String] = []
        var checkedImages = Set<String>()
        for item in items {
            guard let image = item.image, checkedImages.insert(image).inserted else { continue }
            do {
                guard let url = try benchmark.imageURL(for: item) else { continue }
                switch imageProblem(url) {
                case .missing?: missing.append("missing image: \(spec.imageFolder)/\(image)")
                case .undecodable(let why)?: undecodable.append("image does not decode: \(spec.imageFolder)/\(image): \(why)")
                case nil: break
                }
            } catch {
                refused.append("refused image path (outside the image folder): \(image)")
            }
        }
        let scope = limit.map { _ in " (first \(items.count) of \(all) checked, --limit)" } ?? ""
        r.lines.append("\(spec.name): \(all) items\(scope), \(checkedImages.count) images, \(malformed.count) malformed lines, "
                       + "\(missing.count) missing/unreadable images, \(refused.count) refused image paths, "
                       + "\(undecodable.count) undecodable images")
        let imageProblems = missing + refused + undecodable
        // MME (image path) and TextVQA (image id) reuse one id for several questions; that is their format.
        if duplicates > 0 { r.lines.append("  info: \(duplicates) items share an id with an earlier item") }
        for m in malformed.prefix(5) { problem("malformed question line \(m.line): \(printable(m.reason))") }
        if malformed.count > 5 { r.lines.append("  ... and \(malformed.count - 5) more malformed lines") }
        r.problems += max(0, malformed.count - 5)
        for m in imageProblems.prefix(listLimit) { problem(printable(m)) }
        if imageProblems.count > listLimit { r.lines.append("  ... and \(imageProblems.count - listLimit) more unusable images") }
        r.problems += max(0, imageProblems.count - listLimit)
        if malformed.isEmpty {
            for p in benchmark.preflight() { problem(printable(p)) }
        }
        return r
    }

    /// `text` with control characters and other invisible scalars escaped (`\n`, `\u{1B}`), so a hostile
    /// path cannot rewrite the terminal or hide in a log.
    public static func printable(_ text: String) -> String {
        var out = ""
        for s in text.unicodeScalars {
            switch s {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if s.properties.generalCategory == .control || s.properties.generalCategory == .format
                    || s.properties.generalCategory == .lineSeparator || s.properties.generalCategory == .paragraphSeparator {
                    out += "\\u{" + String(s.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(s)
                }
            }
        }
        return out
    }
}
