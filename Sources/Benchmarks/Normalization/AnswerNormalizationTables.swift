import PythonText

/// Word tables shared by the EvalAI (m4c) processor and the official VQA `vqaEval.py`.
/// Both scripts carry the same contraction map; keys with capitals ("Im", "Ive") can never match
/// because the text is lower-cased first, but they are kept so the table is the published one.
enum AnswerNormalizationTables {
    static let numberMap: [String: String] = [
        "none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4",
        "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10",
    ]

    static let articles: Set<String> = ["a", "an", "the"]

    /// Punctuation in the order the scripts process it (order matters: each step sees the
    /// result of the previous replacements).
    static let punctuation: [[Unicode.Scalar]] = [
        ";", "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!",
    ].map { (s: String) in Array(s.unicodeScalars) }

    static let contractions: [String: String] = [
        "aint": "ain't", "arent": "aren't", "cant": "can't", "couldve": "could've", "couldnt": "couldn't",
        "couldn'tve": "couldn't've", "couldnt've": "couldn't've", "didnt": "didn't", "doesnt": "doesn't",
        "dont": "don't", "hadnt": "hadn't", "hadnt've": "hadn't've", "hadn'tve": "hadn't've", "hasnt": "hasn't",
        "havent": "haven't", "hed": "he'd", "hed've": "he'd've", "he'dve": "he'd've", "hes": "he's",
        "howd": "how'd", "howll": "how'll", "hows": "how's", "Id've": "I'd've", "I'dve": "I'd've", "Im": "I'm",
        "Ive": "I've", "isnt": "isn't", "itd": "it'd", "itd've": "it'd've", "it'dve": "it'd've", "itll": "it'll",
        "let's": "let's", "maam": "ma'am", "mightnt": "mightn't", "mightnt've": "mightn't've",
        "mightn'tve": "mightn't've", "mightve": "might've", "mustnt": "mustn't", "mustve": "must've",
        "neednt": "needn't", "notve": "not've", "oclock": "o'clock", "oughtnt": "oughtn't",
        "ow's'at": "'ow's'at", "'ows'at": "'ow's'at", "'ow'sat": "'ow's'at", "shant": "shan't",
        "shed've": "she'd've", "she'dve": "she'd've", "she's": "she's", "shouldve": "should've",
        "shouldnt": "shouldn't", "shouldnt've": "shouldn't've", "shouldn'tve": "shouldn't've",
        "somebody'd": "somebodyd", "somebodyd've": "somebody'd've", "somebody'dve": "somebody'd've",
        "somebodyll": "somebody'll", "somebodys": "somebody's", "someoned": "someone'd",
        "someoned've": "someone'd've", "someone'dve": "someone'd've", "someonell": "someone'll",
        "someones": "someone's", "somethingd": "something'd", "somethingd've": "something'd've",
        "something'dve": "something'd've", "somethingll": "something'll", "thats": "that's",
        "thered": "there'd", "thered've": "there'd've", "there'dve": "there'd've", "therere": "there're",
        "theres": "there's", "theyd": "they'd", "theyd've": "they'd've", "they'dve": "they'd've",
        "theyll": "they'll", "theyre": "they're", "theyve": "they've", "twas": "'twas", "wasnt": "wasn't",
        "wed've": "we'd've", "we'dve": "we'd've", "weve": "we've", "werent": "weren't", "whatll": "what'll",
        "whatre": "what're", "whats": "what's", "whatve": "what've", "whens": "when's", "whered": "where'd",
        "wheres": "where's", "whereve": "where've", "whod": "who'd", "whod've": "who'd've",
        "who'dve": "who'd've", "wholl": "who'll", "whos": "who's", "whove": "who've", "whyll": "why'll",
        "whyre": "why're", "whys": "why's", "wont": "won't", "wouldve": "would've", "wouldnt": "wouldn't",
        "wouldnt've": "wouldn't've", "wouldn'tve": "wouldn't've", "yall": "y'all", "yall'll": "y'all'll",
        "y'allll": "y'all'll", "yall'd've": "y'all'd've", "y'alld've": "y'all'd've", "y'all'dve": "y'all'd've",
        "youd": "you'd", "youd've": "you'd've", "you'dve": "you'd've", "youll": "you'll", "youre": "you're",
        "youve": "you've",
    ]

    /// Python's `re.sub` with `count=re.UNICODE` (32): the scripts pass the flag in the count slot.
    static let periodStripLimit = 32

    /// `PERIOD_STRIP = (?!<=\d)(\.)(?!\d)`: the intended look-behind is malformed (it is a
    /// look-ahead for the literal "<="), so every "." not followed by a digit goes, at most 32 times.
    static func stripPeriods(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        var removed = 0
        for (i, c) in s.enumerated() {
            if c == ".", removed < periodStripLimit, !(i + 1 < s.count && PythonText.isDecimalDigit(s[i + 1])) {
                removed += 1
                continue
            }
            out.append(c)
        }
        return out
    }

    private static let punctuationScalars = Set(punctuation.map { $0[0].value })

    /// Shared punctuation pass; `commaBetweenDigits` is the script's COMMA_STRIP test on the input.
    /// The scripts replace each mark in turn (deleted when it touches a space in the ORIGINAL text or
    /// when COMMA_STRIP matches, else turned into a space); every mark is one scalar and a replacement
    /// never creates another mark, so one pass over the text gives the same result.
    static func processPunctuation(_ input: [Unicode.Scalar], commaBetweenDigits: Bool) -> [Unicode.Scalar] {
        let space: Unicode.Scalar = " "
        var besideSpace = Set<UInt32>()
        for (i, c) in input.enumerated() where c == space {
            if i > 0 { besideSpace.insert(input[i - 1].value) }
            if i + 1 < input.count { besideSpace.insert(input[i + 1].value) }
        }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(input.count)
        for c in input {
            if punctuationScalars.contains(c.value) {
                if !(commaBetweenDigits || besideSpace.contains(c.value)) { out.append(space) }
            } else {
                out.append(c)
            }
        }
        return stripPeriods(out)
    }

    /// `process_digit_article` / `processDigitArticle`: lower, split, numbers, articles, contractions.
    /// Lookups are by UTF-8 bytes: a Swift `String` key would also match canonically-equivalent words.
    static func processDigitArticle(_ input: [Unicode.Scalar]) -> String {
        var words: [String] = []
        for w in PythonText.split(PythonText.lower(input)) {
            var word = PythonText.string(w)
            if let mapped = numberMapBytes[PythonText.key(word)] { word = mapped }
            if !articleBytes.contains(PythonText.key(word)) { words.append(word) }
        }
        return words.map { contractionBytes[PythonText.key($0)] ?? $0 }.joined(separator: " ")
    }

    private static func byBytes(_ d: [String: String]) -> [[UInt8]: String] {
        var out: [[UInt8]: String] = [:]
        for (k, v) in d { out[PythonText.key(k)] = v }
        return out
    }

    private static let numberMapBytes = byBytes(numberMap)
    private static let contractionBytes = byBytes(contractions)
    private static let articleBytes = Set(articles.map(PythonText.key))
}
