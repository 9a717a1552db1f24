/// One piece produced by SentencePiece encoding.
struct EncodedPiece: Sendable {
    /// The piece id (the unknown id for characters outside the vocabulary without byte fallback).
    var id: Int32
    /// For runs of unknown characters without byte fallback: their text, which SentencePiece reports as the
    /// piece. Nil for every vocabulary piece.
    var unknownSurface: [UInt8]?
}

/// SentencePiece's own encoder for BPE models: identity normalization, merges by piece score, and byte
/// fallback. It mirrors sentencepiece's `Normalizer::Normalize`, `bpe::Model::SampleEncode` (without dropout)
/// and `PopulateSentencePieceText`; HF's rules on top of it live in `SentencePieceTokenizer`.
struct BPEEncoder: Sendable {
    /// NORMAL, USER_DEFINED and UNUSED pieces: the ones merges may produce.
    let mergeable: PieceTable
    /// CONTROL, UNKNOWN and BYTE pieces, which win over mergeable ones in id look-ups.
    let reserved: PieceTable
    let scores: [Float]
    let types: [SentencePieceModel.PieceType]
    let unkID: Int32
    /// Id of `<0xXX>` for each byte, when byte fallback is on.
    let byteIDs: [Int32]
    let byteFallback: Bool
    /// USER_DEFINED pieces, which are matched whole and never merged.
    let userDefined: [[UInt8]]
    let escapeWhitespaces: Bool
    let removeExtraWhitespaces: Bool
    /// Whether words can be merged one at a time (see `encode`).
    let splitsBeforeSpaces: Bool

    /// The U+2581 "▁" that stands for a space inside pieces.
    static let spaceSymbol: [UInt8] = [0xE2, 0x96, 0x81]

    init(model: SentencePieceModel) throws {
        let types = model.types
        mergeable = PieceTable(pieces: model.pieces) { id in
            types[id] == .normal || types[id] == .userDefined || types[id] == .unused
        }
        reserved = PieceTable(pieces: model.pieces) { id in
            !(types[id] == .normal || types[id] == .userDefined || types[id] == .unused)
        }
        self.types = types
        scores = model.scores
        let unknowns = types.indices.filter { types[$0] == .unknown }
        guard unknowns.count == 1 else {
            throw TokenizerError("model must have exactly one UNKNOWN piece, found \(unknowns.count)")
        }
        unkID = Int32(unknowns[0])
        byteFallback = model.byteFallback
        var byteIDs = [Int32](repeating: -1, count: 256)
        for id in types.indices where types[id] == .byte {
            guard let byte = Self.byteValue(ofPiece: model.pieces[id]) else {
                throw TokenizerError("BYTE piece \(id) '\(String(decoding: model.pieces[id], as: UTF8.self))' "
                                     + "is not of the form <0xXX>")
            }
            guard model.byteFallback else {
                throw TokenizerError("BYTE piece \(id) present although trainer_spec.byte_fallback is false")
            }
            if byteIDs[byte] < 0 { byteIDs[byte] = Int32(id) }
        }
        if model.byteFallback, let missing = byteIDs.firstIndex(of: -1) {
            throw TokenizerError("byte_fallback is on but there is no piece <0x\(Self.hex(missing))>")
        }
        self.byteIDs = byteIDs
        userDefined = types.indices.filter { types[$0] == .userDefined }.map { model.pieces[$0] }
            .sorted { $0.count > $1.count }
        escapeWhitespaces = model.escapeWhitespaces
        removeExtraWhitespaces = model.removeExtraWhitespaces
        splitsBeforeSpaces = Self.mergesStopBeforeSpaces(pieces: model.pieces, types: types)
    }

