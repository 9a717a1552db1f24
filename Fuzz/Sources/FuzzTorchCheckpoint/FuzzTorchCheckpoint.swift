import Checkpoint
import Foundation
import FuzzSupport

let scratch = ScratchFile(name: "input.bin")
// Storage checksums too, so the CRC path sees hostile members as well.
let options: TorchCheckpoint.Options = {
    var o = TorchCheckpoint.Options()
    o.verifyStorageChecksums = true
    return o
}()

/// Any file must load as a torch.save archive or throw: zip directory, restricted unpickler and storage
/// resolution together.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let contents = try? TorchCheckpoint.loadContents(scratch.write(fuzzInput(data, size)), options: options)
    else { return 0 }
    var sink: Float = 0
    for name in contents.order {
        guard let tensor = contents.tensors[name] else { continue }
        let n = tensor.count
        guard n > 0 else { continue }
        var buffer = [Float](repeating: 0, count: 4)
        buffer.withUnsafeMutableBufferPointer { dst in
            tensor.convert(0..<min(n, 4), into: dst.baseAddress!)
            tensor.convert(max(0, n - 4)..<n, into: dst.baseAddress!)
        }
        sink += buffer[0]
    }
    _ = contents.skipped.count
    withExtendedLifetime(sink) {}
    return 0
}

@_cdecl("FuzzTorchCheckpoint_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzerDriver(argc, argv, testOneInput)
}
