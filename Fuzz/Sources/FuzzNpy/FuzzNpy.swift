import Foundation
import Tensor

/// Any byte string must give an array or an NpyError, never a crash or an unbounded allocation.
func fuzzOne(_ bytes: Data) {
    if let a = try? Npy.parse(bytes) {
        _ = try? a.floats()
        _ = try? a.int64s()
        _ = Npy.encode(a)
    }
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

// SwiftPM links an executable's entry point as `<Module>_main`; hand control to libFuzzer's driver.
@_cdecl("FuzzNpy_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v) { data, size in
        fuzzOne(Data(bytes: data!, count: size))
        return 0
    }
}
