/// An open-addressing hash map from piece bytes to piece ids.
///
/// Keys are compared as raw UTF-8 bytes: Swift `String` equality is canonical-equivalence based and would
/// conflate, e.g., a precomposed "é" with "e" + U+0301, which SentencePiece treats as different pieces.
/// Lookups take a byte range of the caller's buffer, so the BPE loop never allocates.
struct PieceTable: Sendable {
    /// All piece bytes, concatenated in id order.
    private let arena: [UInt8]
    /// `arena[offsets[id]..<offsets[id + 1]]` is piece `id`.
    private let offsets: [Int32]
    /// Slot → id, or -1 when empty. The count is a power of two.
    private let slots: [Int32]
    private let mask: Int

    /// A table holding the pieces whose ids satisfy `include`; earlier ids win when texts repeat.
    init(pieces: [[UInt8]], include: (Int) -> Bool) {
        var arena: [UInt8] = []
        arena.reserveCapacity(pieces.reduce(0) { $0 + $1.count })
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(pieces.count + 1)
        for p in pieces {
            arena.append(contentsOf: p)
            offsets.append(Int32(arena.count))
        }
        var capacity = 16
        while capacity < pieces.count * 2 { capacity <<= 1 }
        var slots = [Int32](repeating: -1, count: capacity)
        let mask = capacity - 1
        arena.withUnsafeBufferPointer { arenaBuffer in
            for id in pieces.indices where include(id) {
                let start = Int(offsets[id]), count = Int(offsets[id + 1]) - start
                var slot = Self.hash(arenaBuffer, start, count) & mask
                var duplicate = false
                while slots[slot] >= 0 {
                    let other = Int(slots[slot])
                    let otherStart = Int(offsets[other])
                    if Int(offsets[other + 1]) - otherStart == count,
                       memcmpEqual(arenaBuffer, start, arenaBuffer, otherStart, count) {
                        duplicate = true
                        break
                    }
                    slot = (slot + 1) & mask
                }
                if !duplicate { slots[slot] = Int32(id) }
            }
        }
        self.arena = arena
        self.offsets = offsets
        self.slots = slots
        self.mask = mask
    }

    /// FNV-1a over the bytes; good enough spread for ~32k short keys.
    @inline(__always)
    private static func hash(_ buffer: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var i = start
        let end = start + count
        while i < end {
            h = (h ^ UInt64(buffer[i])) &* 0x0000_0100_0000_01b3
            i += 1
        }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    /// The id of the piece equal to `buffer[start..<start+count]`, or -1.
    func lookup(_ buffer: UnsafeBufferPointer<UInt8>, start: Int, count: Int) -> Int32 {
        arena.withUnsafeBufferPointer { arenaBuffer in
            var slot = Self.hash(buffer, start, count) & mask
            while true {
                let id = slots[slot]
                if id < 0 { return -1 }
                let pieceStart = Int(offsets[Int(id)])
                if Int(offsets[Int(id) + 1]) - pieceStart == count,
                   memcmpEqual(buffer, start, arenaBuffer, pieceStart, count) {
                    return id
                }
                slot = (slot + 1) & mask
            }
        }
    }

    /// The id of the piece equal to `bytes`, or -1.
    func lookup(_ bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBufferPointer { lookup($0, start: 0, count: $0.count) }
    }
}

@inline(__always)
private func memcmpEqual(_ a: UnsafeBufferPointer<UInt8>, _ aStart: Int,
                         _ b: UnsafeBufferPointer<UInt8>, _ bStart: Int, _ count: Int) -> Bool {
    var k = 0
    while k < count {
        if a[aStart + k] != b[bStart + k] { return false }
        k += 1
    }
    return true
}
