/// The image placeholder in prompts and its token id, as in LLaVA (llava/constants.py, llava/mm_utils.py).
public enum ImageTokens {
    /// The id that marks where the visual tokens are spliced in (`IMAGE_TOKEN_INDEX`).
    public static let imageTokenID = -200
    /// The placeholder text in prompts (`DEFAULT_IMAGE_TOKEN`).
    public static let placeholder = "<image>"

    /// LLaVA's `tokenizer_image_token`: the prompt is split on "<image>", each part is tokenized on its own
    /// (each with its `<s>`), and the parts are joined with `imageTokenID`, keeping only the first part's `<s>`.
    public static func tokenize(prompt: String, with tok: SentencePieceTokenizer) -> [Int] {
        let chunks = splitOnPlaceholder(prompt).map { tok.encode($0, addBOS: true) }
        var ids: [Int] = []
        // Every chunk starts with <s>; the reference keeps the first and cuts the first id of every chunk.
        var offset = 0
        if let first = chunks.first?.first, first == tok.bosID {
            offset = 1
            ids.append(first)
        }
        for (index, chunk) in chunks.enumerated() {
            if index > 0 { ids.append(imageTokenID) }
            ids.append(contentsOf: chunk.dropFirst(offset))
        }
        return ids
    }

    /// Python's `prompt.split("<image>")`: always one more part than there are placeholders.
    static func splitOnPlaceholder(_ prompt: String) -> [String] {
        let text = Array(prompt.utf8)
        let marker = Array(placeholder.utf8)
        var parts: [String] = []
        var partStart = 0
        var i = 0
        while i + marker.count <= text.count {
            if text[i..<(i + marker.count)].elementsEqual(marker) {
                parts.append(String(decoding: text[partStart..<i], as: UTF8.self))
                i += marker.count
                partStart = i
            } else {
                i += 1
            }
        }
        parts.append(String(decoding: text[partStart...], as: UTF8.self))
        return parts
    }
}
