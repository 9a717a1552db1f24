import Foundation

/// Which part of a run this process evaluates: shard `index` of `count`, 0-based.
///
/// Assignment is round-robin over the (limited) question list in question-file order: item at
/// position k belongs to shard k mod count. Round-robin rather than contiguous blocks because
/// question files are grouped by category/image, and interleaving gives every shard a similar mix
/// (so similar run times). Shard DBs merge into the same run: the shard is not part of the run key.
public struct ShardSpec: Equatable, Hashable, Sendable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// Upper bound on shard counts, to reject typos such as "0/10000000".
    public static let maxCount = 100_000

    public init(index: Int, count: Int) throws {
        guard count >= 1, count <= Self.maxCount else {
            throw HarnessError("shard count \(count) must be between 1 and \(Self.maxCount)")
        }
        guard index >= 0, index < count else {
            throw HarnessError("shard index \(index) must be between 0 and \(count - 1) (shards are numbered from 0)")
        }
        self.index = index
        self.count = count
    }

    /// "I/N" as written on the command line.
    public var description: String { "\(index)/\(count)" }

    /// Parses "I/N" (0-based I).
    public static func parse(_ text: String) throws -> ShardSpec {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2,
              let i = Int(parts[0].trimmingCharacters(in: .whitespaces)),
              let n = Int(parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw HarnessError("--shard '\(text)': expected I/N, e.g. 0/4 (shards are numbered from 0)")
        }
        return try ShardSpec(index: i, count: n)
    }

    /// The shard of a Slurm job array task, or nil outside a job array.
    /// Uses SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT, SLURM_ARRAY_TASK_MIN (default 0) and
    /// SLURM_ARRAY_TASK_STEP (default 1), so `--array=1-8` and `--array=0-14:2` both map to 0..<count.
    public static func fromSlurm(_ env: [String: String]) throws -> ShardSpec? {
        guard let idText = env["SLURM_ARRAY_TASK_ID"], !idText.isEmpty else { return nil }
        func int(_ name: String, default def: Int?) throws -> Int {
            guard let text = env[name], !text.isEmpty else {
                if let def { return def }
                throw HarnessError("Slurm job array: SLURM_ARRAY_TASK_ID is set but \(name) is not")
            }
            guard let v = Int(text) else { throw HarnessError("Slurm job array: \(name)='\(text)' is not an integer") }
            return v
        }
        let id = try int("SLURM_ARRAY_TASK_ID", default: nil)
        let count = try int("SLURM_ARRAY_TASK_COUNT", default: nil)
        let min = try int("SLURM_ARRAY_TASK_MIN", default: 0)
        let step = try int("SLURM_ARRAY_TASK_STEP", default: 1)
        guard step >= 1, (id - min) % step == 0 else {
            throw HarnessError("Slurm job array: task id \(id) is not min \(min) + a multiple of step \(step)")
        }
        do { return try ShardSpec(index: (id - min) / step, count: count) } catch let e as HarnessError {
            throw HarnessError("Slurm job array (id \(id), min \(min), count \(count)): \(e.message)")
        }
    }

    /// The shard to run: an explicit `--shard` wins; otherwise a Slurm array task; otherwise nil (everything).
    public static func resolve(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ShardSpec? {
        if let flag { return try parse(flag) }
        return try fromSlurm(environment)
    }

    /// Whether the item at `position` (0-based, question-file order) belongs to this shard.
    public func owns(_ position: Int) -> Bool { position % count == index }

    /// This shard's items with their positions in the full list.
    public func select<T>(_ items: [T]) -> [(position: Int, item: T)] {
        stride(from: index, to: items.count, by: count).map { ($0, items[$0]) }
    }

    /// `results/x.sqlite` → `results/x.shard-I-of-N.sqlite`: one database per shard, so shards on
    /// different nodes never contend for one file.
    public func databasePath(base: String) -> String {
        let url = URL(fileURLWithPath: base)
        let ext = url.pathExtension.isEmpty ? "sqlite" : url.pathExtension
        let stem = url.deletingPathExtension().lastPathComponent
        let name = "\(stem).shard-\(index)-of-\(count).\(ext)"
        let dir = (base as NSString).deletingLastPathComponent
        return dir.isEmpty ? name : (dir as NSString).appendingPathComponent(name)
    }
}
