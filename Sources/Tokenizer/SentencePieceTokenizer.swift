import Foundation
import PythonText

/// The LLaMA tokenizer as LLaVA's evaluation uses it: HF transformers 4.37.2's slow `LlamaTokenizer` with
/// `legacy: false` over a SentencePiece BPE model with byte fallback.
///
/// On top of plain SentencePiece this reproduces HF's rules: the special tokens (`<unk>`, `<s>`, `</s>`) are
/// recognised in the input text as single tokens; the text gets a "▁" prefix in place of SentencePiece's dummy
/// prefix (which HF switches off), dropped again when the text starts with a special token; and text that
/// follows a special token gets no "▁" of its own. Encoding and decoding never fail: text outside the
/// vocabulary falls back to byte pieces, and unknown ids are skipped when decoding.
public final class SentencePieceTokenizer: Sendable {
    private let encoder: BPEEncoder
    /// Each piece's text as a Swift string, indexed by id.
    private let pieceStrings: [String]
    /// Each piece's text as bytes, indexed by id.
    private let pieceBytes: [[UInt8]]
    private let types: [SentencePieceModel.PieceType]
    /// The special tokens HF matches in input text and skips when decoding: (text, id).
    private let specialTokens: [(bytes: [UInt8], id: Int32)]
    /// Whether a byte can start a special token, to skip most positions quickly.
    private let startsSpecialToken: [Bool]
    /// Id of the "▁" piece, which HF drops before a leading special token (-1 if the model lacks it).
    private let spacePieceID: Int32
    /// How many pieces SentencePiece makes of the `<unk>` text; HF strips that many after its prefix trick.
    private let unknownTextPieceCount: Int
    private let unkSurface: String

    /// Number of pieces in the vocabulary.
    public let vocabularySize: Int
    /// Id of the beginning-of-sequence token `<s>`.
    public let bosID: Int
    /// Id of the end-of-sequence token `</s>`.
    public let eosID: Int
    /// Id of the unknown token `<unk>`.
    public let unkID: Int

