import Foundation
import Benchmarks

/// The repository's own datasets.json entries (paths relative to a LLaVA `playground/data/eval` root, which
/// the datasets-samples folder mirrors): tests read the shipped registry rather than copies of it.
enum RepoSpecs {
    static let registry: DatasetRegistry = {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        do { return try DatasetRegistry.load(from: repo.appendingPathComponent(DatasetRegistry.fileName)) } catch {
            fatalError("cannot read the repository's datasets.json: \(error)")
        }
    }()

    static func spec(_ name: String) -> DatasetSpec {
        do { return try registry.spec(named: name) } catch { fatalError("\(error)") }
    }
}
