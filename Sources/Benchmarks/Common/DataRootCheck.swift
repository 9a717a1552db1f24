import Foundation
import Records

/// The checks for one benchmark.
public enum DataRootCheck {
    public struct Report: Sendable {
        public var lines: [String] = []
        public var problems = 0
        public var checked = false
    }

    public static func check(spec: DatasetSpec, registry: DatasetRegistry, root: URL) -> Report {
        var r = Report()
        let fm = FileManager.default
        let questionURL: URL
        do { questionURL = try SafePath.resolve(spec.questionFile, under: root) } catch {
            r.lines.append("\(spec.name): \(error)")
            r.problems += 1
            return r
        }
        guard fm.fileExists(atPath: questionURL.path) else {
            r.lines.append("\(spec.name): skipped (no \(spec.questionFile) under the data root)")
            return r
        }
        r.checked = true
        var items: [(id: QuestionID, image: String?)] = []
        var malformed: [(line: Int, reason: String)] = []
        if questionURL.pathExtension == "jsonl" {
            do {
                let c = try LLaVAQuestionFile.readLenient(questionURL)
                items = c.lines.map { ($0.questionID, $0.image) }
                malformed = c.badLines
            } catch {
                r.lines.append("\(spec.name): \(error)")
                r.problems += 1
                return r
            }
        } else {
            // Non-jsonl question files (ScienceQA's JSON array) need the benchmark's adapter.
            guard let adapter = try? registry.benchmark(named: spec.name, dataRoot: root) else {
                r.lines.append("\(spec.name): skipped (no adapter for its question file format in this build)")
                r.checked = false
                return r
            }
            do {
                items = try adapter.items().map { ($0.questionID, $0.image) }
            } catch {
                r.lines.append("\(spec.name): cannot read questions: \(error)")
                r.problems += 1
                return r
            }
        }
        var seen = Set<QuestionID>()
        let duplicates = items.filter { !seen.insert($0.id).inserted }.count
        var missing: [String] = [], refused: [String] = []
        var checkedImages = Set<String>()
        let folder = try? SafePath.resolve(spec.imageFolder, under: root)
        for case let (_, image?) in items where checkedImages.insert(image).inserted {
            guard let folder else { refused.append(image); continue }
            do {
                let url = try SafePath.resolve(image, under: folder)
                if !fm.isReadableFile(atPath: url.path) { missing.append(image) }
            } catch {
                refused.append(image)
            }
        }
        r.lines.append("\(spec.name): \(items.count) items, \(checkedImages.count) images, \(malformed.count) malformed lines, "
                       + "\(missing.count) missing/unreadable images, \(refused.count) refused image paths")
        // MME (image path) and TextVQA (image id) reuse one id for several questions; that is their format.
        if duplicates > 0 { r.lines.append("  info: \(duplicates) items share an id with an earlier item") }
        for m in malformed.prefix(5) { r.lines.append("  malformed: \(m.reason)") }
        for m in missing.prefix(5) { r.lines.append("  missing image: \(spec.imageFolder)/\(m)") }
        for m in refused.prefix(5) { r.lines.append("  refused image path (outside the image folder): \(m)") }
        for (key, rel) in spec.annotationFiles.sorted(by: { $0.key < $1.key }) {
            let exists = (try? SafePath.resolve(rel, under: root)).map { fm.fileExists(atPath: $0.path) } ?? false
            if !exists { r.lines.append("  note: annotation '\(key)' not found: \(rel)") }
        }
        r.problems += malformed.count + missing.count + refused.count
        return r
    }
}
