import Checkpoint
import Foundation
import Tensor
import TestSupport
import XCTest

/// Builds small safetensors files byte by byte so each damage case can be produced exactly.
enum SafetensorsWriter {
    static func bytes(header: String, data: [UInt8], declaredLength: UInt64? = nil) -> Data {
        var out = Data()
        let h = Array(header.utf8)
        var len = declaredLength ?? UInt64(h.count)
        for _ in 0..<8 { out.append(UInt8(len & 0xff)); len >>= 8 }
        out.append(contentsOf: h)
        out.append(contentsOf: data)
        return out
    }

    static func f16(_ values: [Float]) -> [UInt8] {
        values.flatMap { v -> [UInt8] in let h = HalfPrecision.half(from: v); return [UInt8(h & 0xff), UInt8(h >> 8)] }
    }
}

final class SafetensorsTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func write(_ data: Data, _ name: String = "model.safetensors") throws -> URL {
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    func assertError(_ data: Data, contains needle: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = try write(data)
        XCTAssertThrowsError(try SafetensorsFile(url: url), file: file, line: line) { e in
            XCTAssertTrue("\(e)".contains(needle), "error '\(e)' should mention '\(needle)'", file: file, line: line)
        }
    }

    func testReadsValuesAndMetadata() throws {
        let header = #"{"__metadata__":{"format":"pt"},"a":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"c":{"dtype":"BF16","shape":[2],"data_offsets":[12,16]}}"#
        var data = SafetensorsWriter.f16([1, -2, 0.5, 3])
        data += withUnsafeBytes(of: Float(7.25).bitPattern.littleEndian) { Array($0) }
        data += [0x80, 0x3f, 0x00, 0xc0] // bf16 1.0, -2.0
        let f = try SafetensorsFile(url: try write(SafetensorsWriter.bytes(header: header, data: data)))
        XCTAssertEqual(f.metadata["format"], "pt")
        XCTAssertEqual(f.tensors["a"]?.shape, [2, 2])
        XCTAssertEqual(f.tensors["a"]?.floats().data, [1, -2, 0.5, 3])
        XCTAssertEqual(f.tensors["b"]?.floats().data, [7.25])
        XCTAssertEqual(f.tensors["c"]?.floats().data, [1, -2])
    }

    func testTruncatedFile() throws {
        try assertError(Data([1, 0, 0]), contains: "too short")
    }

    func testHeaderLengthBeyondFile() throws {
        try assertError(SafetensorsWriter.bytes(header: "{}", data: [], declaredLength: 500), contains: "runs past the end")
    }

    func testHeaderLengthAboveLimit() throws {
        try assertError(SafetensorsWriter.bytes(header: "{}", data: [], declaredLength: 1 << 40), contains: "exceeds")
    }

    func testOffsetsOutsideDataSection() throws {
        let header = #"{"w":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}"#
        try assertError(SafetensorsWriter.bytes(header: header, data: [0, 0, 0, 0]), contains: "tensor w: data_offsets [0, 8] lie outside")
    }

    func testTruncatedDataIsDetected() throws {
        // A well-formed file cut short loses the tail of its data section.
        let header = #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#
        var full = SafetensorsWriter.bytes(header: header, data: [UInt8](repeating: 0, count: 16))
        full.removeLast(5)
        try assertError(full, contains: "tensor w")
    }

    func testUnsupportedDTypeNamesTensorWhenUsed() throws {
        let header = #"{"pos":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},"w":{"dtype":"F16","shape":[1],"data_offsets":[16,18]}}"#
        _ = try write(SafetensorsWriter.bytes(header: header, data: [UInt8](repeating: 0, count: 18)))
        let store = try WeightStore(directory: dir)
        XCTAssertEqual(store.names, ["w"])
        XCTAssertThrowsError(try store.tensor("pos")) { e in
            XCTAssertTrue("\(e)".contains("pos") && "\(e)".contains("I64"), "\(e)")
        }
    }

    func testUnknownDType() throws {
        let header = #"{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,1]}}"#
        try assertError(SafetensorsWriter.bytes(header: header, data: [0]), contains: "tensor w: unknown dtype Q4")
    }

