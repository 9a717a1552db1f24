import Foundation
import Records

/// Scores answers exactly as the official script for that benchmark does.
public protocol BenchmarkScorer {
    func score(_ answers: [AnswerRecord]) throws -> ScoreReport
    /// Scores answers to part of the benchmark (a `--limit` run) over the answered items only, where the
    /// official script would count every unanswered item as wrong (GQA, ScienceQA).
    func scoreAnswered(_ answers: [AnswerRecord]) throws -> ScoreReport
}

extension BenchmarkScorer {
    /// Scorers that already score only what was answered.
    public func scoreAnswered(_ answers: [AnswerRecord]) throws -> ScoreReport { try score(answers) }
}

/// Writes the file(s) the official tool or leaderboard server accepts; returns what it wrote.
public protocol SubmissionExporter {
    func export(_ answers: [AnswerRecord], to directory: URL, name: String) throws -> [URL]
    /// As `export`, plus the summary line the official converter prints, where it prints one (VQAv2);
    /// `errorLines` counts the answers file's unparsable lines, which that line reports.
    func exportReporting(_ answers: [AnswerRecord], to directory: URL, name: String,
                         errorLines: Int) throws -> (files: [URL], summary: String?)
}

extension SubmissionExporter {
    public func exportReporting(_ answers: [AnswerRecord], to directory: URL, name: String,
                                errorLines: Int) throws -> (files: [URL], summary: String?) {
        (try export(answers, to: directory, name: name), nil)
    }
}