    /// Loads a `tokenizer.model` file.
    public convenience init(modelURL: URL) throws {
        let size: Int
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: modelURL.path)
            size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        } catch {
            throw TokenizerError("\(modelURL.path): cannot read tokenizer model (\(error.localizedDescription))")
        }
        guard size <= SentencePieceModel.maximumFileSize else {
            throw TokenizerError("\(modelURL.path): \(size) bytes is more than the "
                                 + "\(SentencePieceModel.maximumFileSize)-byte limit for a tokenizer model")
        }
        let data: Data
        do {
            data = try Data(contentsOf: modelURL)
        } catch {
            throw TokenizerError("\(modelURL.path): cannot read tokenizer model (\(error.localizedDescription))")
        }
        do {
            try self.init(modelData: data)
        } catch let error as TokenizerError {
            throw error.located(at: modelURL)
        }
    }

    /// Loads a serialized SentencePiece `ModelProto`.
    public init(modelData: Data) throws {
        let model = try SentencePieceModel(data: modelData)
        let encoder = try BPEEncoder(model: model)
        self.encoder = encoder
        pieceBytes = model.pieces
        pieceStrings = model.pieces.map { String(decoding: $0, as: UTF8.self) }
        types = model.types
        vocabularySize = model.pieces.count
        unkSurface = model.unkSurface

        func controlID(_ text: String, role: String) throws -> Int {
            let id = Int(encoder.reserved.lookup(Array(text.utf8)))
            guard id >= 0, model.types[id] == .control else {
                throw TokenizerError("model has no CONTROL piece '\(text)' for the \(role) token")
            }
            return id
        }
        unkID = Int(encoder.unkID)
        guard pieceStrings[unkID] == model.unkPiece else {
            throw TokenizerError("UNKNOWN piece is '\(pieceStrings[unkID])' but trainer_spec.unk_piece is "
                                 + "'\(model.unkPiece)'")
        }
        bosID = try controlID(model.bosPiece, role: "beginning-of-sequence")
        eosID = try controlID(model.eosPiece, role: "end-of-sequence")
        specialTokens = [unkID, bosID, eosID].map { (bytes: model.pieces[$0], id: Int32($0)) }
        var starts = [Bool](repeating: false, count: 256)
        for token in specialTokens { starts[Int(token.bytes[0])] = true }
        startsSpecialToken = starts
        spacePieceID = encoder.mergeable.lookup(BPEEncoder.spaceSymbol)

        var unknownText: [EncodedPiece] = []
        encoder.encode(normalized: encoder.normalize(model.pieces[unkID]), into: &unknownText)
        unknownTextPieceCount = unknownText.count
    }

    // MARK: Encoding

    /// Token ids of `text`, as `tokenizer(text).input_ids` gives them (with `<s>` first when `addBOS`).
    public func encode(_ text: String, addBOS: Bool = true) -> [Int] {
        var ids: [Int] = []
        let pieces = tokenize(text)
        ids.reserveCapacity(pieces.count + 1)
        if addBOS { ids.append(bosID) }
        for p in pieces { ids.append(Int(p.id)) }
        return ids
    }

    /// The pieces of `text`, as `tokenizer.tokenize(text)` gives them (no `<s>` added).
    public func pieces(_ text: String) -> [String] {
        tokenize(text).map { p in
            if let surface = p.unknownSurface { return String(decoding: surface, as: UTF8.self) }
            return pieceStrings[Int(p.id)]
        }
    }

    /// The text of piece `id`, or nil when `id` is outside the vocabulary.
    public func piece(for id: Int) -> String? {
        pieceStrings.indices.contains(id) ? pieceStrings[id] : nil
    }

    /// HF `LlamaTokenizer.tokenize` with `legacy=False`.
    private func tokenize(_ text: String) -> [EncodedPiece] {
        guard !text.isEmpty else { return [] }
        // HF prefixes "▁" itself and turns any "▁" already in the text into a plain space.
        var input: [UInt8] = BPEEncoder.spaceSymbol
        input.reserveCapacity(text.utf8.count + 3)
        let utf8 = Array(text.utf8)
        var i = 0
        while i < utf8.count {
            if utf8[i] == 0xE2, i + 2 < utf8.count, utf8[i + 1] == 0x96, utf8[i + 2] == 0x81 {
                input.append(0x20)
                i += 3
            } else {
                input.append(utf8[i])
                i += 1
            }
        }

        var result: [EncodedPiece] = []
        var chunkStart = 0
        var position = 0
        var firstTwo: [(isSpecial: Bool, piece: EncodedPiece)] = []
        func flushText(upTo end: Int) {
            guard end > chunkStart else { return }
            let before = result.count
            encodeChunk(input[chunkStart..<end], into: &result)
            for p in result[before...] where firstTwo.count < 2 { firstTwo.append((false, p)) }
        }
        while position < input.count {
            if let special = matchSpecial(input, at: position) {
                flushText(upTo: position)
                result.append(EncodedPiece(id: special.id))
                if firstTwo.count < 2 { firstTwo.append((true, EncodedPiece(id: special.id))) }
                position += special.length
                chunkStart = position
            } else {
                position += 1
            }
        }
        flushText(upTo: input.count)
        // HF drops the prefix "▁" when the text itself begins with a special token.
        if firstTwo.count == 2, !firstTwo[0].isSpecial, firstTwo[1].isSpecial,
           isSpacePiece(firstTwo[0].piece) {
            result.removeFirst()
        }
        return result
    }

    /// Whether a piece's text is exactly "▁" (HF compares piece strings).
    private func isSpacePiece(_ piece: EncodedPiece) -> Bool {
        if let surface = piece.unknownSurface { return surface == BPEEncoder.spaceSymbol }
        return piece.id == spacePieceID
    }

    /// The special token starting at `position`, longest first (HF's trie split).
    private func matchSpecial(_ input: [UInt8], at position: Int) -> (id: Int32, length: Int)? {
        guard startsSpecialToken[Int(input[position])] else { return nil }
        var best: (id: Int32, length: Int)?
        for token in specialTokens where token.bytes.count <= input.count - position {
            if let b = best, b.length >= token.bytes.count { continue }
            var same = true
            for k in 0..<token.bytes.count where input[position + k] != token.bytes[k] {
                same = false
                break
            }
            if same { best = (token.id, token.bytes.count) }
        }
        return best
    }

    /// HF `LlamaTokenizer._tokenize` for one stretch of text between special tokens.
    private func encodeChunk(_ chunk: ArraySlice<UInt8>, into result: inout [EncodedPiece]) {
        let startsWithSpace = chunk.first == 0x20
            || (chunk.count >= 3 && Array(chunk.prefix(3)) == BPEEncoder.spaceSymbol)
        guard startsWithSpace else {
            encoder.encode(normalized: encoder.normalize(Array(chunk)), into: &result)
            return
        }
        // SentencePiece without its dummy prefix would treat a leading "▁" differently, so HF encodes
        // "<unk>" + text and strips the pieces of "<unk>" again.
        var prefixed = pieceBytes[unkID]
        prefixed.append(contentsOf: chunk)
        var pieces: [EncodedPiece] = []
        encoder.encode(normalized: encoder.normalize(prefixed), into: &pieces)
        if pieces.count >= unknownTextPieceCount {
            result.append(contentsOf: pieces[unknownTextPieceCount...])
        } else {
            result.append(contentsOf: pieces)
        }
    }

    // MARK: Decoding

    /// Text of `ids` as HF `decode`/`batch_decode` gives it for this tokenizer (no clean-up of spaces).
    ///
    /// With `skipSpecialTokens`, `<unk>`, `<s>` and `</s>` are dropped. Ids outside the vocabulary (such as
    /// the image placeholder -200) are always dropped. Byte pieces are reassembled into UTF-8; invalid byte
    /// sequences become U+FFFD, one per byte, as SentencePiece does.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = true) -> String {
        var tokens: [[UInt8]] = []
        tokens.reserveCapacity(ids.count)
        for id in ids where pieceBytes.indices.contains(id) {
            if skipSpecialTokens, isSpecial(id) { continue }
            tokens.append(pieceBytes[id])
        }
        guard !tokens.isEmpty else { return "" }
        // HF added the prefix "▁" itself when encoding, so it removes one from the first token.
        if tokens[0].starts(with: BPEEncoder.spaceSymbol) { tokens[0].removeFirst(3) }

        var out: [UInt8] = []
        var pending: [[UInt8]] = []
        for token in tokens {
            if specialTokens.contains(where: { $0.bytes == token }) {
                decodePieces(pending, into: &out)
                pending.removeAll(keepingCapacity: true)
                out.append(contentsOf: token)
            } else {
                pending.append(token)
            }
        }
        decodePieces(pending, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `decode(ids)` followed by Python's `str.strip()`, as LLaVA's evaluation post-processes answers.
    public func decodeAnswer(_ ids: [Int]) -> String {
        PythonText.strip(decode(ids, skipSpecialTokens: true))
    }

    private func isSpecial(_ id: Int) -> Bool { id == unkID || id == bosID || id == eosID }

    /// SentencePiece `DecodePieces` with the dummy prefix off: no leading space is removed here.
    private func decodePieces(_ pieces: [[UInt8]], into out: inout [UInt8]) {
        var bytes: [UInt8] = []
        func flushBytes() {
            guard !bytes.isEmpty else { return }
            appendBytesAsUTF8(bytes, into: &out)
            bytes.removeAll(keepingCapacity: true)
        }
        for piece in pieces {
            let id = piece.withUnsafeBufferPointer { encoder.pieceID($0, start: 0, count: $0.count) }
            let type = types[Int(id)]
            if type == .byte, let value = BPEEncoder.byteValue(ofPiece: pieceBytes[Int(id)]) {
                bytes.append(UInt8(value))
                continue
            }
            flushBytes()
            switch type {
            case .control:
                continue  // invisible
            case .unknown:
                // The unknown piece itself shows as its surface; other unknown texts are copied verbatim.
                if piece == pieceBytes[Int(id)] { out.append(contentsOf: unkSurface.utf8) } else { out.append(contentsOf: piece) }
            default:
                appendReplacingSpaceSymbol(piece, into: &out)
            }
        }
        flushBytes()
    }

    private func appendReplacingSpaceSymbol(_ piece: [UInt8], into out: inout [UInt8]) {
        var i = 0
        while i < piece.count {
            if piece[i] == 0xE2, i + 2 < piece.count, piece[i + 1] == 0x96, piece[i + 2] == 0x81 {
                out.append(0x20)
                i += 3
            } else {
                out.append(piece[i])
                i += 1
            }
        }
    }

    /// Appends a run of fallback bytes: each well-formed UTF-8 character as is, each other byte as U+FFFD.
    private func appendBytesAsUTF8(_ bytes: [UInt8], into out: inout [UInt8]) {
        var i = 0
        while i < bytes.count {
            let length = SentencePieceUTF8.validLength(bytes, at: i)
            if length == 0 {
                out.append(contentsOf: [0xEF, 0xBF, 0xBD])
                i += 1
            } else {
                out.append(contentsOf: bytes[i..<(i + length)])
                i += length
            }
        }
    }
}
