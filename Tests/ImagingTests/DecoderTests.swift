import Foundation
import TestSupport
import XCTest
@testable import Imaging

final class DecoderTests: XCTestCase {
    private func decodeError(_ data: Data, file: StaticString = #filePath, line: UInt = #line) -> ImagingError? {
        do {
            _ = try ImageDecoder.decode(data: data)
            XCTFail("decoding unexpectedly succeeded", file: file, line: line)
            return nil
        } catch let e as ImagingError {
            return e
        } catch {
            XCTFail("unexpected error type \(error)", file: file, line: line)
            return nil
        }
    }

    private func tempFile(_ name: String, _ data: Data) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("imaging-tests-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    // MARK: Errors

    func testTextFileNamedJPGIsNotAnImage() throws {
        let url = try tempFile("notes.jpg", Data("just some text, not pixels\n".utf8))
        XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: url)) { error in
            guard let e = error as? ImagingError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.kind, .notAnImage)
            XCTAssertTrue(e.description.contains("not a PNG or JPEG image"), e.description)
            XCTAssertTrue(e.description.contains(url.path), e.description)
        }
        XCTAssertEqual(decodeError(Data())?.kind, .notAnImage)
    }

    func testMissingFileIsUnreadable() {
        XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: "/nonexistent/x.png"))) { error in
            XCTAssertEqual((error as? ImagingError)?.kind, .unreadable)
        }
    }

    func testTruncatedPNGFailsWithFileName() throws {
        let data = try Data(contentsOf: try Fixtures.require("fixtures/llava15/images/odd-333x335.png"))
        let url = try tempFile("cut.png", data.prefix(data.count / 2))
        XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: url)) { error in
            guard let e = error as? ImagingError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.kind, .corrupt)
            XCTAssertTrue(e.description.contains(url.path) && e.description.contains("PNG"), e.description)
        }
    }

    func testTruncatedJPEGFailsWithFileName() throws {
        let data = try Data(contentsOf: try Fixtures.require("fixtures/llava15/images/scene-640x480.jpg"))
        let url = try tempFile("cut.jpg", data.prefix(data.count / 2))
        XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: url)) { error in
            guard let e = error as? ImagingError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.kind, .corrupt)
            XCTAssertTrue(e.description.contains(url.path) && e.description.contains("truncated"), e.description)
        }
    }

    func testHugeDeclaredPNGIsRefusedBeforeAllocating() throws {
        // Header only, and a complete file with one tiny IDAT: both must be refused as too large.
        let headerOnly = Data(SyntheticPNG.signature + SyntheticPNG.ihdr(width: 100_000, height: 100_000, depth: 8, colorType: 2))
        let url = try tempFile("huge.png", headerOnly)
        XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: url)) { error in
            guard let e = error as? ImagingError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.kind, .tooLarge)
            XCTAssertTrue(e.description.contains("100000x100000") && e.description.contains(url.path), e.description)
        }
        let full = SyntheticPNG.make(width: 100_000, height: 100_000, depth: 8, colorType: 0, rows: [[0, 0, 0]])
        XCTAssertEqual(decodeError(full)?.kind, .tooLarge)
        // Within each side limit but over the pixel budget.
        let wide = SyntheticPNG.make(width: 16_000, height: 16_000, depth: 8, colorType: 0, rows: [[0]])
        XCTAssertEqual(decodeError(wide)?.kind, .tooLarge)
    }

    func testHugeDeclaredJPEGIsRefused() throws {
        var bytes = [UInt8](try Data(contentsOf: try Fixtures.require("fixtures/llava15/images/scene-640x480.jpg")))
        // Patch the frame header (SOF0/SOF2) to declare 60000x60000.
        guard let sof = (0..<(bytes.count - 9)).first(where: { bytes[$0] == 0xFF && (bytes[$0 + 1] == 0xC0 || bytes[$0 + 1] == 0xC2) }) else {
            return XCTFail("no SOF marker in the fixture JPEG")
        }
        bytes[sof + 5] = 0xEA; bytes[sof + 6] = 0x60
        bytes[sof + 7] = 0xEA; bytes[sof + 8] = 0x60
        let e = decodeError(Data(bytes))
        XCTAssertEqual(e?.kind, .tooLarge, e?.description ?? "")
    }

    func testCorruptHeadersGiveErrorsNotCrashes() {
        XCTAssertEqual(decodeError(Data(SyntheticPNG.signature + [1, 2, 3, 4, 5]))?.kind, .corrupt)
        XCTAssertEqual(decodeError(Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 3, 0, 0, 0]))?.kind, .corrupt)
        // Bad IHDR CRC.
        var png = [UInt8](SyntheticPNG.make(width: 2, height: 1, depth: 8, colorType: 0, rows: [[1, 2]]))
        png[29] ^= 0xFF
        XCTAssertEqual(decodeError(Data(png))?.kind, .corrupt)
    }

    /// Every prefix length and scattered byte flips of real files: errors or images, never a crash.
    func testTruncationsAndBitFlipsNeverCrash() throws {
        for name in ["scene-640x480.jpg", "palette-250x120.png", "small-17x9.png"] {
            let data = [UInt8](try Data(contentsOf: try Fixtures.require("fixtures/llava15/images/\(name)")))
            var rng = SplitMix(seed: 42)
            for i in 1...24 {
                let cut = data.count * i / 25
                XCTAssertThrowsError(try ImageDecoder.decode(data: Data(data.prefix(cut))), "\(name) cut at \(cut)")
            }
            for _ in 0..<24 {
                var corrupted = data
                for _ in 0..<4 {
                    let at = 3 + Int(rng.next() % UInt64(corrupted.count - 3))
                    corrupted[at] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
                }
                if let img = try? ImageDecoder.decode(data: Data(corrupted)) {
                    XCTAssertEqual(img.pixels.count, img.width * img.height * 3)
                }
            }
        }
    }

    // MARK: Formats and PIL conversion rules

    func testFixtureImagesDecodeWithPILModes() throws {
        let expected: [(String, SourceMode, Int, Int)] = [
            ("scene-640x480.jpg", .rgb, 640, 480), ("gray-300x300.png", .gray, 300, 300),
            ("palette-250x120.png", .palette, 250, 120), ("tall-37x501.png", .rgba, 37, 501),
            ("small-17x9.png", .rgb, 17, 9), ("wide-1000x90.jpg", .rgb, 1000, 90),
        ]
        for (name, mode, w, h) in expected {
            let d = try ImageDecoder.decodeDetailed(contentsOf: try Fixtures.require("fixtures/llava15/images/\(name)"))
            XCTAssertEqual(d.sourceMode, mode, name)
            XCTAssertEqual(d.image.width, w, name)
            XCTAssertEqual(d.image.height, h, name)
        }
    }

    func testFormatIsSniffedNotTakenFromExtension() throws {
        let png = try PNGEncoder.encode(rgb: [10, 20, 30], width: 1, height: 1)
        let url = try tempFile("really-a-png.jpg", png)
        let d = try ImageDecoder.decodeDetailed(contentsOf: url)
        XCTAssertEqual(d.format, .png)
        XCTAssertEqual(d.image.pixels, [10, 20, 30])
    }

    func testLowDepthGrayIsScaledByBitReplication() throws {
        // 1-bit: 0/255; 2-bit: v * 0x55; 4-bit: v * 0x11 (PIL's "1", "L;2", "L;4").
        let one = try ImageDecoder.decodeDetailed(data: SyntheticPNG.make(width: 8, height: 1, depth: 1, colorType: 0, rows: [[0b1010_0001]]))
        XCTAssertEqual(one.sourceMode, .bilevel)
        XCTAssertEqual(stride(from: 0, to: 24, by: 3).map { one.image.pixels[$0] }, [255, 0, 255, 0, 0, 0, 0, 255])
        let two = try ImageDecoder.decode(data: SyntheticPNG.make(width: 4, height: 1, depth: 2, colorType: 0, rows: [[0b00_01_10_11]]))
        XCTAssertEqual(two.pixels, [0, 0, 0, 0x55, 0x55, 0x55, 0xAA, 0xAA, 0xAA, 0xFF, 0xFF, 0xFF])
        let four = try ImageDecoder.decode(data: SyntheticPNG.make(width: 2, height: 1, depth: 4, colorType: 0, rows: [[0x3C]]))
        XCTAssertEqual(four.pixels, [0x33, 0x33, 0x33, 0xCC, 0xCC, 0xCC])
    }

    func testSixteenBitGraySaturatesLikePILsI16Conversion() throws {
        // Samples 0x0007, 0x00FF, 0x0100, 0xFFFF → 7, 255, 255, 255 (PIL clips I;16 to 8 bits).
        let d = try ImageDecoder.decodeDetailed(data: SyntheticPNG.make(
            width: 4, height: 1, depth: 16, colorType: 0, rows: [[0x00, 0x07, 0x00, 0xFF, 0x01, 0x00, 0xFF, 0xFF]]))
        XCTAssertEqual(d.sourceMode, .gray16)
        XCTAssertEqual(d.image.pixels, [7, 7, 7, 255, 255, 255, 255, 255, 255, 255, 255, 255])
    }

    func testSixteenBitColourKeepsHighBytes() throws {
        let rgb = try ImageDecoder.decode(data: SyntheticPNG.make(
            width: 1, height: 1, depth: 16, colorType: 2, rows: [[0x12, 0xFF, 0x34, 0x80, 0x56, 0x01]]))
        XCTAssertEqual(rgb.pixels, [0x12, 0x34, 0x56])
        let rgba = try ImageDecoder.decodeDetailed(data: SyntheticPNG.make(
            width: 1, height: 1, depth: 16, colorType: 6, rows: [[0x12, 0xFF, 0x34, 0x80, 0x56, 0x01, 0x00, 0x00]]))
        XCTAssertEqual(rgba.image.pixels, [0x12, 0x34, 0x56])
        XCTAssertEqual(rgba.sourceMode, .rgba)
        let la = try ImageDecoder.decodeDetailed(data: SyntheticPNG.make(
            width: 1, height: 1, depth: 16, colorType: 4, rows: [[0x9A, 0xFF, 0x00, 0x10]]))
        XCTAssertEqual(la.image.pixels, [0x9A, 0x9A, 0x9A])
        XCTAssertEqual(la.sourceMode, .rgba, "PIL opens 16-bit gray+alpha as RGBA")
    }

    func testAlphaIsDroppedNotComposited() throws {
        let la = try ImageDecoder.decodeDetailed(data: SyntheticPNG.make(width: 2, height: 1, depth: 8, colorType: 4, rows: [[200, 0, 50, 128]]))
        XCTAssertEqual(la.sourceMode, .grayAlpha)
        XCTAssertEqual(la.image.pixels, [200, 200, 200, 50, 50, 50])
        let rgba = try ImageDecoder.decode(data: PNGEncoder.encode(rgba: [10, 20, 30, 0, 40, 50, 60, 7], width: 2, height: 1))
        XCTAssertEqual(rgba.pixels, [10, 20, 30, 40, 50, 60])
    }

    func testPaletteLookupIgnoresTransparencyAndBlacksOutMissingEntries() throws {
        let palette: [UInt8] = [255, 0, 0, 0, 255, 0]  // two entries
        let d = try ImageDecoder.decodeDetailed(data: SyntheticPNG.make(
            width: 3, height: 1, depth: 8, colorType: 3, rows: [[1, 0, 2]], palette: palette, transparency: [0, 128]))
        XCTAssertEqual(d.sourceMode, .palette)
        XCTAssertTrue(d.hadTransparencyKey)
        XCTAssertEqual(d.image.pixels, [0, 255, 0, 255, 0, 0, 0, 0, 0])
        let packed = try ImageDecoder.decode(data: SyntheticPNG.make(
            width: 4, height: 1, depth: 2, colorType: 3, rows: [[0b01_00_01_00]], palette: palette))
        XCTAssertEqual(packed.pixels, [0, 255, 0, 255, 0, 0, 0, 255, 0, 255, 0, 0])
    }

    func testAdam7InterlacedPNGIsReassembled() throws {
        // 2x2 gray: pass 1 holds (0,0), pass 6 holds (1,0), pass 7 holds row 1; the other passes are empty.
        let png = SyntheticPNG.make(width: 2, height: 2, depth: 8, colorType: 0, rows: [[10], [20], [30, 40]], interlaced: true)
        XCTAssertEqual(try ImageDecoder.decode(data: png).pixels, [10, 10, 10, 20, 20, 20, 30, 30, 30, 40, 40, 40])
    }

    func testGrayscaleJPEGIsReplicated() throws {
        let gray = [UInt8](repeating: 77, count: 16 * 16)
        let jpeg = try JPEGEncoder.encode(pixels: gray, width: 16, height: 16, layout: .gray, quality: 100)
        let d = try ImageDecoder.decodeDetailed(data: jpeg)
        XCTAssertEqual(d.sourceMode, .gray)
        for i in stride(from: 0, to: d.image.pixels.count, by: 3) {
            XCTAssertEqual(d.image.pixels[i], d.image.pixels[i + 1])
            XCTAssertEqual(d.image.pixels[i], d.image.pixels[i + 2])
            XCTAssertLessThanOrEqual(abs(Int(d.image.pixels[i]) - 77), 1)
        }
    }

    func testCMYKJPEGUsesAdobePolarityAndPILConversion() throws {
        // Stored samples (Adobe-inverted). PIL: c = 255 - stored, nk = 255 - k, out = nk - c*nk/255.
        let stored: [[UInt8]] = [[255, 255, 255, 255], [255, 255, 255, 0], [55, 155, 255, 255], [200, 100, 50, 180]]
        for s in stored {
            let pixels = Array([[UInt8]](repeating: s, count: 16 * 16).joined())
            let jpeg = try JPEGEncoder.encode(pixels: pixels, width: 16, height: 16, layout: .cmyk, quality: 100)
            let d = try ImageDecoder.decodeDetailed(data: jpeg)
            XCTAssertEqual(d.sourceMode, .cmyk)
            let nk = Double(s[3])
            for c in 0..<3 {
                let cyan = 255 - Double(s[c])
                let expected = nk - cyan * nk / 255
                XCTAssertEqual(Double(d.image.pixels[8 * 16 * 3 + 8 * 3 + c]), expected, accuracy: 3, "stored \(s) channel \(c)")
            }
        }
    }

    func testPNGEncodeDecodeRoundTrip() throws {
        var rng = SplitMix(seed: 7)
        let w = 13, h = 7
        let rgb = (0..<(w * h * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        XCTAssertEqual(try ImageDecoder.decode(data: PNGEncoder.encode(rgb: rgb, width: w, height: h)).pixels, rgb)
        XCTAssertThrowsError(try PNGEncoder.encode(rgb: rgb, width: w + 1, height: h))
        XCTAssertThrowsError(try PNGEncoder.encode(rgba: [], width: 0, height: 0))
    }
}

/// Deterministic generator for reproducible test inputs.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
