import XCTest
import TestSupport
@testable import Tensor

final class NpyTests: XCTestCase {
    let resources = Fixtures.repoRoot.appendingPathComponent("Tests/TensorTests/Resources")

    func testReadsFilesWrittenByNumpy() throws {
        let f16 = try Npy.read(contentsOf: resources.appendingPathComponent("f16.npy"))
        XCTAssertEqual(f16.dtype, .float16)
        XCTAssertEqual(f16.shape, [2, 4])
        let v = try f16.floats()
        XCTAssertEqual(Array(v[0..<4]), [0, -0.0, 1, 65504])
        XCTAssertEqual(v[1].sign, .minus)
        XCTAssertEqual(v[4], HalfPrecision.float(fromHalf: HalfPrecision.half(from: 6.1035e-05)))
        XCTAssertEqual(v[6], .infinity)
        XCTAssertEqual(v[7], -.infinity)

        let i64 = try Npy.read(contentsOf: resources.appendingPathComponent("i64.npy"))
        XCTAssertEqual(i64.shape, [2, 3])
        XCTAssertEqual(try i64.int64s(), [1, -2, 3, 1 << 40, -(1 << 40), 0])

        let b = try Npy.read(contentsOf: resources.appendingPathComponent("b1.npy"))
        XCTAssertEqual(try b.bools(), [true, false, true])

        let t = try Npy.readTensor(contentsOf: resources.appendingPathComponent("f32_3d.npy"))
        XCTAssertEqual(t.shape, [2, 3, 4])
        for i in 0..<24 { XCTAssertEqual(t.data[i], Float(i) / 7) }
    }

    func testRefusesUnsupportedDtypeAndFortranOrder() {
        XCTAssertThrowsError(try Npy.read(contentsOf: resources.appendingPathComponent("f64.npy"))) { e in
            XCTAssertTrue("\(e)".contains("unsupported dtype '<f8'"), "\(e)")
        }
        XCTAssertThrowsError(try Npy.read(contentsOf: resources.appendingPathComponent("fortran.npy"))) { e in
            XCTAssertTrue("\(e)".contains("Fortran"), "\(e)")
        }
    }

    func testRoundTripIsByteIdenticalToNumpy() throws {
        // Our encoder must lay files out as numpy.save does: re-encoding numpy's files gives the same bytes.
        for name in ["f16.npy", "i64.npy", "b1.npy", "f32_3d.npy"] {
            let url = resources.appendingPathComponent(name)
            let original = try Data(contentsOf: url)
            XCTAssertEqual(Npy.encode(try Npy.parse(original)), original, name)
        }
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID()).npy")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let t = Tensor(shape: [3, 1, 2], data: [1, -2, 3.5, .infinity, 0, 7])
        try Npy.write(t, to: tmp)
        XCTAssertEqual(try Npy.readTensor(contentsOf: tmp), t)
        let scalar = NpyArray(Tensor(shape: [], data: [4]))
        XCTAssertEqual(try Npy.parse(Npy.encode(scalar)), scalar)
    }

    func testReadsReferenceFixtures() throws {
        let url = try Fixtures.require("fixtures/pruning/pub-s1-d64-attention.npy")
        let t = try Npy.readTensor(contentsOf: url)
        XCTAssertEqual(t.shape, [16, 576])
        // The fixture README says each attention row sums to 1.
        for h in 0..<16 {
            let s = t.data[(h * 576)..<((h + 1) * 576)].reduce(0, +)
            XCTAssertEqual(s, 1, accuracy: 1e-4)
        }
    }

    func testMalformedHeadersGiveErrors() {
        XCTAssertThrowsError(try Npy.parse(Data("hello".utf8)))
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 0xFF, 0xFF]
        XCTAssertThrowsError(try Npy.parse(Data(bytes))) // header length beyond the file
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 1000000000000), }\n"
        bytes = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8)
        XCTAssertThrowsError(try Npy.parse(Data(bytes))) { e in XCTAssertTrue("\(e)".contains("too large"), "\(e)") }
        let short = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }\n"
        bytes = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(short.utf8.count), 0] + Array(short.utf8) + [0, 0, 0]
        XCTAssertThrowsError(try Npy.parse(Data(bytes))) { e in XCTAssertTrue("\(e)".contains("truncated"), "\(e)") }
    }
}
