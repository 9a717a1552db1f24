import Checkpoint
import Foundation
import FuzzSupport

let scratch = ScratchFile(name: "input.safetensors")

/// Any file must open as a validated SafetensorsFile or throw. ASan does not watch the mmap, so every listed
/// tensor's first and last elements are converted: a range past the mapping then faults instead of passing.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let file = try? SafetensorsFile(url: scratch.write(fuzzInput(data, size))) else { return 0 }
    _ = file.metadata.count + file.unsupportedTensors.count
    var sink: Float = 0
    for tensor in file.tensors.values {
        _ = (tensor.name, tensor.dtype, tensor.shape, tensor.byteCount)
        let n = tensor.count
        guard n > 0 else { continue }
        var buffer = [Float](repeating: 0, count: 4)
        buffer.withUnsafeMutableBufferPointer { dst in
            tensor.convert(0..<min(n, 4), into: dst.baseAddress!)
            tensor.convert(max(0, n - 4)..<n, into: dst.baseAddress!)
        }
        sink += buffer[0]
        if n <= 4096 { sink += tensor.floats().data.first ?? 0 }
    }
    withExtendedLifetime(sink) {}
    return 0
}

@_cdecl("FuzzSafetensors_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzerDriver(argc, argv, testOneInput)
}
