import XCTest
import Foundation
@testable import Benchmarks
import TestSupport

/// The registry comes from an explicit order, never from where the binary was built (issue 35, point 5).
final class RegistryOrderTests: XCTestCase {
    /// The copy built into the binary is the repository's datasets.json.
    func testTheBuiltInRegistryIsTheRepositorysFile() throws {
        let file = try DatasetRegistry.load(from: Fixtures.repoRoot.appendingPathComponent("datasets.json"))
        let builtIn = try DatasetRegistry.builtIn
        XCTAssertEqual(builtIn.specs, file.specs, "Sources/Benchmarks/Common/BuiltInRegistry.swift must match datasets.json")
        XCTAssertEqual(builtIn.origin, .builtIn)
    }

    /// --datasets, then $VISPRUNER_DATASETS, then the data root's datasets.json, then the built-in copy.
    func testOrder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reg-\(UUID().uuidString)")
        let root = dir.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ url: URL, name: String) throws {
            var text = BuiltInRegistry.json
            text = text.replacingOccurrences(of: "\"name\": \"gqa\"", with: "\"name\": \"\(name)\"")
            XCTAssertNotEqual(text, BuiltInRegistry.json)
            try Data(text.utf8).write(to: url)
        }
        let explicit = dir.appendingPathComponent("explicit.json"), env = dir.appendingPathComponent("env.json")
        let inRoot = root.appendingPathComponent("datasets.json")
        try write(explicit, name: "gqa-explicit"); try write(env, name: "gqa-env"); try write(inRoot, name: "gqa-root")
        let environment = [DatasetRegistry.registryVariable: env.path]
        let a = try DatasetRegistry.load(explicit: explicit.path, dataRoot: root, environment: environment)
        XCTAssertEqual(a.origin, .option(explicit)); XCTAssertTrue(a.names.contains("gqa-explicit"))
        let b = try DatasetRegistry.load(explicit: nil, dataRoot: root, environment: environment)
        XCTAssertEqual(b.origin, .environment(env)); XCTAssertTrue(b.names.contains("gqa-env"))
        let c = try DatasetRegistry.load(explicit: nil, dataRoot: root, environment: [:])
        XCTAssertEqual(c.origin, .dataRoot(inRoot)); XCTAssertTrue(c.names.contains("gqa-root"))
        let d = try DatasetRegistry.load(explicit: nil, dataRoot: dir, environment: [:])
        XCTAssertEqual(d.origin, .builtIn); XCTAssertTrue(d.names.contains("gqa"))
        XCTAssertThrowsError(try DatasetRegistry.load(explicit: dir.appendingPathComponent("absent.json").path, dataRoot: root, environment: [:]))
    }
}
