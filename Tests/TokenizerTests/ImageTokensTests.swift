import Foundation
import TestSupport
import Tokenizer
import XCTest

/// tokenizer_image_token on prompts the fixtures do not cover, checked against the rule itself: each part is
/// encoded on its own and the parts are joined by the image id, with one <s> at the start.
final class ImageTokensTests: XCTestCase {
    private func expectedIDs(_ parts: [String], _ tok: SentencePieceTokenizer) -> [Int] {
        var ids = [tok.bosID]
        for (i, part) in parts.enumerated() {
            if i > 0 { ids.append(ImageTokens.imageTokenID) }
            ids += tok.encode(part, addBOS: false)
        }
        return ids
    }

    func testPromptWithoutImageIsPlainEncoding() throws {
        let tok = try SharedTokenizer.get()
        let prompt = ConversationTemplate.vicunaV1.prompt(userMessage: "What is this?")
        XCTAssertEqual(ImageTokens.tokenize(prompt: prompt, with: tok), tok.encode(prompt))
    }

    func testImagesAtEdgesAndRepeated() throws {
        let tok = try SharedTokenizer.get()
        let cases: [[String]] = [
            ["", "\nDescribe."],            // image first
            ["Look: ", ""],                 // image last
            ["", ""],                       // only the image
            ["A ", " and ", " differ?"],    // two images
            ["", "", ""],                   // two adjacent images
        ]
        for parts in cases {
            let prompt = parts.joined(separator: ImageTokens.placeholder)
            let ids = ImageTokens.tokenize(prompt: prompt, with: tok)
            XCTAssertEqual(ids, expectedIDs(parts, tok), prompt.debugDescription)
            XCTAssertEqual(ids.filter { $0 == ImageTokens.imageTokenID }.count, parts.count - 1)
            XCTAssertEqual(ids.filter { $0 == tok.bosID }.count, 1)
        }
    }

    func testTemplateShape() {
        let prompt = ConversationTemplate.vicunaV1.prompt(imageQuestion: "Q?")
        XCTAssertTrue(prompt.hasPrefix(ConversationTemplate.vicunaV1.system + " USER: <image>\nQ?"))
        XCTAssertTrue(prompt.hasSuffix(" ASSISTANT:"))
    }
}
