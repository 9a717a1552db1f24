import Crypto
import XCTest
import CKernels
@testable import Tensor

/// Pins the bits of numerics n2 (CKernels.h): every kernel of the forward path runs on fixed inputs on
/// every kernel path this CPU supports and at 1 and 2 threads; the outputs must be bit-identical, and
/// their SHA-256 must equal the committed table (recorded from the portable path, the definition).
/// Any machine that runs this test (AVX2 CI hosts, AVX-512 hosts, later NEON) must reproduce the table.
///
/// To re-record after a deliberate change of the arithmetic (and a new `Numerics.version`):
/// `VISPRUNER_RECORD_NUMERICS=1 swift test --filter NumericsTests` prints the table of the portable path.
final class NumericsTests: XCTestCase {
    /// SHA-256 (hex) of each case's float32 output bytes (little-endian), from the portable path.
    static let expected: [String: String] = [
        "linear float32 m=1 out=101 in=333 byRowCount": "8fa9c768191df8489ef2536bd6e4408d3c1fde364cea8439c2d644074c3444f7",
        "linear float32 m=1 out=101 in=333 streaming": "8fa9c768191df8489ef2536bd6e4408d3c1fde364cea8439c2d644074c3444f7",
        "linear float32 m=1 out=101 in=333 rowInvariant": "8fa9c768191df8489ef2536bd6e4408d3c1fde364cea8439c2d644074c3444f7",
        "linear float32 m=2 out=70 in=64 byRowCount": "3af49d2fb6556e3eb0545081b3c825630b0a60903a0c8dabe918dd4e90dc3465",
        "linear float32 m=2 out=70 in=64 streaming": "3af49d2fb6556e3eb0545081b3c825630b0a60903a0c8dabe918dd4e90dc3465",
        "linear float32 m=2 out=70 in=64 rowInvariant": "3af49d2fb6556e3eb0545081b3c825630b0a60903a0c8dabe918dd4e90dc3465",
        "linear float32 m=3 out=40 in=17 byRowCount": "dd7dfc0553b14507761e1ac15bbc96aec7d6a032b2a9e20d8556f4552462db0e",
        "linear float32 m=3 out=40 in=17 streaming": "dd7dfc0553b14507761e1ac15bbc96aec7d6a032b2a9e20d8556f4552462db0e",
        "linear float32 m=3 out=40 in=17 rowInvariant": "dd7dfc0553b14507761e1ac15bbc96aec7d6a032b2a9e20d8556f4552462db0e",
        "linear float32 m=7 out=213 in=520 byRowCount": "d701be8fcf177846fed57adf4e6b03f4a4e5dbce624556aeab2a0850bc29b954",
        "linear float32 m=7 out=213 in=520 streaming": "d701be8fcf177846fed57adf4e6b03f4a4e5dbce624556aeab2a0850bc29b954",
        "linear float32 m=7 out=213 in=520 rowInvariant": "d701be8fcf177846fed57adf4e6b03f4a4e5dbce624556aeab2a0850bc29b954",
        "linear float32 m=37 out=50 in=96 byRowCount": "b56daccefed72b107be34c13bf7063072531f6a7cb679e91d028523532ebece5",
        "linear float32 m=37 out=50 in=96 streaming": "b56daccefed72b107be34c13bf7063072531f6a7cb679e91d028523532ebece5",
        "linear float32 m=37 out=50 in=96 rowInvariant": "b56daccefed72b107be34c13bf7063072531f6a7cb679e91d028523532ebece5",
        "linear float16 m=1 out=101 in=333 byRowCount": "10ee2f9219b5b8400e3441a9f6e8e39b09b5c4ba19f6feb6ab1ca5ad2005dcd0",
        "linear float16 m=1 out=101 in=333 streaming": "10ee2f9219b5b8400e3441a9f6e8e39b09b5c4ba19f6feb6ab1ca5ad2005dcd0",
        "linear float16 m=1 out=101 in=333 rowInvariant": "10ee2f9219b5b8400e3441a9f6e8e39b09b5c4ba19f6feb6ab1ca5ad2005dcd0",
        "linear float16 m=2 out=70 in=64 byRowCount": "d26a60e71a9e8d8ef68a571f4f1a4df9f27cd54762ec8521e173b933de3da94b",
        "linear float16 m=2 out=70 in=64 streaming": "d26a60e71a9e8d8ef68a571f4f1a4df9f27cd54762ec8521e173b933de3da94b",
        "linear float16 m=2 out=70 in=64 rowInvariant": "d26a60e71a9e8d8ef68a571f4f1a4df9f27cd54762ec8521e173b933de3da94b",
        "linear float16 m=3 out=40 in=17 byRowCount": "61ee3715e828ed9eedc523f916ebb2eb351f03af57cc9d0e669349bd716ca709",
        "linear float16 m=3 out=40 in=17 streaming": "61ee3715e828ed9eedc523f916ebb2eb351f03af57cc9d0e669349bd716ca709",
        "linear float16 m=3 out=40 in=17 rowInvariant": "61ee3715e828ed9eedc523f916ebb2eb351f03af57cc9d0e669349bd716ca709",
        "linear float16 m=7 out=213 in=520 byRowCount": "17bd0f5d689d399332d902bc1d247e7612a2db514fe6d115b3e94eb4dca240c8",
        "linear float16 m=7 out=213 in=520 streaming": "17bd0f5d689d399332d902bc1d247e7612a2db514fe6d115b3e94eb4dca240c8",
        "linear float16 m=7 out=213 in=520 rowInvariant": "17bd0f5d689d399332d902bc1d247e7612a2db514fe6d115b3e94eb4dca240c8",
        "linear float16 m=37 out=50 in=96 byRowCount": "194e810b3c1f4589e280ca44ad5a87a869d58b8b7845ee7883edaaa40dd2ab01",
        "linear float16 m=37 out=50 in=96 streaming": "194e810b3c1f4589e280ca44ad5a87a869d58b8b7845ee7883edaaa40dd2ab01",
        "linear float16 m=37 out=50 in=96 rowInvariant": "194e810b3c1f4589e280ca44ad5a87a869d58b8b7845ee7883edaaa40dd2ab01",
        "linear bfloat16 m=1 out=101 in=333 byRowCount": "e8db6c29958208ba9a1ca8d1214101689d15a4b58b769796f9dbb126307d92fb",
        "linear bfloat16 m=1 out=101 in=333 streaming": "e8db6c29958208ba9a1ca8d1214101689d15a4b58b769796f9dbb126307d92fb",
        "linear bfloat16 m=1 out=101 in=333 rowInvariant": "e8db6c29958208ba9a1ca8d1214101689d15a4b58b769796f9dbb126307d92fb",
        "linear bfloat16 m=2 out=70 in=64 byRowCount": "0607e2ff466a3e4538a521311942b305bc10703b5732ec58cd3e53832fd9de97",
        "linear bfloat16 m=2 out=70 in=64 streaming": "0607e2ff466a3e4538a521311942b305bc10703b5732ec58cd3e53832fd9de97",
        "linear bfloat16 m=2 out=70 in=64 rowInvariant": "0607e2ff466a3e4538a521311942b305bc10703b5732ec58cd3e53832fd9de97",
        "linear bfloat16 m=3 out=40 in=17 byRowCount": "9ce38f8256cc2a72d1404a0236b4b7e3bbb7aa6814a333eb958f563b436d59b4",
        "linear bfloat16 m=3 out=40 in=17 streaming": "9ce38f8256cc2a72d1404a0236b4b7e3bbb7aa6814a333eb958f563b436d59b4",
        "linear bfloat16 m=3 out=40 in=17 rowInvariant": "9ce38f8256cc2a72d1404a0236b4b7e3bbb7aa6814a333eb958f563b436d59b4",
        "linear bfloat16 m=7 out=213 in=520 byRowCount": "c3712f52930bb614fdc26e142807464d480be7eeec15979fb27c1dcdde6f0db6",
        "linear bfloat16 m=7 out=213 in=520 streaming": "c3712f52930bb614fdc26e142807464d480be7eeec15979fb27c1dcdde6f0db6",
        "linear bfloat16 m=7 out=213 in=520 rowInvariant": "c3712f52930bb614fdc26e142807464d480be7eeec15979fb27c1dcdde6f0db6",
        "linear bfloat16 m=37 out=50 in=96 byRowCount": "b717cf67e584415c4dd7a69d44f1a08a85b63416c3870fa036ac4bb9d2b847e4",
        "linear bfloat16 m=37 out=50 in=96 streaming": "b717cf67e584415c4dd7a69d44f1a08a85b63416c3870fa036ac4bb9d2b847e4",
        "linear bfloat16 m=37 out=50 in=96 rowInvariant": "b717cf67e584415c4dd7a69d44f1a08a85b63416c3870fa036ac4bb9d2b847e4",
        "matmul q·kᵀ 45x24x45": "28635e7a6f6693def577ecc8ee02145351f18f342e0edcdf053a3709d13f302b",
        "matmul p·v 45x45x24": "28eae88051684d70da3f31d28f360d4bcd3105420613709fafbd69523c496d4a",
        "matmul p·v 7x300x20": "b6f18137a911c731d457dec3fa8942006d9df6ed8ef17a837601876facdc54fb",
        "rmsnorm n=5": "c6e9c67fef339e849c575a749228f38c6105ca0c9d52d9d6885ea3d2ec892e95",
        "layernorm n=5": "2cdfff11a996155faebb2e33ea6de8912a463f7d28717277caaf97d68e720b08",
        "softmax n=5": "3363b8bc9fa468c7ed9cd4ac390b3acc72c7c65fc562744c4dfa6b4bca24d56d",
        "rmsnorm n=16": "1dccd2f93b6f5211956cd98d72c83045f733f2df8b8b4423edf1e0700e042f16",
        "layernorm n=16": "3cd0f62a0c8aa4ac8297860713df7e5c6e274a00bf2912015f829f6ca352e804",
        "softmax n=16": "5062bc7296055a0f708500fe596f9d48a9e7a246e75441db72f95328266a96e0",
        "rmsnorm n=37": "2b5895bb742a1e8f5d4ab038ab114561e6ab0dbfd2a7c0ff315c9cd7b2c5131c",
        "layernorm n=37": "4f1f9008967b0a56575c1b62bce6b57276bb440c6cdf806dfe65d35e4c863bc7",
        "softmax n=37": "ca2cc8f5f82cfc4dd009a3f1a6386f62cbdc58bf60ff7ad821b2b90e042a41a8",
        "rmsnorm n=577": "8a254a2a7d64ae01cc40ab548fd54edf55fc9c9c9bca47bdf3fdca059afd389a",
        "layernorm n=577": "863d118686300672349138ac74a3131b01f5502be8069cf9a8eec7e2b8ee41d6",
        "softmax n=577": "86046809ad1cd35851983658fabb4e602d7b276653b72d419a1e0f37814d85db",
        "silu·up": "f72a8fe685e64a1c5b546d7a3a2a78ccb2e4a20cae5047068a5b05c56b2636f7",
        "quick_gelu": "45a77a02941a72777a84195e2c7bc8a68df3b6ec0f780558256e4291fd513d0a",
        "gelu erf": "f87d99c6e74c0ce3ce4a14056a3b92e92065873d103d8bbc2747db078217510f",
        "add": "4713c947841964f5deef58ac2c566e19d07420619105153c87c0dc89a588ab9d",
        "exp, erf": "d5cae8736b79e8766d7fd15ccb84315a680d1c0b11614fb5df1c452d30d16283",
        "rope tables and rotation": "20d39a52b1acaf76bb4b5dc98bf05fcfe09064f64e6c05c0ddb47a880d5a485c",
        "causal attention hd=24 rows=5 pos0=40": "3545dfa86acc3d71c9287c27fdd34e4696bdd8b1ada535328d49282a0813ba18",
        "causal attention hd=20 rows=3 pos0=9": "76f0db8b0b11a3a04415b3cfdb7157ce3ce40bf322fb6b0bbbccc82c5c457882",
        "causal attention hd=128 rows=2 pos0=70": "82dec1b4de09cddf3d6d085bbbaee096a11bacd5a48b2fabc4f37f5a8e09b18c",
        "causal attention hd=16 rows=1 pos0=0": "60e55838ee26e815218cedbf46c8b100c6efe996f01b1d12c63d6887cb28f25d",
        "reference norm and gram": "dd89c159308bf4e885b5df67ae7c6445637ef7dced72f3eef53b74cf1c4960b7",
    ]

