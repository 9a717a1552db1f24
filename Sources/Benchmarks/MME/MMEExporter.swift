import Foundation
import Records
import PythonText

/// Writes the MME eval_tool results folder `<out>/<name>/<task>.txt`, byte-identical to what
/// `convert_answer_to_mme.py --experiment <name>` writes; run MME's `calculation.py --results_dir`
/// on that folder.
public struct MMEExporter: SubmissionExporter {
    public let spec: DatasetSpec
    public let dataRoot: URL

    public init(spec: DatasetSpec, dataRoot: URL) {
        self.spec = spec
        self.dataRoot = dataRoot
    }

    public func export(_ answers: [AnswerRecord], to directory: URL, name: String) throws -> [URL] {
        let gt = try MMEBenchmark(spec: spec, dataRoot: dataRoot).groundTruth()
        let (files, unresolved) = MMEResultsFolder.taskFiles(answers, groundTruth: gt)
        if let first = unresolved.first {
            throw DatasetError("MME export: \(unresolved.count) answers have no ground-truth question "
                               + "(first: question_id \(first.questionID.jsonLiteral), prompt \(JSONText.quote(first.prompt)))")
        }
        let folder = try SafePath.resolve(name, under: directory)
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw DatasetError(file: folder.path, "cannot create folder: \(error.localizedDescription)")
        }
        var written: [URL] = []
        for f in files {
            let url = try SafePath.resolve(f.task + ".txt", under: folder)
            do { try Data(f.text.utf8).write(to: url, options: .atomic) } catch {
                throw DatasetError(file: url.path, "cannot write: \(error.localizedDescription)")
            }
            written.append(url)
        }
        return written
    }
}
