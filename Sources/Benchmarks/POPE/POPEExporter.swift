import Foundation
import Records

/// POPE has no submission format: `eval_pope.py` reads the LLaVA answers jsonl itself (one file for
/// all three splits; it splits them by the question file's `category`). This writes that file,
/// `<out>/<name>.jsonl`, byte-compatible with `model_vqa_loader.py` output.
public struct POPEExporter: SubmissionExporter {
    public let spec: DatasetSpec
    public let dataRoot: URL

    public init(spec: DatasetSpec, dataRoot: URL) {
        self.spec = spec
        self.dataRoot = dataRoot
    }

    public func export(_ answers: [AnswerRecord], to directory: URL, name: String) throws -> [URL] {
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw DatasetError(file: directory.path, "cannot create folder: \(error.localizedDescription)")
        }
        let url = try SafePath.resolve(name + ".jsonl", under: directory)
        do { try AnswersFile.write(answers, to: url) } catch let e as DatasetError { throw e } catch {
            throw DatasetError(file: url.path, "cannot write: \(error.localizedDescription)")
        }
        return [url]
    }
}
