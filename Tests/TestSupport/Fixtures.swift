import Foundation
import XCTest

/// Locates the shared reference data (`../shared` beside the checkout) for tests.
public enum Fixtures {
    /// The repository root, derived from this file's location (Tests/TestSupport/Fixtures.swift).
    public static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared` beside the repository, or `VISPRUNER_SHARED` when set.
    public static var shared: URL {
        if let env = ProcessInfo.processInfo.environment["VISPRUNER_SHARED"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return repoRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }

    /// A path under `../shared`, or an `XCTSkip` naming what is missing.
    public static func require(_ relative: String) throws -> URL {
        let url = shared.appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw XCTSkip("reference data \(url.path) is absent; skipping (place the shared/ folder beside the checkout)")
        }
        return url
    }

    /// Lines of a JSON-lines fixture as dictionaries.
    public static func jsonLines(_ relative: String) throws -> [[String: Any]] {
        let url = try require(relative)
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            guard let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw NSError(domain: "Fixtures", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(relative): not an object"])
            }
            return obj
        }
    }
}
