// `smallString` builds Swift's small-string form by hand (StrMethods+Unicode.swift). These
// cases pin that layout: for every length 0...15, ASCII and not, the hand-built String must
// be the very String `String(decoding:)` makes — the same two words, and equal, hashing,
// counting and appending the same.
import Testing
@testable import ConcInterpreter

@Suite struct SmallStringTests {
    /// Texts of every byte length up to 15: ASCII, two-byte, three-byte and four-byte
    /// scalars, mixed.
    static let texts: [String] = {
        var out: [String] = []
        for n in 0...15 { out.append(String(repeating: "a", count: n)) }
        for n in 0...7 { out.append(String(repeating: "é", count: n)) }        // 2 bytes each
        for n in 0...5 { out.append(String(repeating: "€", count: n)) }        // 3 bytes each
        for n in 0...3 { out.append(String(repeating: "😀", count: n)) }       // 4 bytes each
        out += ["x€y", "abc\u{0}", "tab\there", "e\u{301}", "1234567890abcd\u{7f}", "ünïcødé!"]
        return out.filter { $0.utf8.count <= 15 }
    }()

    @Test(arguments: texts) func sameWordsAsTheStandardLibrary(_ text: String) {
        let bytes = Array(text.utf8)
        let built = bytes.withUnsafeBufferPointer { smallString($0) }
        let decoded = bytes.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
        let a = unsafeBitCast(built, to: (UInt64, UInt64).self)
        let b = unsafeBitCast(decoded, to: (UInt64, UInt64).self)
        #expect(a == b)
        #expect(built == text)
        #expect(built.hashValue == text.hashValue)
        #expect(built.count == text.count)
        #expect(built.unicodeScalars.count == text.unicodeScalars.count)
        #expect(built + "!" == text + "!")
    }

    @Test func slicesOfALongerTextAreSmallStrings() {
        let text = "zero one two three four five six seven"
        text.utf8.withContiguousStorageIfAvailable { buf in
            #expect(utf8String(buf, 5, 8) == "one")
            #expect(utf8String(buf, 0, 0) == "")
            #expect(utf8String(buf, 0, buf.count) == text)   // over 15 bytes: the stdlib's path
        }
    }
}
