import Foundation
import XCTest
@testable import Checkpoint
import Tensor

/// The restricted unpickler: hostile streams are refused without executing anything, resources stay bounded,
/// and the protocol-4 spellings of torch's opcodes are understood.
final class TorchBinPickleTests: XCTestCase {
    private let half: [UInt8] = TorchBinBuilder.halfBytes([1, 2, 3, 4])

    /// Loads an archive whose data.pkl is `pickle` (with one fp16 storage "0" of 4 elements).
    private func load(_ pickle: [UInt8], options: TorchCheckpoint.Options = TorchCheckpoint.Options()) throws -> TorchCheckpointContents {
        let dir = try TorchBinTempDir()
        let url = try dir.write(TorchBinBuilder.archive(pickle: pickle, storages: [("0", half)]))
        return try TorchCheckpoint.loadContents(url, options: options)
    }

    private func pickle(_ build: (inout TorchBinPickleWriter) -> Void) -> [UInt8] {
        var p = TorchBinPickleWriter()
        build(&p)
        return p.bytes
    }

    // MARK: - Hostile streams

    func testOsSystemViaGlobalAndReduceIsRefused() throws {
        // What pickle.dumps of an object whose __reduce__ returns (os.system, ("touch pwned",)) contains.
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("torchbin-pwned-\(UUID().uuidString)")
        for module in ["posix", "os", "nt"] {
            let bytes = pickle {
                $0.proto(2); $0.global(module, "system"); $0.unicode("touch \(marker.path)"); $0.op(0x85); $0.op(0x52); $0.op(0x2E)
            }
            assertTorchBinError("refused global \(module).system") { try load(bytes) }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker.path))
    }

    func testBuiltinsEvalViaStackGlobalIsRefused() throws {
        let bytes = pickle {
            $0.proto(4); $0.op(0x95); TorchBinBuilder.le64(&$0.bytes, 40)
            $0.shortUnicode("builtins"); $0.op(0x94); $0.shortUnicode("eval"); $0.op(0x94); $0.op(0x93); $0.op(0x94)
            $0.shortUnicode("__import__('os').system('true')"); $0.op(0x85); $0.op(0x52); $0.op(0x2E)
        }
        assertTorchBinError("refused global builtins.eval") { try load(bytes) }
    }

    func testUnknownClassesAreRefused() throws {
        // NEWOBJ of an arbitrary class, a torch function outside the allow-list, and one that torch has but
        // ordinary float checkpoints never use.
        let cases: [(String, String)] = [
            ("__main__", "Exploit"), ("torch", "load"), ("torch._utils", "_rebuild_tensor_v3"),
            ("torch.serialization", "_get_layout"), ("collections", "defaultdict"), ("subprocess", "Popen"),
        ]
        for (module, name) in cases {
            let bytes = pickle { $0.proto(2); $0.global(module, name); $0.op(0x29); $0.op(0x81); $0.op(0x2E) }
            assertTorchBinError("refused global \(module).\(name)") { try load(bytes) }
        }
    }

    func testOpcodesOutsideTheSubsetAreRefused() throws {
        // INST (protocol 0 import-and-call), OBJ, NEWOBJ, EXT1 and the text-mode INT opcode.
        let streams: [[UInt8]] = [
            [0x80, 0x02] + [0x69] + Array("os\nsystem\n".utf8) + [0x2E],
            [0x80, 0x02, 0x28, 0x6F, 0x2E],
            [0x80, 0x02, 0x29, 0x29, 0x81, 0x2E],
            [0x80, 0x02, 0x82, 0x01, 0x2E],
            [0x80, 0x02] + Array("I1\n".utf8) + [0x2E],
        ]
        for s in streams { assertTorchBinError("unsupported pickle opcode") { try load(s) } }
        assertTorchBinError("unsupported pickle protocol") { try load([0x80, 0x09, 0x4E, 0x2E]) }
    }

    func testAllowedGlobalsCannotBeMisused() throws {
        // Calling a storage type, BUILD on a tensor, hooks that would need code, a non-tuple persistent id.
        assertTorchBinError("only accepted inside a persistent id") {
            try load(pickle { $0.proto(2); $0.global("torch", "HalfStorage"); $0.op(0x29); $0.op(0x52); $0.op(0x2E) })
        }
        assertTorchBinError("collections.OrderedDict called with arguments") {
            try load(pickle { $0.proto(2); $0.global("collections", "OrderedDict"); $0.int(1); $0.op(0x85); $0.op(0x52); $0.op(0x2E) })
        }
        assertTorchBinError("BUILD on a tuple") {
            try load(pickle { $0.proto(2); $0.op(0x29); $0.op(0x7D); $0.op(0x62); $0.op(0x2E) })
        }
        assertTorchBinError("BUILD of a dict with list state") {
            try load(pickle { $0.proto(2); $0.op(0x7D); $0.op(0x5D); $0.op(0x62); $0.op(0x2E) })
        }
        assertTorchBinError("persistent id is a str") {
            try load(pickle { $0.proto(2); $0.unicode("/etc/passwd"); $0.op(0x51); $0.op(0x2E) })
        }
        assertTorchBinError("not callable") {
            try load(pickle { $0.proto(2); $0.unicode("os.system"); $0.op(0x29); $0.op(0x52); $0.op(0x2E) })
        }
        // _rebuild_tensor_v2 with a backward hook in its hooks dict.
        var spec = TorchBinBuilder.statePickle([.init(name: "w", key: "0", numel: 4, size: [4])])
        let emptyHooks: [UInt8] = [0x89, 0x63] + Array("collections\nOrderedDict\n".utf8) + [0x29, 0x52]
        let badHooks: [UInt8] = [0x89, 0x7D, 0x4B, 0x01, 0x4E, 0x73]
        let at = try XCTUnwrap(findBytes(emptyHooks, in: spec))
        spec.replaceSubrange(at..<(at + emptyHooks.count), with: badHooks)
        assertTorchBinError("backward_hooks must be empty") { try load(spec) }
    }

    func testRootMustBeAStateDict() throws {
        assertTorchBinError("root is a list") { try load(pickle { $0.proto(2); $0.op(0x5D); $0.op(0x2E) }) }
        let withNonTensor = pickle { $0.proto(2); $0.op(0x7D); $0.unicode("epoch"); $0.int(3); $0.op(0x73); $0.op(0x2E) }
        let contents = try load(withNonTensor)
        XCTAssertTrue(contents.tensors.isEmpty)
        XCTAssertEqual(contents.skipped["epoch"], "not a tensor (int 3)")
    }

    // MARK: - Bounds and malformed streams

    func testResourceBoundsAreEnforced() throws {
        var options = TorchCheckpoint.Options()
        options.unpickler.maxOpcodes = 50
        let longStream = pickle { p in p.proto(2); for _ in 0..<100 { p.op(0x4E); p.op(0x30) }; p.op(0x7D); p.op(0x2E) }
        assertTorchBinError("more than 50 opcodes") { try load(longStream, options: options) }
        XCTAssertNoThrow(try load(longStream))

        let deepMarks = pickle { p in p.proto(2); for _ in 0..<5000 { p.op(0x28) }; p.op(0x2E) }
        assertTorchBinError("MARKs nested deeper") { try load(deepMarks) }

        options = TorchCheckpoint.Options()
        options.unpickler.maxStackDepth = 100
        let tallStack = pickle { p in p.proto(2); for _ in 0..<200 { p.op(0x4E) }; p.op(0x2E) }
        assertTorchBinError("stack deeper than 100") { try load(tallStack, options: options) }

        options = TorchCheckpoint.Options()
        options.unpickler.maxMemoEntries = 10
        let bigMemo = pickle { p in p.proto(2); p.op(0x4E); for i in 0..<20 { p.op(0x71); p.bytes.append(UInt8(i)) }; p.op(0x2E) }
        assertTorchBinError("memo larger than 10") { try load(bigMemo, options: options) }

        let hugeString: [UInt8] = [0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0xFF, 0x61, 0x2E]
        assertTorchBinError("exceeds the limit") { try load(hugeString) }
        let hugeString8: [UInt8] = [0x80, 0x04, 0x8D] + [UInt8](repeating: 0xFF, count: 8) + [0x2E]
        assertTorchBinError("exceeds the limit") { try load(hugeString8) }
        let longGlobal = [0x80, 0x02, 0x63] + [UInt8](repeating: 0x61, count: 1000) + [0x0A]
        assertTorchBinError("GLOBAL name longer") { try load(longGlobal) }
    }

    func testMalformedStreamsFailCleanly() throws {
        let cases: [([UInt8], String)] = [
            ([0x80, 0x02, 0x7D], "without a STOP"),
            ([0x80, 0x02, 0x2E], "stack underflow"),
            ([0x80, 0x02, 0x68, 0x05, 0x2E], "memo entry 5 used before it was set"),
            ([0x80, 0x02, 0x6A, 0xFF, 0xFF, 0xFF, 0x7F, 0x2E], "used before it was set"),
            ([0x80, 0x02, 0x75, 0x2E], "no MARK"),
            ([0x80, 0x02, 0x7D, 0x28, 0x4E, 0x75, 0x2E], "odd number"),
            ([0x80, 0x02, 0x7D, 0x28, 0x4E, 0x4E, 0x75, 0x2E], "unsupported dict key"),
            ([0x80, 0x02, 0x4E, 0x28, 0x61, 0x2E], "stack underflow"),
            ([0x80, 0x02, 0x4E, 0x4E, 0x61, 0x2E], "APPEND on a None"),
            ([0x80, 0x02, 0x7D, 0x4E, 0x2E], "values left on the stack"),
            ([0x80, 0x02, 0x58, 0x02, 0x00, 0x00, 0x00, 0xC3, 0x28, 0x2E], "not valid UTF-8"),
            ([0x80, 0x02, 0x8A, 0x09] + [UInt8](repeating: 0, count: 9) + [0x2E], "does not fit 64 bits"),
            ([0x80, 0x02, 0x63] + Array("torch\nHalfStor".utf8), "unterminated GLOBAL"),
            ([0x80, 0x02, 0x47, 0x40, 0x09], "truncated"),
        ]
        for (stream, fragment) in cases {
            assertTorchBinError(fragment) { try load(stream) }
        }
    }

    /// A hostile stream can nest containers a million levels deep in a few megabytes; neither unpickling
    /// nor freeing that structure may recurse per level (which would overflow the stack and crash).
    func testDeepNestingDoesNotOverflowTheStack() throws {
        var tuples = TorchBinPickleWriter()
        tuples.proto(2); tuples.op(0x4E)
        tuples.bytes += [UInt8](repeating: 0x85, count: 200_000)  // TUPLE1 around the previous value
        tuples.op(0x30); tuples.op(0x7D); tuples.op(0x2E)
        XCTAssertTrue(try load(tuples.bytes).tensors.isEmpty)

        var lists = TorchBinPickleWriter()
        lists.proto(2); lists.op(0x5D); lists.bytes += [0x71, 0]    // L0, kept on the stack
        for _ in 0..<100_000 { lists.bytes += [0x68, 0, 0x5D, 0x71, 0, 0x61, 0x30] } // L[k].append(L[k+1])
        lists.op(0x30); lists.op(0x7D); lists.op(0x2E)
        XCTAssertTrue(try load(lists.bytes).tensors.isEmpty)
        // The same nest left on the stack at an error must be dismantled as safely.
        lists.bytes.removeLast(3)
        assertTorchBinError("without a STOP") { try load(lists.bytes) }
    }

    /// Mutating a valid state-dict pickle (and fixing the CRC) must never crash the unpickler.
    func testMutatedPicklesNeverCrash() throws {
        let original = TorchBinBuilder.statePickle([
            .init(name: "a", key: "0", numel: 4, size: [2, 2]),
            .init(name: "b", key: "0", numel: 4, offset: 2, size: [2]),
        ])
        var rng = TorchBinRandom(seed: 42)
        var loaded = 0, refused = 0
        for _ in 0..<400 {
            var bytes = original
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
            }
            do {
                let contents = try load(bytes)
                for t in contents.tensors.values { _ = t.floats() }
                loaded += 1
            } catch is CheckpointError {
                refused += 1
            }
        }
        XCTAssertEqual(loaded + refused, 400)
        XCTAssertGreaterThan(refused, 0)
    }

    // MARK: - Accepted spellings

    func testProtocol4SpellingsAreUnderstood() throws {
        // STACK_GLOBAL, MEMOIZE, FRAME, SHORT_BINUNICODE, BINUNICODE8, LONG1, DICT/LIST, BINFLOAT and
        // _rebuild_parameter, as a newer pickler (or a hand-written tool) might emit them.
        let bytes = pickle { p in
            p.proto(4); p.op(0x95); TorchBinBuilder.le64(&p.bytes, 0)
            p.op(0x28)
            p.shortUnicode("w")
            p.shortUnicode("torch._utils"); p.op(0x94); p.shortUnicode("_rebuild_parameter"); p.op(0x94); p.op(0x93)
            p.shortUnicode("torch._utils"); p.shortUnicode("_rebuild_tensor_v2"); p.op(0x93); p.op(0x94)
            p.op(0x28)
            p.op(0x28); p.shortUnicode("storage"); p.shortUnicode("torch"); p.shortUnicode("HalfStorage"); p.op(0x93)
            p.bytes += [0x8D] ; TorchBinBuilder.le64(&p.bytes, 1); p.bytes += Array("0".utf8)
            p.shortUnicode("cuda:0"); p.bytes += [0x8A, 0x01, 0x04]; p.op(0x74); p.op(0x51)
            p.bytes += [0x8A, 0x01, 0x01]                       // storage offset 1 via LONG1
            p.bytes += [0x8A, 0x00]; p.op(0x85)                  // size (0,) via empty LONG1 ...
            p.op(0x30); p.int(3); p.op(0x85)                     // ... popped and replaced by (3,)
            p.int(1); p.op(0x85)
            p.op(0x88); p.op(0x4E)                               // requires_grad, hooks None
            p.op(0x7D)                                           // metadata {}
            p.op(0x74); p.op(0x52)
            p.op(0x89); p.op(0x28); p.op(0x64)                   // requires_grad False, hooks DICT()
            p.op(0x87); p.op(0x52)
            p.shortUnicode("extra"); p.op(0x28); p.op(0x47); TorchBinBuilder.le64(&p.bytes, 0); p.op(0x6C)
            p.op(0x64); p.op(0x2E)
        }
        let contents = try load(bytes)
        XCTAssertEqual(contents.tensors["w"]?.floats(), Tensor(shape: [3], data: [2, 3, 4]))
        XCTAssertEqual(contents.skipped["extra"], "not a tensor (list)")
    }

    func testNegativeLong1AndBinInt() throws {
        // Negative numbers must decode as negative (and then be refused as offsets), not as huge positives.
        var spec = TorchBinBuilder.statePickle([.init(name: "w", key: "0", numel: 4, offset: 0, size: [2])])
        let offsetOp: [UInt8] = [0x51, 0x4B, 0x00]
        let at = try XCTUnwrap(findBytes(offsetOp, in: spec))
        spec.replaceSubrange((at + 1)..<(at + 3), with: [0x8A, 0x01, 0xFF])
        assertTorchBinError("storage offset -1") { try load(spec) }
        spec = TorchBinBuilder.statePickle([.init(name: "w", key: "0", numel: 4, offset: 0, size: [2])])
        spec.replaceSubrange((at + 1)..<(at + 3), with: [0x4A, 0xFE, 0xFF, 0xFF, 0xFF])
        assertTorchBinError("storage offset -2") { try load(spec) }
    }

    private func findBytes(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard needle.count <= hay.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
        return nil
    }
}
