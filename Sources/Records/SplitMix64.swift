/// SplitMix64 (Steele, Lea, Flood 2014): a small generator whose every output is fixed by its seed on every
/// machine, unlike the standard library's. Used where a documented sequence matters (random selection, the
/// report's bootstrap, whose draws an independent implementation reproduces).
public struct SplitMix64: Sendable {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
