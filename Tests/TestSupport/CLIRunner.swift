import Foundation
import XCTest

/// Runs the built `vispruner` binary in a child process (the CLITests target depends on the executable,
/// so `swift test` builds it next to the test bundle).
public enum CLIRunner {
    public struct Result { public var status: Int32; public var stdout: String; public var stderr: String }

    /// The binary beside the running test bundle (any `--scratch-path`), else `.build/debug/vispruner`.
    public static func binary() throws -> URL {
        var candidates: [URL] = []
        for bundle in [Bundle.main] + Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
            candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("vispruner"))
        }
        if let exe = Bundle.main.executableURL {
            // Linux: the test runner is the .xctest executable itself; macOS: xctest inside the bundle's folder.
            candidates.append(exe.deletingLastPathComponent().appendingPathComponent("vispruner"))
        }
        candidates.append(Fixtures.repoRoot.appendingPathComponent(".build/debug/vispruner"))
        guard let url = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("\(candidates.last!.path) is missing; run `swift build` first")
        }
        return url
    }

    public static func run(_ args: [String], environment: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = try binary()
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "VISPRUNER_DATA")
        for (k, v) in environment { env[k] = v }
        p.environment = env
        // Files instead of pipes: a child writing a lot to both streams cannot block on a full pipe.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("out"), errURL = dir.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        p.standardOutput = out
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        try out.close(); try err.close()
        return Result(status: p.terminationStatus,
                      stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}

extension CLIRunner {
    /// Starts the binary without waiting (for tests that kill it midway); output is discarded.
    /// `stderrFile`, when given, receives the process's standard error (else it is discarded).
    public static func start(_ args: [String], stderrFile: URL? = nil) throws -> Process {
        let p = Process()
        p.executableURL = try binary()
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "VISPRUNER_DATA")
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        if let stderrFile {
            _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
            p.standardError = try FileHandle(forWritingTo: stderrFile)
        } else {
            p.standardError = FileHandle.nullDevice
        }
        try p.run()
        return p
    }
}
