import Foundation
import XCTest
@testable import Harness

final class ShardSpecTests: XCTestCase {
    func testParseAndValidate() throws {
        XCTAssertEqual(try ShardSpec.parse("2/3"), try ShardSpec(index: 2, count: 3))
        XCTAssertEqual(try ShardSpec.parse(" 0 / 1 ").description, "0/1")
        for bad in ["3/3", "-1/3", "1/0", "1", "a/b", "1/2/3", ""] {
            XCTAssertThrowsError(try ShardSpec.parse(bad), bad)
        }
    }

    func testRoundRobinAssignmentPartitionsItems() throws {
        let items = Array(0..<10)
        var seen: [Int] = []
        for i in 0..<3 {
            let s = try ShardSpec(index: i, count: 3)
            let mine = s.select(items)
            XCTAssertEqual(mine.map(\.position), mine.map(\.item))
            XCTAssertTrue(mine.allSatisfy { s.owns($0.position) && $0.position % 3 == i })
            seen += mine.map(\.item)
        }
        XCTAssertEqual(seen.sorted(), items)
        XCTAssertEqual(try ShardSpec(index: 0, count: 3).select(items).map(\.item), [0, 3, 6, 9])
    }

    func testSlurmArrayEnvironmentIsPickedUp() throws {
        XCTAssertNil(try ShardSpec.fromSlurm([:]))
        XCTAssertEqual(try ShardSpec.fromSlurm(["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4", "VISPRUNER_SHARDS": "4"]),
                       try ShardSpec(index: 2, count: 4))
        // Inside an array but without the shard count: refused, never guessed from the array.
        XCTAssertThrowsError(try ShardSpec.fromSlurm(["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2"])) {
            XCTAssertTrue("\($0)".contains("VISPRUNER_SHARDS"), "\($0)")
        }
        XCTAssertThrowsError(try ShardSpec.fromSlurm(["SLURM_ARRAY_TASK_ID": "x", "VISPRUNER_SHARDS": "2"]))
        XCTAssertThrowsError(try ShardSpec.fromSlurm(["SLURM_ARRAY_TASK_ID": "5", "VISPRUNER_SHARDS": "4"]))
        // An explicit flag wins over the environment.
        let env = ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2", "VISPRUNER_SHARDS": "2"]
        XCTAssertEqual(try ShardSpec.resolve(flag: "0/5", environment: env), try ShardSpec(index: 0, count: 5))
        XCTAssertEqual(try ShardSpec.resolve(flag: nil, environment: env), try ShardSpec(index: 1, count: 2))
        XCTAssertNil(try ShardSpec.resolve(flag: nil, environment: [:]))
    }

    /// `sbatch --array=3 scripts/slurm/sweep.sbatch` after a task of `--array=0-15` failed: Slurm sets the
    /// variables of a one-task array; the task must still be shard 3 of 16 (same items, same database file).
    func testAResubmittedSingleTaskKeepsItsShardOfTheSameCount() throws {
        let original = ["SLURM_ARRAY_JOB_ID": "100", "SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "16",
                        "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "15", "SLURM_ARRAY_TASK_STEP": "1",
                        "VISPRUNER_SHARDS": "16"]
        let resubmitted = ["SLURM_ARRAY_JOB_ID": "200", "SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "1",
                           "SLURM_ARRAY_TASK_MIN": "3", "SLURM_ARRAY_TASK_MAX": "3", "SLURM_ARRAY_TASK_STEP": "1",
                           "VISPRUNER_SHARDS": "16"]
        let a = try XCTUnwrap(try ShardSpec.fromSlurm(original)), b = try XCTUnwrap(try ShardSpec.fromSlurm(resubmitted))
        XCTAssertEqual(a, b)
        XCTAssertEqual(b, try ShardSpec(index: 3, count: 16))
        XCTAssertEqual(a.databasePath(base: "results/sweep.sqlite"), b.databasePath(base: "results/sweep.sqlite"))
        let items = Array(0..<100)
        XCTAssertEqual(a.select(items).map(\.item), b.select(items).map(\.item))
    }

    func testShardDatabasePaths() throws {
        let s = try ShardSpec(index: 1, count: 4)
        XCTAssertEqual(s.databasePath(base: "results/gqa.sqlite"), "results/gqa.shard-1-of-4.sqlite")
        XCTAssertEqual(s.databasePath(base: "/tmp/x/run.db"), "/tmp/x/run.shard-1-of-4.db")
        XCTAssertEqual(s.databasePath(base: "plain"), "plain.shard-1-of-4.sqlite")
    }
}
