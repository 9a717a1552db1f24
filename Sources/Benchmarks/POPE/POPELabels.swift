import Foundation

/// POPE label files (`coco/coco_pope_<category>.json`, JSON lines despite the extension) from
/// POPE commit e3e39262, which the scorer aligns with answers by position.
public enum POPELabels {
    /// One label file found in the labels folder.
    public struct File: Equatable, Sendable {
        /// `name[10:-5]` as `eval_pope.py` derives it: adversarial, popular, random.
        public var category: String
        public var url: URL
    }

    /// Label files in directory-listing order (the order `eval_pope.py` visits them), plus names of
    /// entries it would refuse (anything not named `coco_pope_*.json`).
    public static func files(in folder: URL) throws -> (files: [File], ignored: [String]) {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder.path) } catch {
            throw DatasetError(file: folder.path, "cannot list the POPE labels folder: \(error.localizedDescription)")
        }
        var files: [File] = []
        var ignored: [String] = []
        for name in names {
            guard name.hasPrefix("coco_pope_"), name.hasSuffix(".json"), name.count >= 15 else {
                ignored.append(name)
                continue
            }
            let category = String(name.dropFirst(10).dropLast(5))
            files.append(File(category: category, url: folder.appendingPathComponent(name)))
        }
        return (files, ignored)
    }

    /// The `label` of every line in file order ("yes"/"no" in the real files).
    public static func read(_ url: URL) throws -> [String] {
        let data = try YesNoQuestionFile.readData(url)
        return try YesNoQuestionFile.jsonLines(data).map { entry in
            let obj = try YesNoQuestionFile.object(entry.bytes, file: url.path, line: entry.line)
            return try YesNoQuestionFile.string(obj, "label", file: url.path, line: entry.line)
        }
    }
}
