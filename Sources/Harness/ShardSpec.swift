import Foundation

/// Which part of a run this process evaluates: shard `index` of `count`, 0-based.
///
/// `eval` and `sweep` assign whole images round-robin (`selectByImage`: the k-th distinct image belongs
/// to shard k mod count), so that an image's questions and settings share its features and prefixes in
/// one process; `select` is plain item round-robin. Round-robin rather than contiguous blocks because
/// question files are grouped by category, and interleaving gives every shard a similar mix (so similar
/// run times). Shard DBs merge into the same run: the shard is not part of the run key.
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

    /// Environment variable holding the total number of shards of a Slurm job array.
    public static let shardCountVariable = "VISPRUNER_SHARDS"

    /// The shard of a Slurm job array task, or nil outside a job array: shard SLURM_ARRAY_TASK_ID of
    /// `VISPRUNER_SHARDS`. The count is never taken from the array itself (SLURM_ARRAY_TASK_COUNT/MIN/MAX),
    /// because resubmitting one failed task (`sbatch --array=3 ...`) makes a one-task array, and that task
    /// must still be shard 3 of the same N, or its items would be evaluated as a different split.
    public static func fromSlurm(_ env: [String: String]) throws -> ShardSpec? {
        guard let idText = env["SLURM_ARRAY_TASK_ID"], !idText.isEmpty else { return nil }
        guard let id = Int(idText) else { throw HarnessError("Slurm job array: SLURM_ARRAY_TASK_ID='\(idText)' is not an integer") }
        guard let countText = env[shardCountVariable], !countText.isEmpty else {
            throw HarnessError("""
                running as Slurm array task \(id): set \(shardCountVariable) to the total number of shards (the array \
                size is not used, since a resubmitted task sees only its own), or pass --shard I/N, or --ignore-slurm
                """)
        }
        guard let count = Int(countText) else { throw HarnessError("\(shardCountVariable)='\(countText)' is not an integer") }
        do { return try ShardSpec(index: id, count: count) } catch let e as HarnessError {
            throw HarnessError("Slurm job array task \(id) with \(shardCountVariable)=\(count): \(e.message) (array ids are the shard numbers 0..<\(count))")
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

    /// This shard's items when work is scheduled image by image: each distinct image (numbered in order
    /// of first appearance) goes whole to shard number mod count, so its questions share its features and
    /// prefixes inside one process; an item without an image is a unit of its own in the same numbering.
    /// Depends only on the question file (and `--limit`), so a resubmitted shard gets the same items.
    public func selectByImage<T>(_ items: [T], image: (T) -> String?) -> [(position: Int, item: T)] {
        var unitOfImage: [String: Int] = [:]
        var units = 0
        var mine: [(position: Int, item: T)] = []
        for (position, item) in items.enumerated() {
            let unit: Int
            if let key = image(item) {
                if let u = unitOfImage[key] { unit = u } else { unit = units; unitOfImage[key] = unit; units += 1 }
            } else {
                unit = units
                units += 1
            }
            if unit % count == index { mine.append((position, item)) }
        }
        return mine
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
