import XCTest
import Foundation
import Benchmarks
import TestSupport

final class DatasetRegistryTests: XCTestCase {
    func repoRegistry() throws -> DatasetRegistry {
        try DatasetRegistry.load(from: Fixtures.repoRoot.appendingPathComponent("datasets.json"))
    }

    func testRepositoryRegistryDeclaresAllSixBenchmarks() throws {
        let r = try repoRegistry()
        // datasets.json lists the benchmarks in the order report tables show them.
        XCTAssertEqual(r.names, ["vqav2", "gqa", "mme", "pope", "scienceqa", "textvqa"])
        XCTAssertEqual(try r.spec(named: "scienceqa").maxNewTokens, 1024)
        XCTAssertEqual(try r.spec(named: "pope").annotationFiles, ["labels": "pope/coco"])
        XCTAssertEqual(try r.spec(named: "mme").annotationFiles, ["ground_truth": "MME/MME_Benchmark_release_version"])
        XCTAssertEqual(try r.spec(named: "scienceqa").annotationFiles,
                       ["problems": "scienceqa/problems.json", "pid_splits": "scienceqa/pid_splits.json"])
    }

    /// Every declared path exists in the samples root (which mirrors LLaVA's playground/data/eval layout).
    func testDeclaredPathsResolveInSamplesRoot() throws {
        let root = try Fixtures.require("datasets-samples")
        for spec in try repoRegistry().specs {
            let paths = [spec.questionFile, spec.imageFolder] + Array(spec.annotationFiles.values)
            for p in paths {
                XCTAssertTrue(FileManager.default.fileExists(atPath: try SafePath.resolve(p, under: root).path), "\(spec.name): \(p)")
            }
        }
    }

    func testAdaptersForPartABenchmarks() throws {
        let root = try Fixtures.require("datasets-samples")
        let r = try repoRegistry()
        XCTAssertEqual(try r.benchmark(named: "vqav2", dataRoot: root).items().count, 30)
        XCTAssertEqual(try r.benchmark(named: "gqa", dataRoot: root).items().count, 40)
        XCTAssertEqual(try r.benchmark(named: "textvqa", dataRoot: root).items().count, 40)
        XCTAssertThrowsError(try r.benchmark(named: "nonesuch", dataRoot: root))
    }

    private func entry(_ extra: String = "", drop: String? = nil, name: String = "gqa", question: String = "gqa/q.jsonl") -> String {
        var fields = [
            "\"name\": \"\(name)\"", "\"title\": \"T\"", "\"split\": \"s\"", "\"questionFile\": \"\(question)\"",
            "\"annotationFiles\": {}", "\"imageFolder\": \"gqa/images\"", "\"promptSuffix\": \"\"",
            "\"scorer\": \"gqa\"", "\"submissionFormat\": \"gqa-predictions\"", "\"maxNewTokens\": 128",
        ]
        if let drop { fields.removeAll { $0.hasPrefix("\"\(drop)\"") } }
        if !extra.isEmpty { fields.append(extra) }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    private func parseError(_ json: String) -> String {
        do {
            _ = try DatasetRegistry.parse(Data(json.utf8), source: URL(fileURLWithPath: "/x/datasets.json"))
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testValidationErrorsNameFileEntryAndField() {
        XCTAssertEqual(parseError("{\"datasets\": [\(entry())]}"), "no error")
        let unknown = parseError("{\"datasets\": [\(entry("\"colour\": 1"))]}")
        XCTAssertTrue(unknown.contains("/x/datasets.json") && unknown.contains("datasets[0] (gqa).colour") && unknown.contains("unknown key"), unknown)
        let missing = parseError("{\"datasets\": [\(entry(drop: "scorer"))]}")
        XCTAssertTrue(missing.contains("datasets[0] (gqa).scorer") && missing.contains("missing"), missing)
        let dup = parseError("{\"datasets\": [\(entry()), \(entry())]}")
        XCTAssertTrue(dup.contains("duplicate benchmark name 'gqa'"), dup)
        let escape = parseError("{\"datasets\": [\(entry(question: "../../etc/passwd"))]}")
        XCTAssertTrue(escape.contains("questionFile") && escape.contains("escapes"), escape)
        let absolute = parseError("{\"datasets\": [\(entry(question: "/etc/passwd"))]}")
        XCTAssertTrue(absolute.contains("absolute"), absolute)
        XCTAssertTrue(parseError("{\"datasets\": [], \"extra\": 1}").contains("unknown key"))
        XCTAssertTrue(parseError("[1]").contains("expected an object"))
        XCTAssertTrue(parseError("{\"datasets\": [\(entry().replacingOccurrences(of: "128", with: "\"128\""))]}").contains("maxNewTokens"))
    }

    func testLocateAndDataRoot() throws {
        let explicit = Fixtures.repoRoot.appendingPathComponent("datasets.json").path
        XCTAssertEqual(try DatasetRegistry.locate(explicit: explicit, environment: [:]), .option(URL(fileURLWithPath: explicit)))
        XCTAssertThrowsError(try DatasetRegistry.locate(explicit: "/nonexistent/datasets.json", environment: [:]))
        XCTAssertEqual(try DatasetRegistry.locate(explicit: nil, environment: ["VISPRUNER_DATASETS": explicit]), .environment(URL(fileURLWithPath: explicit)))
        let tmp = FileManager.default.temporaryDirectory.path
        XCTAssertEqual(try DatasetRegistry.dataRoot(option: nil, environment: ["VISPRUNER_DATA": tmp]).path,
                       URL(fileURLWithPath: tmp).standardizedFileURL.path)
        XCTAssertThrowsError(try DatasetRegistry.dataRoot(option: nil, environment: [:]))
        XCTAssertThrowsError(try DatasetRegistry.dataRoot(option: explicit, environment: [:]))
    }
}