    static func hex(_ byte: Int) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[(byte >> 4) & 15], digits[byte & 15]])
    }

    /// The byte a `<0xXX>` piece stands for.
    static func byteValue(ofPiece piece: [UInt8]) -> Int? {
        guard piece.count == 6, piece[0] == UInt8(ascii: "<"), piece[1] == UInt8(ascii: "0"),
              piece[2] == UInt8(ascii: "x"), piece[5] == UInt8(ascii: ">") else { return nil }
        func nibble(_ c: UInt8) -> Int? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(c - UInt8(ascii: "0"))
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(c - UInt8(ascii: "A")) + 10
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(c - UInt8(ascii: "a")) + 10
            default: return nil
            }
        }
        guard let hi = nibble(piece[3]), let lo = nibble(piece[4]) else { return nil }
        return hi * 16 + lo
    }

    /// Id of a piece text as SentencePiece's `PieceToId` gives it: reserved pieces first, then mergeable
    /// ones, else the unknown id.
    func pieceID(_ buffer: UnsafeBufferPointer<UInt8>, start: Int, count: Int) -> Int32 {
        let r = reserved.lookup(buffer, start: start, count: count)
        if r >= 0 { return r }
        let m = mergeable.lookup(buffer, start: start, count: count)
        return m >= 0 ? m : unkID
    }

    /// SentencePiece's identity normalization: spaces become "▁" and, when the model asks for it, extra
    /// whitespace is removed. The input is valid UTF-8 (it comes from a Swift string), and no multi-byte
    /// character contains the byte 0x20, so working byte by byte is exact.
    func normalize(_ input: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 3)
        var i = 0
        if removeExtraWhitespaces {
            while i < input.count, input[i] == 0x20 { i += 1 }
        }
        var previousWasSpace = removeExtraWhitespaces
        while i < input.count {
            let b = input[i]
            i += 1
            if b == 0x20 {
                if previousWasSpace { continue }
                if escapeWhitespaces { out.append(contentsOf: Self.spaceSymbol) } else { out.append(0x20) }
                previousWasSpace = removeExtraWhitespaces
            } else {
                out.append(b)
                previousWasSpace = false
            }
        }
        if removeExtraWhitespaces {
            let space = escapeWhitespaces ? Self.spaceSymbol : [0x20]
            while out.count >= space.count, Array(out.suffix(space.count)) == space {
                out.removeLast(space.count)
            }
        }
        return out
    }

    /// Encodes normalized text, appending its pieces to `output`.
    ///
    /// When no merge can cross the start of a "▁" run (see `splitsBeforeSpaces`), each word is merged on its
    /// own: the result is identical, because merges in different words never interact and each word sees its
    /// merges in the same order, but the agenda stays small, so long texts encode in linear time.
    func encode(normalized: [UInt8], into output: inout [EncodedPiece]) {
        guard !normalized.isEmpty else { return }
        normalized.withUnsafeBufferPointer { text in
            var state = BPEMergeState(text: text, encoder: self)
            guard splitsBeforeSpaces else {
                state.encode(0..<text.count, into: &output)
                return
            }
            var wordStart = 0
            var i = 0
            var previousWasSpace = false
            while i < text.count {
                let isSpace = text[i] == 0xE2 && i + 2 < text.count && text[i + 1] == 0x96 && text[i + 2] == 0x81
                if isSpace && !previousWasSpace && i > wordStart {
                    state.encode(wordStart..<i, into: &output)
                    wordStart = i
                }
                previousWasSpace = isSpace
                i += isSpace ? 3 : 1
            }
            state.encode(wordStart..<text.count, into: &output)
        }
    }

    /// Whether no mergeable piece has a character other than "▁" directly before a "▁" (true for LLaMA, whose
    /// only pieces with an inner "▁" are runs of "▁"), and no piece is UNUSED (whose re-splitting depends on
    /// merges seen anywhere in the text).
    static func mergesStopBeforeSpaces(pieces: [[UInt8]], types: [SentencePieceModel.PieceType]) -> Bool {
        for (id, piece) in pieces.enumerated() {
            if types[id] == .unused { return false }
            guard types[id] == .normal || types[id] == .userDefined, piece.count > 3 else { continue }
            var i = 1
            while i + 2 < piece.count {
                if piece[i] == 0xE2, piece[i + 1] == 0x96, piece[i + 2] == 0x81 {
                    let precededBySpace = i >= 3 && piece[i - 3] == 0xE2 && piece[i - 2] == 0x96
                        && piece[i - 1] == 0x81
                    if !precededBySpace { return false }
                    i += 3
                } else {
                    i += 1
                }
            }
        }
        return true
    }

    /// Length of the UTF-8 sequence starting with `lead`, 1 for stray bytes (as sentencepiece does).
    @inline(__always)
    static func utf8Length(lead: UInt8) -> Int {
        if lead < 0xC0 { return 1 }
        if lead < 0xE0 { return 2 }
        if lead < 0xF0 { return 3 }
        if lead < 0xF8 { return 4 }
        return 1
    }
}

/// A candidate merge of two adjacent symbols.
private struct SymbolPair {
    var score: Float
    var left: Int32
    var right: Int32
    /// Byte length of the merged piece, to detect candidates made stale by other merges.
    var size: Int32

    /// Max-heap order: higher score first, then the leftmost pair (sentencepiece's tie rule).
    @inline(__always)
    func precedes(_ other: SymbolPair) -> Bool {
        score > other.score || (score == other.score && left < other.left)
    }
}

/// A binary max-heap of merge candidates.
private struct PairHeap {
    var items: [SymbolPair] = []

    mutating func push(_ pair: SymbolPair) {
        items.append(pair)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].precedes(items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> SymbolPair? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            let count = items.count
            while true {
                let l = 2 * parent + 1, r = l + 1
                var best = parent
                if l < count, items[l].precedes(items[best]) { best = l }
                if r < count, items[r].precedes(items[best]) { best = r }
                if best == parent { break }
                items.swapAt(parent, best)
                parent = best
            }
        }
        return top
    }
}

