import CKernels

/// IEEE binary16 and bfloat16 ⇄ float32 conversions.
///
/// Narrowing rounds to nearest, ties to even, keeps NaN a NaN (quiet) and ±inf, and produces
/// subnormals where the format has them; widening is exact.
public enum HalfPrecision {
    /// binary16 bits → float32 (exact).
    @inline(__always)
    public static func float(fromHalf bits: UInt16) -> Float {
        Float(Float16(bitPattern: bits))
    }

    /// float32 → binary16 bits, round-to-nearest-even (overflow → ±inf).
    @inline(__always)
    public static func half(from value: Float) -> UInt16 {
        Float16(value).bitPattern
    }

    /// bfloat16 bits → float32 (exact: bf16 is the top half of a float32).
    @inline(__always)
    public static func float(fromBFloat16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// float32 → bfloat16 bits, round-to-nearest-even; NaN stays NaN (quiet bit forced).
    @inline(__always)
    public static func bfloat16(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: (bits >> 16) | 0x0040) }
        let lsb = (bits >> 16) & 1
        let rounded = bits &+ 0x7FFF &+ lsb
        return UInt16(truncatingIfNeeded: rounded >> 16)
    }

    /// Widens `count` binary16 values (F16C when available).
    public static func convertHalf(_ src: UnsafePointer<UInt16>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        ck_f16_to_f32(src, dst, count)
    }

    /// Widens `count` bfloat16 values.
    public static func convertBFloat16(_ src: UnsafePointer<UInt16>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        ck_bf16_to_f32(src, dst, count)
    }
}

/// CPU features detected at run time; kernels choose their path from these, never from build flags.
public enum CPUFeatures {
    public static let f16c = ck_has_f16c() != 0
    public static let avx2 = ck_has_avx2() != 0
    public static let avx512f = ck_has_avx512f() != 0
    public static let avx512bf16 = ck_has_avx512bf16() != 0

    public static var summary: String {
        [("f16c", f16c), ("avx2", avx2), ("avx512f", avx512f), ("avx512_bf16", avx512bf16)]
            .map { "\($0.0)=\($0.1 ? "yes" : "no")" }.joined(separator: " ")
    }
}
