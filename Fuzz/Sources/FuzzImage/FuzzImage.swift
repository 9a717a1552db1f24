import Foundation
import FuzzSupport
import Imaging

/// Any byte string must decode to an image or throw an ImagingError; libpng/libjpeg errors must come back
/// through the setjmp shim rather than abort the process. The header-only reader of `datasets check` gets the
/// same bytes and must agree with the decoder on every image both accept.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzInput(data, size)
    let header = try? ImageHeader.parse([UInt8](bytes))
    guard let decoded = try? ImageDecoder.decodeDetailed(data: bytes) else { return 0 }
    let image = decoded.image
    if let header {
        precondition(header.width == image.width && header.height == image.height, "header size differs from the decoded size")
    }
    precondition(image.pixels.count == image.width * image.height * 3, "decoded buffer does not match its size")
    return 0
}

@_cdecl("FuzzImage_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzerDriver(argc, argv, testOneInput)
}