    func testShapeBytesMismatch() throws {
        let header = #"{"w":{"dtype":"F16","shape":[3],"data_offsets":[0,8]}}"#
        try assertError(SafetensorsWriter.bytes(header: header, data: [UInt8](repeating: 0, count: 8)), contains: "tensor w: shape [3] of F16 needs 6 bytes")
    }

    func testBadJSONAndBadEntries() throws {
        try assertError(SafetensorsWriter.bytes(header: "{not json", data: []), contains: "not valid JSON")
        try assertError(SafetensorsWriter.bytes(header: #"{"w":{"dtype":"F16","shape":[-1],"data_offsets":[0,0]}}"#, data: []), contains: "bad shape entry")
        try assertError(SafetensorsWriter.bytes(header: #"{"w":{"dtype":"F16","shape":[1],"data_offsets":[4,2]}}"#, data: [0, 0, 0, 0]), contains: "lie outside")
        try assertError(SafetensorsWriter.bytes(header: #"{"w":{"shape":[1],"data_offsets":[0,2]}}"#, data: [0, 0]), contains: "missing dtype")
    }

    func testMissingTensorNamesTensorAndFolder() throws {
        _ = try write(SafetensorsWriter.bytes(header: #"{"w":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}"#, data: [0, 0]))
        let store = try WeightStore(directory: dir)
        XCTAssertThrowsError(try store.tensor("model.norm.weight")) { e in
            XCTAssertEqual("\(e)", "tensor model.norm.weight missing in \(dir.path)")
        }
        XCTAssertThrowsError(try store.tensor("w", shape: [2])) { e in
            XCTAssertTrue("\(e)".contains("tensor w has shape [1], but the config implies [2]"), "\(e)")
        }
    }

    func testShardedIndex() throws {
        _ = try write(SafetensorsWriter.bytes(header: #"{"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}"#, data: SafetensorsWriter.f16([2])), "model-00001-of-00002.safetensors")
        _ = try write(SafetensorsWriter.bytes(header: #"{"b":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}"#, data: SafetensorsWriter.f16([3])), "model-00002-of-00002.safetensors")
        // A stray file the index does not name must be ignored.
        _ = try write(SafetensorsWriter.bytes(header: #"{"c":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}"#, data: [0, 0]), "other.safetensors")
        let index = #"{"metadata":{"total_size":4},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}"#
        try Data(index.utf8).write(to: dir.appendingPathComponent("model.safetensors.index.json"))
        let store = try WeightStore(directory: dir)
        XCTAssertEqual(store.names, ["a", "b"])
        XCTAssertEqual(try store.tensor("b").floats().data, [3])
    }

    func testShardIndexRefusesPaths() throws {
        for bad in ["../x.safetensors", "sub/x.safetensors", ".."] {
            let index = #"{"weight_map":{"a":"\#(bad)"}}"#
            try Data(index.utf8).write(to: dir.appendingPathComponent("model.safetensors.index.json"))
            XCTAssertThrowsError(try WeightStore(directory: dir)) { e in
                XCTAssertTrue("\(e)".contains("not a plain file name"), "\(e)")
            }
        }
    }

    func testEmptyFolderIsAnError() throws {
        XCTAssertThrowsError(try WeightStore(directory: dir)) { e in XCTAssertTrue("\(e)".contains("no *.safetensors")) }
    }

    func testTinyFixtureCheckpoints() throws {
        let clip = try WeightStore(directory: try Fixtures.require("fixtures/clip-tiny"))
        let pos = try clip.tensor("vision_model.embeddings.position_embedding.weight")
        XCTAssertEqual(pos.shape, [577, 64])
        XCTAssertEqual(pos.dtype, .float16)
        let llava = try WeightStore(directory: try Fixtures.require("fixtures/llava15-tiny"))
        XCTAssertEqual(try llava.tensor("lm_head.weight").shape, [32000, 64])
        XCTAssertTrue(llava.names.contains("model.mm_projector.2.weight"))
    }
}
