import Foundation
import FuzzSupport
import Tensor

/// Any byte string must give an array or an NpyError, never a crash or an unbounded allocation.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let a = try? Npy.parse(fuzzInput(data, size)) else { return 0 }
    _ = try? a.floats()
    _ = try? a.int64s()
    _ = try? a.bools()
    // A parsed array must survive a round trip through the writer.
    _ = try? Npy.parse(Npy.encode(a))
    return 0
}

@_cdecl("FuzzNpy_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzerDriver(argc, argv, testOneInput)
}
