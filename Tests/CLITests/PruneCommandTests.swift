import XCTest
import Foundation
import TestSupport

/// `vispruner prune` on every recorded pruning case, and its input errors.
final class PruneCommandTests: XCTestCase {
    private func ints(_ any: Any?) -> [Int] { (any as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.intValue } }

    func testEveryRecordedCaseFromTheCommandLine() throws {
        let dir = try Fixtures.require("fixtures/pruning").path
        let cases = try Fixtures.jsonLines("fixtures/pruning/cases.jsonl")
        for (i, c) in cases.enumerated() {
            let r = try CLIRunner.run(["prune", "--features", "\(dir)/\(c["features"]!)", "--attention", "\(dir)/\(c["attention"]!)",
                                       "--tokens", "\(c["tokens"]!)", "--ratio", "\(c["ratio"]!)"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "case \(i)")
            XCTAssertEqual(ints(obj["kept"]), ints(c["kept"]), "case \(i)")
            XCTAssertEqual(ints(obj["important"]), ints(c["important"]), "case \(i)")
            XCTAssertEqual(ints(obj["diverse"]), ints(c["diverse"]), "case \(i)")
        }
    }

    func testLlava16ViewsWithCrops() throws {
        let c = try XCTUnwrap(try Fixtures.jsonLines("fixtures/llava16/cases.jsonl").first { ($0["tokens"] as? NSNumber)?.intValue == 64 })
        let dir = try Fixtures.require("fixtures/llava16").path
        let r = try CLIRunner.run(["prune", "--features", "\(dir)/\(c["features"]!)", "--attention", "\(dir)/\(c["cls_attention"]!)",
                                   "--tokens", "64", "--ratio", "\(c["ratio"]!)", "--crops", "5"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let views = try XCTUnwrap(obj["views"] as? [[String: Any]])
        XCTAssertEqual(views.map { ints($0["kept"]) }, (c["kept_per_crop"] as! [Any]).map(ints))
    }

    func testInputErrors() throws {
        let dir = try Fixtures.require("fixtures/pruning").path
        let f = "\(dir)/pub-s1-d64-features.npy", a = "\(dir)/pub-s1-d64-attention.npy"
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("prune-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        // Attention for a different number of patches.
        let short = tmp.appendingPathComponent("short.npy")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (10,), }"
        header += String(repeating: " ", count: 63 - (10 + header.count) % 64) + "\n"
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8)
        bytes += [UInt8](repeating: 0, count: 40)
        try Data(bytes).write(to: short)
        // Features with a NaN.
        let nan = tmp.appendingPathComponent("nan.npy")
        var h2 = "{'descr': '<f4', 'fortran_order': False, 'shape': (10, 2), }"
        h2 += String(repeating: " ", count: 63 - (10 + h2.count) % 64) + "\n"
        var b2: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(h2.utf8.count), 0] + Array(h2.utf8)
        var vals = [Float](repeating: 1, count: 20); vals[5] = .nan
        b2 += vals.withUnsafeBytes { Array($0) }
        try Data(b2).write(to: nan)
        for (args, expect) in [
            (["--features", f, "--attention", a, "--tokens", "0"], "--tokens must be positive"),
            (["--features", f, "--attention", a, "--tokens", "8", "--ratio", "1.5"], "--ratio"),
            (["--features", f, "--attention", short.path, "--tokens", "8"], "attention has 10 patches but features have 576"),
            (["--features", nan.path, "--attention", short.path, "--tokens", "4"], "non-finite"),
            (["--features", f, "--attention", a, "--tokens", "8", "--method", "magic"], "is invalid for '--method"),
            (["--features", "/nonexistent.npy", "--attention", a, "--tokens", "8"], "/nonexistent.npy"),
        ] {
            let r = try CLIRunner.run(["prune"] + args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(r.stderr.contains(expect), "\(args): \(r.stderr)")
        }
    }
}
