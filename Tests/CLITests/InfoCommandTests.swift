import TestSupport
import XCTest

/// `vispruner info` reports the kernel path the engine will run, and refuses an override it cannot honour.
final class InfoCommandTests: XCTestCase {
    func testInfoReportsKernelPathAndThreads() throws {
        let r = try CLIRunner.run(["info"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("kernel path: "), r.stdout)
        XCTAssertTrue(r.stdout.contains("engine threads: "), r.stdout)

        let forced = try CLIRunner.run(["info"], environment: ["VISPRUNER_KERNELS": "portable", "VISPRUNER_KERNEL_THREADS": "1"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertTrue(forced.stdout.contains("kernel path: portable"), forced.stdout)
        XCTAssertTrue(forced.stdout.contains("engine threads: 1"), forced.stdout)

        // Every path runs our kernels (the same bits); the numerics version and the kernel table are shown.
        XCTAssertTrue(forced.stdout.contains("prefill kernel (many rows of the tower and projector): packed"), forced.stdout)
        XCTAssertTrue(forced.stdout.contains("numerics: n2 (this configuration: n2)"), forced.stdout)
        XCTAssertTrue(forced.stdout.contains("linear f32/f16/bf16 (prefill and decode): portable C"), forced.stdout)
        let openblas = try CLIRunner.run(["info"], environment: ["VISPRUNER_PREFILL": "openblas"])
        XCTAssertTrue(openblas.stdout.contains("projector): openblas"), openblas.stdout)
        XCTAssertTrue(openblas.stdout.contains("this configuration: n2+openblas"), openblas.stdout)
        let badPrefill = try CLIRunner.run(["info"], environment: ["VISPRUNER_PREFILL": "mkl"])
        XCTAssertNotEqual(badPrefill.status, 0)
        XCTAssertTrue(badPrefill.stderr.contains("VISPRUNER_PREFILL=mkl"), badPrefill.stderr)

        let bad = try CLIRunner.run(["info"], environment: ["VISPRUNER_KERNELS": "sse9"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("sse9"), bad.stderr)
    }
}