    // MARK: inputs

    func randoms(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var s = seed &* 0x9E3779B97F4A7C15 | 1
        return (0..<n).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return Float(Int(s % 2_000_001) - 1_000_000) / 1_000_000 * scale
        }
    }

    static func hash(_ values: [Float]) -> String {
        let bytes = values.withUnsafeBytes { Data($0) }
        return SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    // MARK: the cases

    struct Run {
        var path: KernelPath
        var threads: Int
    }

    /// Every case: a name and the function computing its output on a run configuration.
    func cases() -> [(String, (Run) -> [Float])] {
        var all: [(String, (Run) -> [Float])] = []

        // Products through `linear` (rule P1): every weight type, row counts that hit the 6-row tiles,
        // the small-row kernels and the edges, inner sizes across K blocks (256) with odd remainders.
        for dtype in [WeightDType.float32, .float16, .bfloat16] {
            for (m, out, inF) in [(1, 101, 333), (2, 70, 64), (3, 40, 17), (7, 213, 520), (37, 50, 96)] {
                for kernel in [LinearKernelChoice.byRowCount, .streaming, .rowInvariant] {
                    let name = "linear \(dtype) m=\(m) out=\(out) in=\(inF) \(kernel)"
                    all.append((name, { run in self.linearOutput(dtype: dtype, m: m, out: out, inF: inF, kernel: kernel, run: run) }))
                }
            }
        }
        // The tower's attention products: Q·Kᵀ (B as rows) and P·V (B as columns), strided operands.
        all.append(("matmul q·kᵀ 45x24x45", { run in self.matmulOutput(m: 45, k: 24, n: 45, transposedB: true, run: run) }))
        all.append(("matmul p·v 45x45x24", { run in self.matmulOutput(m: 45, k: 45, n: 24, transposedB: false, run: run) }))
        all.append(("matmul p·v 7x300x20", { run in self.matmulOutput(m: 7, k: 300, n: 20, transposedB: false, run: run) }))

        // Row kernels (R16 sums) over lengths below, at and above 16 with tails.
        for n in [5, 16, 37, 577] {
            all.append(("rmsnorm n=\(n)", { run in self.rowKernel(n: n, run: run) { x, w, _, y, rows in
                Kernels.rmsNorm(x, weight: w, into: y, rows: rows, n: n, eps: 1e-5, threads: run.threads) } }))
            all.append(("layernorm n=\(n)", { run in self.rowKernel(n: n, run: run) { x, w, b, y, rows in
                Kernels.layerNorm(x, gamma: w, beta: b, into: y, rows: rows, n: n, eps: 1e-5, threads: run.threads) } }))
            all.append(("softmax n=\(n)", { run in self.rowKernel(n: n, scale: 8, run: run) { x, _, _, y, rows in
                y.update(from: x, count: rows * n)
                Kernels.softmax(y, rows: rows, n: n, threads: run.threads) } }))
        }
        // Element-wise kernels over more than one pool chunk (4096).
        let flat = 9000
        all.append(("silu·up", { run in
            KernelPath.setActive(run.path)
            var g = self.randoms(flat, seed: 31, scale: 12)
            let u = self.randoms(flat, seed: 32, scale: 3)
            Kernels.siluMul(&g, up: u, count: flat, threads: run.threads)
            return g
        }))
        all.append(("quick_gelu", { run in
            KernelPath.setActive(run.path)
            var g = self.randoms(flat, seed: 33, scale: 12)
            Kernels.quickGELU(&g, count: flat, threads: run.threads)
            return g
        }))
        all.append(("gelu erf", { run in
            KernelPath.setActive(run.path)
            var g = self.randoms(flat, seed: 34, scale: 7)
            Kernels.gelu(&g, count: flat, threads: run.threads)
            return g
        }))
        all.append(("add", { run in
            KernelPath.setActive(run.path)
            var y = self.randoms(flat, seed: 35)
            Kernels.add(self.randoms(flat, seed: 36), into: &y, count: flat, threads: run.threads)
            return y
        }))
        all.append(("exp, erf", { run in
            KernelPath.setActive(run.path)
            let xs = self.randoms(4000, seed: 37, scale: 90) + self.randoms(4000, seed: 38, scale: 5)
            return xs.map { Kernels.exp($0) } + xs.map { Kernels.erf($0) }
        }))
        // RoPE: tables (own pow, sin, cos) and their application.
        all.append(("rope tables and rotation", { run in
            KernelPath.setActive(run.path)
            let hd = 24, half = 12, positions = [0, 1, 2, 7, 100, 1000, 4095, 30000]
            let inv = Kernels.ropeInverseFrequencies(theta: 10000, headDim: hd)
            var c = [Float](repeating: 0, count: positions.count * half), s = c
            inv.withUnsafeBufferPointer { Kernels.ropeTables(positions: positions, invFreq: $0.baseAddress!, half: half, cos: &c, sin: &s) }
            var x = self.randoms(positions.count * 3 * hd, seed: 39, scale: 2)
            Kernels.rope(&x, rows: positions.count, heads: 3, headDim: hd, rowStride: 3 * hd, cos: c, sin: s)
            return inv + c + s + x
        }))
        // Decoder attention over three key segments, several rows at an offset, head sizes with and
        // without a tail of the 8-wide loops, wider than one 64-column value block.
        for (hd, rows, pos0) in [(24, 5, 40), (20, 3, 9), (128, 2, 70), (16, 1, 0)] {
            all.append(("causal attention hd=\(hd) rows=\(rows) pos0=\(pos0)", { run in
                self.attentionOutput(hd: hd, rows: rows, pos0: pos0, run: run)
            }))
        }
        // VisPruner's similarity arithmetic (reference order).
        all.append(("reference norm and gram", { run in
            KernelPath.setActive(run.path)
            let m = 45, d = 200
            let x = self.randoms(m * d, seed: 40)
            let norms = (0..<m).map { r in x.withUnsafeBufferPointer { ReferenceArithmetic.norm($0.baseAddress! + r * d, count: d) } }
            let g = x.withUnsafeBufferPointer { ReferenceArithmetic.gram($0.baseAddress!, rows: m, cols: d) }
            return norms + g
        }))
        return all
    }

    func linearOutput(dtype: WeightDType, m: Int, out: Int, inF: Int, kernel: LinearKernelChoice, run: Run,
                      panels usePanels: Bool = false) -> [Float] {
        let raw = randoms(out * inF, seed: UInt64(out * 7 + inF))
        let bytes: [UInt8]
        switch dtype {
        case .float32: bytes = raw.withUnsafeBytes { Array($0) }
        case .float16: bytes = raw.map { HalfPrecision.half(from: $0) }.withUnsafeBytes { Array($0) }
        case .bfloat16: bytes = raw.map { HalfPrecision.bfloat16(from: $0) }.withUnsafeBytes { Array($0) }
        }
        var x = randoms(m * (inF + 3), seed: UInt64(m + 11), scale: 2)
        let bias = randoms(out, seed: 12)
        var y = [Float](repeating: .nan, count: m * out)
        var scratch = LinearScratch()
        let config = LinearConfig(path: run.path, threads: run.threads)
        bytes.withUnsafeBytes { w in
            let panels = usePanels ? WeightPanels(weight: w.baseAddress!, dtype: dtype, outFeatures: out, inFeatures: inF) : nil
            x.withUnsafeMutableBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    linear(MatrixView(base: xp.baseAddress!, rows: m, cols: inF, rowStride: inF + 3), weight: w.baseAddress!,
                           dtype: dtype, outFeatures: out, inFeatures: inF, bias: bias,
                           into: MatrixView(base: yp.baseAddress!, rows: m, cols: out), scratch: &scratch, config: config,
                           kernel: kernel, panels: panels.map { UnsafeRawPointer($0.pointer) })
                }
            }
        }
        return y
    }

    func matmulOutput(m: Int, k: Int, n: Int, transposedB: Bool, run: Run) -> [Float] {
        KernelPath.setActive(run.path)
        var a = randoms(m * (k + 2), seed: UInt64(m * 3 + k), scale: 3)
        let (br, bc) = transposedB ? (n, k) : (k, n)
        var b = randoms(br * (bc + 5), seed: UInt64(n * 5 + k), scale: 2)
        var c = [Float](repeating: .nan, count: m * (n + 1))
        var scratch = [Float](repeating: 0, count: Kernels.matmulScratchFloats(rows: m, inner: k, threads: run.threads))
        a.withUnsafeMutableBufferPointer { ap in
            b.withUnsafeMutableBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    scratch.withUnsafeMutableBufferPointer { sp in
                        Kernels.matmul(MatrixView(base: ap.baseAddress!, rows: m, cols: k, rowStride: k + 2),
                                       MatrixView(base: bp.baseAddress!, rows: br, cols: bc, rowStride: bc + 5),
                                       transposedB: transposedB,
                                       into: MatrixView(base: cp.baseAddress!, rows: m, cols: n, rowStride: n + 1),
                                       scratch: sp.baseAddress!, threads: run.threads)
                    }
                }
            }
        }
        return (0..<m).flatMap { r in c[(r * (n + 1))..<(r * (n + 1) + n)] }
    }

    func rowKernel(n: Int, scale: Float = 2, run: Run,
                   _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)
        -> [Float] {
        KernelPath.setActive(run.path)
        // Enough rows for the pool to split them (16384 elements).
        let rows = max(3, 20000 / n)
        let x = randoms(rows * n, seed: UInt64(n), scale: scale)
        let w = randoms(n, seed: UInt64(n + 1)), b = randoms(n, seed: UInt64(n + 2))
        var y = [Float](repeating: .nan, count: rows * n)
        y.withUnsafeMutableBufferPointer { body(x, w, b, $0.baseAddress!, rows) }
        return y
    }

    func attentionOutput(hd: Int, rows: Int, pos0: Int, run: Run) -> [Float] {
        KernelPath.setActive(run.path)
        let total = pos0 + rows, kvs = hd * 2 + 3
        // Keys and values of positions 0..<total split into three segments of different lengths.
        let cuts = [0, total / 3, total / 3 + 1 + total / 5, total]
        let k = randoms(total * kvs, seed: UInt64(hd + 1), scale: 2), v = randoms(total * kvs, seed: UInt64(hd + 2), scale: 2)
        let qs = hd + 1
        let q = randoms(rows * qs, seed: UInt64(hd + 3), scale: 2)
        var out = [Float](repeating: .nan, count: rows * hd)
        var scratch = [Float](repeating: 0, count: ck_causal_attention_scratch(rows, pos0, hd))
        k.withUnsafeBufferPointer { kp in
            v.withUnsafeBufferPointer { vp in
                let segs = (0..<3).map { i in
                    ck_kv_segment(k: kp.baseAddress! + cuts[i] * kvs + 1, v: vp.baseAddress! + cuts[i] * kvs + 2,
                                  len: cuts[i + 1] - cuts[i])
                }
                segs.withUnsafeBufferPointer { sp in
                    ck_causal_attention(q, qs, rows, pos0, sp.baseAddress, 3, kvs, hd, 1 / Float(hd).squareRoot(),
                                        &scratch, &out, hd)
                }
            }
        }
        return out
    }

    // MARK: tests

    override func tearDown() {
        KernelPath.setActive(LinearConfig.default.path)
        super.tearDown()
    }

    func testEveryKernelIsBitIdenticalOnEveryPathAndThreadCountAndMatchesTheCommittedHashes() {
        let runs = KernelPath.supported.flatMap { p in [1, 2].map { Run(path: p, threads: $0) } }
        XCTAssertTrue(runs.contains { $0.path == .portable })
        let record = ProcessInfo.processInfo.environment["VISPRUNER_RECORD_NUMERICS"] == "1"
        var table: [String] = []
        for (name, compute) in cases() {
            let reference = compute(Run(path: .portable, threads: 1))
            for run in runs {
                let got = compute(run)
                let same = got.count == reference.count && zip(got, reference).allSatisfy { $0.bitPattern == $1.bitPattern }
                if !same {
                    let i = (0..<min(got.count, reference.count)).first { got[$0].bitPattern != reference[$0].bitPattern } ?? min(got.count, reference.count)
                    XCTFail("\(name): \(run.path) at \(run.threads) threads differs from portable at element \(i)"
                            + (i < min(got.count, reference.count) ? " (\(got[i]) vs \(reference[i]))" : " (length)"))
                }
            }
            let h = Self.hash(reference)
            table.append("        \"\(name)\": \"\(h)\",")
            if !record { XCTAssertEqual(Self.expected[name], h, "\(name): output hash differs from the committed table") }
        }
        if record { print("NUMERICS TABLE\n" + table.joined(separator: "\n")) }
    }

    /// Weights repacked into panels (`WeightPanels`, what the model's Linear layers use) give the same bits
    /// as the stored rows, on every path and thread count, for row counts on both sides of the direct-kernel
    /// limit (16) and column counts that end in a partial panel.
    func testPanelWeightsGiveTheSameBitsAsRows() {
        for dtype in [WeightDType.float32, .float16, .bfloat16] {
            for (m, out, inF) in [(1, 101, 333), (2, 70, 64), (3, 40, 17), (5, 213, 520), (6, 33, 300), (8, 97, 256),
                                  (13, 50, 96), (17, 37, 40), (37, 50, 96)] {
                for path in KernelPath.supported {
                    for threads in [1, 2] {
                        let run = Run(path: path, threads: threads)
                        let rows = linearOutput(dtype: dtype, m: m, out: out, inF: inF, kernel: .streaming, run: run)
                        let panels = linearOutput(dtype: dtype, m: m, out: out, inF: inF, kernel: .streaming, run: run, panels: true)
                        XCTAssertEqual(rows.map(\.bitPattern), panels.map(\.bitPattern),
                                       "\(dtype) m=\(m) out=\(out) in=\(inF) \(path) t=\(threads)")
                    }
                }
            }
        }
    }

    func testNumericsVersionIsTheKernelsOne() {
        XCTAssertEqual(Numerics.version, CK_NUMERICS_VERSION)
        XCTAssertEqual(Numerics.arithmetic(prefill: .packed, bfloat16: false, path: .portable), "n2")
        XCTAssertEqual(Numerics.arithmetic(prefill: .openblas, bfloat16: false, path: .portable), "n2+openblas")
    }
}
