import XCTest
@testable import Tensor

final class HalfPrecisionTests: XCTestCase {
    func testHalfWideningIsExactForEveryBitPattern() {
        // Every one of the 65536 patterns: bulk (F16C or portable C) and scalar paths agree, and
        // the value matches the IEEE definition computed independently here.
        var src = (0...0xFFFF).map { UInt16($0) }
        var dst = [Float](repeating: 0, count: src.count)
        src.withUnsafeMutableBufferPointer { s in
            dst.withUnsafeMutableBufferPointer { d in HalfPrecision.convertHalf(s.baseAddress!, to: d.baseAddress!, count: s.count) }
        }
        for bits in 0...0xFFFF {
            let h = UInt16(bits)
            let sign: Float = h & 0x8000 != 0 ? -1 : 1
            let e = Int((h >> 10) & 0x1F), m = Int(h & 0x3FF)
            let want: Float
            if e == 0 { want = sign * Float(m) * powf(2, -24) }
            else if e == 31 { want = m == 0 ? sign * .infinity : .nan }
            else { want = sign * (1 + Float(m) / 1024) * powf(2, Float(e - 15)) }
            let scalar = HalfPrecision.float(fromHalf: h)
            if want.isNaN {
                XCTAssertTrue(scalar.isNaN && dst[bits].isNaN, "pattern \(bits)")
            } else {
                XCTAssertEqual(scalar.bitPattern, want.bitPattern, "scalar pattern \(bits)")
                XCTAssertEqual(dst[bits].bitPattern, want.bitPattern, "bulk pattern \(bits)")
            }
        }
    }

    func testHalfNarrowingRoundsToNearestEven() {
        XCTAssertEqual(HalfPrecision.half(from: 1.0), 0x3C00)
        // 1 + 2^-11 is exactly halfway between 1 and 1 + 2^-10: ties to even (1.0).
        XCTAssertEqual(HalfPrecision.half(from: 1 + powf(2, -11)), 0x3C00)
        // 1 + 3·2^-11 is halfway between 1+2^-10 (odd) and 1+2^-9 (even): rounds up.
        XCTAssertEqual(HalfPrecision.half(from: 1 + 3 * powf(2, -11)), 0x3C02)
        XCTAssertEqual(HalfPrecision.half(from: 65504), 0x7BFF)
        XCTAssertEqual(HalfPrecision.half(from: 65520), 0x7C00, "halfway to the next binade overflows to inf")
        XCTAssertEqual(HalfPrecision.half(from: 65519), 0x7BFF)
        XCTAssertEqual(HalfPrecision.half(from: .infinity), 0x7C00)
        XCTAssertEqual(HalfPrecision.half(from: -.infinity), 0xFC00)
        XCTAssertTrue(HalfPrecision.float(fromHalf: HalfPrecision.half(from: .nan)).isNaN)
        // Subnormals: smallest (2^-24), and a value rounding from below half of it.
        XCTAssertEqual(HalfPrecision.half(from: powf(2, -24)), 0x0001)
        XCTAssertEqual(HalfPrecision.half(from: powf(2, -25)), 0x0000, "tie between 0 and 2^-24 goes to even (0)")
        XCTAssertEqual(HalfPrecision.half(from: 1.5 * powf(2, -24)), 0x0002, "tie between 1 and 2 ulps goes to even")
        XCTAssertEqual(HalfPrecision.half(from: -0.0), 0x8000)
        // Round trip of every finite half is the identity.
        for bits in 0...0xFFFF where (bits >> 10) & 0x1F != 31 {
            XCTAssertEqual(HalfPrecision.half(from: HalfPrecision.float(fromHalf: UInt16(bits))), UInt16(bits))
        }
    }

    func testBFloat16() {
        XCTAssertEqual(HalfPrecision.bfloat16(from: 1.0), 0x3F80)
        // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties to even → 1.
        XCTAssertEqual(HalfPrecision.bfloat16(from: 1 + powf(2, -8)), 0x3F80)
        XCTAssertEqual(HalfPrecision.bfloat16(from: 1 + 3 * powf(2, -8)), 0x3F82)
        XCTAssertEqual(HalfPrecision.bfloat16(from: .infinity), 0x7F80)
        XCTAssertEqual(HalfPrecision.bfloat16(from: -.infinity), 0xFF80)
        XCTAssertEqual(HalfPrecision.bfloat16(from: .greatestFiniteMagnitude), 0x7F80, "rounds up to inf")
        let nan = HalfPrecision.bfloat16(from: Float(bitPattern: 0x7F80_0001)) // signalling NaN with low payload
        XCTAssertTrue(HalfPrecision.float(fromBFloat16: nan).isNaN, "NaN must not become inf")
        // Subnormal float32 values keep their top bits.
        let sub = Float(bitPattern: 0x0001_0000)
        XCTAssertEqual(HalfPrecision.bfloat16(from: sub), 0x0001)
        XCTAssertEqual(HalfPrecision.float(fromBFloat16: 0x0001), sub)
        var src: [UInt16] = [0x3F80, 0xC000, 0x7F80, 0x0001]
        var dst = [Float](repeating: 0, count: 4)
        src.withUnsafeMutableBufferPointer { s in
            dst.withUnsafeMutableBufferPointer { d in HalfPrecision.convertBFloat16(s.baseAddress!, to: d.baseAddress!, count: 4) }
        }
        XCTAssertEqual(dst, [1, -2, .infinity, sub])
    }
}
