import Foundation
import FuzzSupport
import Tokenizer

let samples = ["Hello world", "  two  spaces\n<s>x</s> <unk>", "é中文🙂\u{0}\u{7F}", ""]

/// Any byte string must load as a tokenizer or throw a TokenizerError; a loaded one must encode and decode
/// text that reaches the byte fallback, special-token splitting and whitespace handling without trapping.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let tokenizer = try? SentencePieceTokenizer(modelData: fuzzInput(data, size)) else { return 0 }
    for text in samples {
        let ids = tokenizer.encode(text)
        _ = tokenizer.decode(ids)
        _ = tokenizer.decode(ids, skipSpecialTokens: false)
        _ = tokenizer.decodeAnswer(ids)
        _ = tokenizer.pieces(text)
    }
    // decode documents that ids outside the vocabulary are dropped.
    _ = tokenizer.decode([-200, -1, 0, 1, 2, 3, 1_000_000])
    _ = (tokenizer.piece(for: -1), tokenizer.piece(for: 0), tokenizer.piece(for: Int.max))
    return 0
}

@_cdecl("FuzzSentencePiece_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzerDriver(argc, argv, testOneInput)
}
