import XCTest
import Foundation
import Benchmarks
import TestSupport

/// The shipped datasets.json entries, relative to the datasets-samples root.
enum Specs {
    static let suffix = "\nAnswer the question using a single word or phrase."
    static let vqav2 = RepoSpecs.spec("vqav2")
    static let gqa = RepoSpecs.spec("gqa")
    static let textvqa = RepoSpecs.spec("textvqa")
}

enum Samples {
    static func root() throws -> URL { try Fixtures.require("datasets-samples") }

    static func answers(_ relative: String) throws -> AnswersFile.Contents {
        try AnswersFile.read(try Fixtures.require("datasets-samples/" + relative))
    }

    static func json(_ relative: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: try Fixtures.require("datasets-samples/" + relative)))
    }

    /// Answer-file names (without extension) under a folder.
    static func names(in relative: String, ext: String = "jsonl") throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: try Fixtures.require("datasets-samples/" + relative).path)
            .filter { $0.hasSuffix("." + ext) }.map { String($0.dropLast(ext.count + 1)) }.sorted()
    }

    static func tempDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("vp-scoring-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }
}

/// "%.2f" as the scripts print.
func twoDP(_ x: Double) -> String { String(format: "%.2f", x) }
