/// A fixed guess of how common each byte is in the files people search (English prose, source
/// code, logs, JSON), in occurrences per 100,000 bytes: used to pick the needle byte a prefilter
/// looks for. The figures are ours: English letter frequencies scaled to the share of letters in
/// mixed text, capitals at about a tenth of their lower case, then digits, punctuation and the
/// bytes code and logs add; UTF-8 bytes, NUL and control bytes are taken as rare.
enum ByteFrequency {
    static let perHundredThousand: [UInt16] = {
        var table = [UInt16](repeating: 1, count: 256)
        for byte in 0..<32 { table[byte] = 2 }
        let common: [(String, UInt16)] = [
            (" ", 15000), ("\n", 2500), ("e", 8000), ("t", 6000), ("a", 5200), ("o", 5000), ("i", 4800),
            ("n", 4700), ("s", 4300), ("r", 4200), ("h", 2800), ("l", 2800), ("d", 2500), ("c", 2400),
            ("u", 1800), ("m", 1600), ("p", 1500), ("f", 1400), ("g", 1200), ("y", 1000), ("w", 900),
            ("b", 900), ("v", 650), ("k", 400), ("x", 250), ("j", 100), ("q", 80), ("z", 60),
            ("T", 600), ("S", 500), ("A", 450), ("E", 400), ("I", 400), ("C", 350), ("R", 300), ("N", 300),
            ("O", 300), ("D", 250), ("L", 250), ("P", 250), ("M", 250), ("F", 200), ("B", 200), ("H", 150),
            ("G", 150), ("U", 150), ("W", 120), ("V", 80), ("K", 60), ("Y", 50), ("J", 40), ("X", 40),
            ("Q", 20), ("Z", 15),
            ("0", 900), ("1", 900), ("2", 700), ("3", 500), ("4", 400), ("5", 400), ("6", 350), ("7", 300),
            ("8", 350), ("9", 350),
            (".", 1500), (",", 1000), ("_", 700), ("-", 700), ("=", 600), ("\"", 600), (":", 500), ("/", 500),
            ("(", 600), (")", 600), ("\t", 300), ("'", 400), (";", 300), ("*", 250), ("[", 200), ("]", 200),
            ("{", 150), ("}", 150), ("<", 120), (">", 150), ("#", 150), ("+", 100), ("$", 60), ("&", 60),
            ("%", 60), ("!", 60), ("?", 60), ("@", 40), ("\\", 60), ("|", 40), ("^", 10), ("~", 10),
            ("`", 20), ("\r", 100)
        ]
        for (character, frequency) in common { table[Int(character.utf8.first!)] = frequency }
        table[0x00] = 50
        table[0xFF] = 20
        for byte in 0x80...0xBF { table[byte] = 15 }  // UTF-8 continuation bytes
        for byte in 0xC2...0xF4 { table[byte] = 8 }  // UTF-8 lead bytes
        table[0xC3] = 30
        table[0xE2] = 30
        return table
    }()

    /// Expected frequency of `byte`; a letter matched in both cases counts as both.
    static func frequency(of byte: UInt8, caseInsensitive: Bool) -> Int {
        guard caseInsensitive, ASCII.isLetter(byte) else { return Int(perHundredThousand[Int(byte)]) }
        return Int(perHundredThousand[Int(ASCII.lower(byte))]) + Int(perHundredThousand[Int(ASCII.upper(byte))])
    }

    /// The offsets in `needle` of its rarest byte and of a second rare byte (a different byte, or
    /// failing that a different offset); both equal 0 for a one-byte needle.
    static func rareOffsets(in needle: [UInt8], caseInsensitive: Bool) -> (first: Int, second: Int) {
        precondition(!needle.isEmpty)
        func key(_ i: Int) -> UInt8 { caseInsensitive ? ASCII.lower(needle[i]) : needle[i] }
        func frequency(_ i: Int) -> Int { self.frequency(of: needle[i], caseInsensitive: caseInsensitive) }
        var first = 0
        for i in needle.indices where frequency(i) < frequency(first) { first = i }
        var second = -1
        var secondDiffers = false
        for i in needle.indices where i != first {
            let differs = key(i) != key(first)
            let better =
                second < 0 || (differs != secondDiffers ? differs : frequency(i) < frequency(second))
            if better {
                second = i
                secondDiffers = differs
            }
        }
        return (first, second < 0 ? first : second)
    }
}

/// ASCII case helpers (bytes outside A–Z/a–z have no case).
enum ASCII {
    @inline(__always) static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) &- 0x61 < 26 }
    @inline(__always) static func lower(_ byte: UInt8) -> UInt8 { isLetter(byte) ? byte | 0x20 : byte }
    @inline(__always) static func upper(_ byte: UInt8) -> UInt8 { isLetter(byte) ? byte & ~0x20 : byte }

    /// `lowerTable[b] == lower(b)`, for table-driven folding in hot loops.
    static let lowerTable: [UInt8] = (0...255).map { lower(UInt8($0)) }
}
