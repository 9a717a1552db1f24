import Foundation

/// Every benchmark implementation in this build. Adding a benchmark: a folder beside VQAv2/ with a type
/// conforming to `Benchmark`, its line here, and an entry in datasets.json whose `scorer` is its
/// `implementation` key (EVAL.md, "Adding a benchmark").
public enum BenchmarkCatalog {
    public static let all: [any Benchmark.Type] = [
        VQAv2Benchmark.self, GQABenchmark.self, MMEBenchmark.self, POPEBenchmark.self, ScienceQABenchmark.self,
        TextVQABenchmark.self,
    ]

    /// The implementation a spec selects, or nil when this build has none.
    public static func implementation(for spec: DatasetSpec) -> (any Benchmark.Type)? {
        all.first { $0.implementation == spec.scorer }
    }
}
