import CKernels

/// Float32 reductions in the exact rounding order of the reference PyTorch CPU build, for the places
/// where a result is a ranking of near-equal values (VisPruner's similarity ranking) and any other
/// order would change which tokens are kept. See Sources/System/CKernels/reference_float32.c.
public enum ReferenceArithmetic {
    /// `x.norm()` of one row of `d` floats.
    public static func norm(_ x: UnsafePointer<Float>, count d: Int) -> Float { ck_ref_norm(x, d) }

    /// Gram matrix `x · xᵀ` of `m` rows of `d` floats, as the reference's sgemm rounds it.
    public static func gram(_ x: UnsafePointer<Float>, rows m: Int, cols d: Int) -> [Float] {
        var g = [Float](repeating: 0, count: m * m)
        var scratch = [Float](repeating: 0, count: (m + 31) / 32 * 32 * d)
        g.withUnsafeMutableBufferPointer { gp in
            scratch.withUnsafeMutableBufferPointer { sp in ck_ref_gram(x, m, d, gp.baseAddress!, sp.baseAddress!) }
        }
        return g
    }
}