/// The symbol list and agenda of BPE runs over stretches of one normalized buffer; the storage is reused from
/// one stretch to the next.
private struct BPEMergeState {
    let text: UnsafeBufferPointer<UInt8>
    let encoder: BPEEncoder
    // Symbols as parallel arrays: byte range into `text`, linked-list neighbours, and whether the symbol is a
    // user-defined piece that must not merge.
    var start: [Int32] = []
    var length: [Int32] = []
    var prev: [Int32] = []
    var next: [Int32] = []
    var frozen: [Bool] = []
    var agenda = PairHeap()
    /// For UNUSED pieces produced by a merge: where the piece's left half starts, and both halves' lengths, so
    /// it can be split again.
    var reverseMerges: [Int32: (Int32, Int32, Int32)] = [:]
    var previousWasUnknown = false

    init(text: UnsafeBufferPointer<UInt8>, encoder: BPEEncoder) {
        self.text = text
        self.encoder = encoder
    }

    /// Merges `text[range]` and appends its pieces to `output`.
    mutating func encode(_ range: Range<Int>, into output: inout [EncodedPiece]) {
        split(range)
        run()
        emit(into: &output)
    }

    /// Splits into characters; user-defined pieces are matched whole (longest first) and frozen.
    private mutating func split(_ range: Range<Int>) {
        start.removeAll(keepingCapacity: true)
        length.removeAll(keepingCapacity: true)
        prev.removeAll(keepingCapacity: true)
        next.removeAll(keepingCapacity: true)
        frozen.removeAll(keepingCapacity: true)
        agenda.items.removeAll(keepingCapacity: true)
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            var symbolLength = 0
            var isUserDefined = false
            for piece in encoder.userDefined where piece.count <= end - i {
                var same = true
                for k in 0..<piece.count where text[i + k] != piece[k] { same = false; break }
                if same { symbolLength = piece.count; isUserDefined = true; break }
            }
            if symbolLength == 0 {
                symbolLength = min(BPEEncoder.utf8Length(lead: text[i]), end - i)
            }
            let index = Int32(start.count)
            start.append(Int32(i))
            length.append(Int32(symbolLength))
            prev.append(index - 1)
            i += symbolLength
            next.append(i < end ? index + 1 : -1)
            frozen.append(isUserDefined)
        }
    }

    private mutating func considerPair(_ left: Int32, _ right: Int32) {
        guard left >= 0, right >= 0, !frozen[Int(left)], !frozen[Int(right)] else { return }
        let s = Int(start[Int(left)])
        let size = Int(length[Int(left)] + length[Int(right)])
        let id = encoder.mergeable.lookup(text, start: s, count: size)
        guard id >= 0 else { return }
        agenda.push(SymbolPair(score: encoder.scores[Int(id)], left: left, right: right, size: Int32(size)))
        if encoder.types[Int(id)] == .unused {
            reverseMerges[id] = (start[Int(left)], length[Int(left)], length[Int(right)])
        }
    }

    private mutating func run() {
        for i in 1..<max(start.count, 1) { considerPair(Int32(i - 1), Int32(i)) }
        while let top = agenda.pop() {
            let l = Int(top.left), r = Int(top.right)
            // Skip candidates whose symbols were consumed or grew since they were queued.
            guard length[l] > 0, length[r] > 0, length[l] + length[r] == top.size else { continue }
            length[l] += length[r]
            next[l] = next[r]
            if next[r] >= 0 { prev[Int(next[r])] = top.left }
            length[r] = 0
            considerPair(prev[l], top.left)
            considerPair(top.left, next[l])
        }
    }

    /// Appends the final pieces, splitting UNUSED pieces back and expanding unknown ones into bytes.
    private mutating func emit(into output: inout [EncodedPiece]) {
        var index: Int32 = start.isEmpty ? -1 : 0
        while index >= 0 {
            append(Int(start[Int(index)]), Int(length[Int(index)]), &output)
            index = next[Int(index)]
        }
    }

    private mutating func append(_ s: Int, _ count: Int, _ output: inout [EncodedPiece]) {
        let id = encoder.pieceID(text, start: s, count: count)
        if encoder.types[Int(id)] == .unused, let halves = reverseMerges[id] {
            let leftLength = Int(halves.1)
            append(s, leftLength, &output)
            append(s + leftLength, Int(halves.2), &output)
            return
        }
        let isUnknown = id == encoder.unkID
        if isUnknown && encoder.byteFallback {
            for k in 0..<count { output.append(EncodedPiece(id: encoder.byteIDs[Int(text[s + k])])) }
        } else if isUnknown {
            // Without byte fallback, SentencePiece joins a run of unknown characters into one piece.
            let surface = Array(text[s..<(s + count)])
            if previousWasUnknown, var last = output.last {
                last.unknownSurface = (last.unknownSurface ?? []) + surface
                output[output.count - 1] = last
            } else {
                output.append(EncodedPiece(id: id, unknownSurface: surface))
            }
        } else {
            output.append(EncodedPiece(id: id))
        }
        previousWasUnknown = isUnknown
    }
}
