import Checkpoint
import Foundation
import FuzzSupport

let scratch = ScratchFile(name: "pickle.bin")
// Storages "0"..."15" of 256 bytes each, so persistent ids with small keys and counts resolve.
let storages = (0..<16).map { key in
    (name: "archive/data/\(key)", bytes: Data((0..<256).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ key) }))
}

/// The input is the pickle itself, wrapped as `archive/data.pkl` in a well-formed zip next to a few small
/// storages, so every mutation reaches the restricted unpickler instead of being rejected by the zip reader.
/// (The unpickler is internal to Checkpoint; loadContents is its public way in.)
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let archive = StoredZip.make([
        ("archive/data.pkl", fuzzInput(data, size)),
        ("archive/byteorder", Data("little".utf8)),
    ] + storages)
    guard let contents = try? TorchCheckpoint.loadContents(scratch.write(archive)) else { return 0 }
    var sink: Float = 0
    for tensor in contents.tensors.values where tensor.count > 0 {
        var x: Float = 0
        tensor.convert(tensor.count - 1..<tensor.count, into: &x)
        sink += x
    }
    withExtendedLifetime(sink) {}
    return 0
}

@_cdecl("FuzzTorchPickle_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzerDriver(argc, argv, testOneInput)
}
