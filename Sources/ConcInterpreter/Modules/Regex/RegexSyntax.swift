// The parser of `re` patterns: pattern text → ``RegexNode`` tree, with CPython's syntax
// (sre_parse) and its error messages and positions. Flags are resolved here: each node
// carries what IGNORECASE, DOTALL, MULTILINE and ASCII mean for it, so the compiler and the
// matcher never look at flags again.
import ConcSyntax

/// The `re` flag bits, as CPython numbers them.
enum RegexFlag {
    static let ignoreCase = 2, locale = 4, multiline = 8, dotAll = 16, unicode = 32, verbose = 64, debug = 128, ascii = 256
}

/// A character category of `\d`, `\w`, `\s` (or their negations); `ascii` limits it to ASCII.
struct RegexCategory: Equatable {
    enum Kind { case digit, word, space }
    let kind: Kind
    let negated: Bool
    let ascii: Bool
}

/// A `[...]` class: its ranges and categories, whether it is negated, whether case is ignored.
struct RegexCharSet {
    var ranges: [ClosedRange<UInt32>] = []
    var categories: [RegexCategory] = []
    var negated = false
    var ignoreCase = false
    /// Case folding is ASCII-only (bytes, or the ASCII flag).
    var asciiFold = false
    /// Under IGNORECASE: the folds of the ranges' characters (when the ranges are small
    /// enough to list), so that 'K' is in [\u212a] as its fold 'k' is. Made by the compiler.
    var folded: Set<UInt32> = []
}

/// Zero-width assertions.
enum RegexAssertion {
    case lineStart, lineEnd            // ^ and $ under MULTILINE
    case textStart, textEnd            // ^ (\A) and \Z
    case textEndOrFinalNewline         // $ without MULTILINE
    case wordBoundary(ascii: Bool), notWordBoundary(ascii: Bool)
}

/// The parsed pattern.
indirect enum RegexNode {
    case empty
    case literal(UInt32, ignoreCase: Bool, ascii: Bool)  // ascii: case folding is ASCII-only
    case any(dotAll: Bool)
    case set(RegexCharSet)
    case concat([RegexNode])
    case alternate([RegexNode])
    case group(Int, RegexNode)           // a capturing group and its number
    case repetition(RegexNode, min: Int, max: Int, greedy: Bool, possessive: Bool)  // max == Int.max: no bound
    case assertion(RegexAssertion)
    case backreference(Int, ignoreCase: Bool, ascii: Bool)
    case lookaround(RegexNode, ahead: Bool, negated: Bool, width: Int)  // width: a lookbehind's
    case atomic(RegexNode)
    case conditional(Int, yes: RegexNode, no: RegexNode)
}

/// A syntax error: CPython's message and the position (in characters) it points at (-1
/// when CPython gives none). `kind` says which exception CPython raises for it.
struct RegexSyntaxError: Error {
    enum Kind { case reError, overflowError, valueError, recursionError }
    let message: String
    let position: Int
    var kind = Kind.reError
    init(message: String, position: Int, kind: Kind = .reError) {
        self.message = message
        self.position = position
        self.kind = kind
    }
}

/// The result of parsing: the tree, the number of groups, the names of named groups and
/// the flags in force (the given ones plus global inline flags such as `(?i)`).
struct ParsedRegex {
    let root: RegexNode
    let groupCount: Int
    let groupNames: [(String, Int)]
    let flags: Int
}

/// Parses `pattern` (scalars of a str, or bytes) with `flags`.
func parseRegex(_ pattern: [UInt32], flags: Int, isBytes: Bool) throws -> ParsedRegex {
    var parser = RegexParser(pattern, flags: flags, isBytes: isBytes)
    let first = try parser.parseAll()
    // Global flags found in the pattern (`(?x)` at the start) change how all of it is read:
    // parse again with them, as sre_parse does for VERBOSE.
    if parser.globalFlags != flags {
        var again = RegexParser(pattern, flags: parser.globalFlags, isBytes: isBytes)
        let second = try again.parseAll()
        return ParsedRegex(root: second, groupCount: again.groupCount, groupNames: again.groupNames,
                           flags: try finalFlags(again.globalFlags, isBytes: isBytes))
    }
    return ParsedRegex(root: first, groupCount: parser.groupCount, groupNames: parser.groupNames,
                       flags: try finalFlags(parser.globalFlags, isBytes: isBytes))
}

/// The flags a pattern ends up with (CPython's fix_flags): a str pattern is UNICODE unless ASCII.
private func finalFlags(_ flags: Int, isBytes: Bool) throws -> Int {
    func fail(_ m: String) -> RegexSyntaxError { RegexSyntaxError(message: m, position: -1, kind: .valueError) }
    if isBytes {
        if flags & RegexFlag.unicode != 0 { throw fail("cannot use UNICODE flag with a bytes pattern") }
        if flags & RegexFlag.locale != 0 && flags & RegexFlag.ascii != 0 { throw fail("ASCII and LOCALE flags are incompatible") }
        return flags
    }
    if flags & RegexFlag.locale != 0 { throw fail("cannot use LOCALE flag with a str pattern") }
    if flags & RegexFlag.ascii == 0 { return flags | RegexFlag.unicode }
    if flags & RegexFlag.unicode != 0 { throw fail("ASCII and UNICODE flags are incompatible") }
    return flags
}

private func ch(_ s: Unicode.Scalar) -> UInt32 { s.value }

/// A recursive-descent reader of one pattern. Private to this file but for `parseRegex`.
struct RegexParser {
    let text: [UInt32]
    let isBytes: Bool
    var pos = 0
    var globalFlags: Int
    var groupCount = 0
    var groupNames: [(String, Int)] = []
    /// Groups whose `)` has been read: a backreference to an open group is an error.
    var closedGroups: Set<Int> = []
    /// Nesting depth of groups, to tell `)` that closes from one that is unbalanced.
    var depth = 0
    /// Group numbers used by conditionals `(?(n)...)`, and where: they may name a later group.
    var groupReferences: [(Int, Int)] = []
    /// The fixed width of each closed group (nil: it varies), for backreferences in lookbehinds.
    var groupWidths: [Int: Int?] = [:]

    init(_ text: [UInt32], flags: Int, isBytes: Bool) {
        self.text = text
        self.isBytes = isBytes
        globalFlags = flags
    }

    mutating func parseAll() throws -> RegexNode {
        let node = try parseAlternation(flags: globalFlags)
        if pos < text.count {
            // Only a `)` stops the top level early.
            throw RegexSyntaxError(message: "unbalanced parenthesis", position: pos)
        }
        for (g, at) in groupReferences where g > groupCount {
            throw RegexSyntaxError(message: "invalid group reference \(g)", position: at)
        }
        return node
    }

    var atEnd: Bool { pos >= text.count }
    func peek(_ offset: Int = 0) -> UInt32? { pos + offset < text.count ? text[pos + offset] : nil }

    func verbose(_ flags: Int) -> Bool { flags & RegexFlag.verbose != 0 }

    /// Skips whitespace and `#` comments under VERBOSE.
    mutating func skipVerbose(_ flags: Int) {
        guard verbose(flags) else { return }
        while let c = peek() {
            if c == ch("#") {
                while let d = peek(), d != ch("\n") { pos += 1; _ = d }
            } else if c == 32 || (c >= 9 && c <= 13) {
                pos += 1
            } else {
                return
            }
        }
    }

    mutating func parseAlternation(flags: Int) throws -> RegexNode {
        var branches = [try parseSequence(flags: flags, first: depth == 0)]
        while peek() == ch("|") {
            pos += 1
            branches.append(try parseSequence(flags: flags))
        }
        return branches.count == 1 ? branches[0] : .alternate(branches)
    }

    /// One branch of an alternation. `first`: the pattern's first branch, where global
    /// flags such as `(?i)` may stand before any other item.
    mutating func parseSequence(flags: Int, first: Bool = false) throws -> RegexNode {
        var items: [RegexNode] = []
        var flags = flags
        while true {
            skipVerbose(flags)
            guard let c = peek(), c != ch("|"), c != ch(")") else { break }
            var atom: RegexNode?
            // A group may be repeated whatever it holds, `(?:\b)*`; a bare assertion may not.
            let isGroup = c == ch("(")
            if c == ch("("), peek(1) == ch("?"), let k = peek(2), k == ch("-") || flagBit(k) != nil {
                let start = pos
                pos += 2
                switch try parseFlags() {
                case .global(let add):
                    if !first || !items.isEmpty {
                        throw RegexSyntaxError(message: "global flags not at the start of the expression", position: start)
                    }
                    globalFlags |= add
                    flags |= add
                    continue
                case .scoped(let add, let remove):
                    var scoped = (flags | add) & ~remove
                    if add & RegexFlag.ascii != 0 { scoped &= ~RegexFlag.unicode }
                    if add & RegexFlag.unicode != 0 { scoped &= ~RegexFlag.ascii }
                    atom = try groupBody(flags: scoped, start: start)
                }
            } else {
                atom = try parseAtom(flags: flags)
            }
            // Quantifiers.
            while true {
                skipVerbose(flags)
                guard let q = peek() else { break }
                var minCount = 0, maxCount = Int.max
                let qStart = pos
                if q == ch("*") { pos += 1 }
                else if q == ch("+") { minCount = 1; pos += 1 }
                else if q == ch("?") { maxCount = 1; pos += 1 }
                else if q == ch("{"), let (lo, hi) = try parseBraces() { minCount = lo; maxCount = hi }
                else { break }
                guard let target = atom else {
                    throw RegexSyntaxError(message: "nothing to repeat", position: qStart)
                }
                if case .assertion = target, !isGroup { throw RegexSyntaxError(message: "nothing to repeat", position: qStart) }
                var greedy = true, possessive = false
                if peek() == ch("?") { greedy = false; pos += 1 }
                else if peek() == ch("+") { possessive = true; pos += 1 }
                atom = .repetition(target, min: minCount, max: maxCount, greedy: greedy, possessive: possessive)
                // A second quantifier straight after is "multiple repeat".
                skipVerbose(flags)
                if let n = peek(), n == ch("*") || n == ch("+") || n == ch("?") || (n == ch("{") && bracesFollow()) {
                    throw RegexSyntaxError(message: "multiple repeat", position: pos)
                }
                break
            }
            if let a = atom { items.append(a) }
        }
        if items.isEmpty { return .empty }
        return items.count == 1 ? items[0] : .concat(items)
    }

    /// Whether a valid `{m,n}` starts at `pos` (nothing consumed).
    func bracesFollow() -> Bool {
        var copy = self
        return ((try? copy.parseBraces()) ?? nil) != nil
    }

    /// `{m}`, `{m,}`, `{,n}`, `{m,n}` at `pos` (on `{`): the bounds, consuming them; nil (and
    /// nothing consumed) when the brace is a literal.
    mutating func parseBraces() throws -> (Int, Int)? {
        let start = pos
        var i = pos + 1
        func number() -> Int? {
            var v: Int? = nil
            while i < text.count, text[i] >= 48, text[i] <= 57 {
                let d = Int(text[i] - 48)
                let (m, o1) = (v ?? 0).multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(d)
                v = (o1 || o2) ? Int.max : s
                i += 1
            }
            return v
        }
        let lo = number()
        var hi = lo
        if i < text.count, text[i] == ch(",") {
            i += 1
            hi = number()
            if hi == nil { hi = Int.max }
        } else if lo == nil {
            return nil
        }
        guard i < text.count, text[i] == ch("}") else { return nil }
        let minV = lo ?? 0, maxV = hi ?? Int.max
        let limit = 4_294_967_295
        if minV != Int.max && minV >= limit || (maxV != Int.max && maxV >= limit) || lo == Int.max {
            throw RegexSyntaxError(message: "the repetition number is too large", position: -1, kind: .overflowError)
        }
        if maxV < minV { throw RegexSyntaxError(message: "min repeat greater than max repeat", position: start + 1) }
        pos = i + 1
        return (minV, maxV)
    }

    enum InlineFlags { case global(Int), scoped(add: Int, remove: Int) }

    /// The flags of `(?aiLmsux)` or `(?aiLmsux-imsx:`, `pos` after the `(?`; CPython's
    /// _parse_flags, with its messages and positions.
    mutating func parseFlags() throws -> InlineFlags {
        func error(_ m: String, at p: Int) -> RegexSyntaxError { RegexSyntaxError(message: m, position: p) }
        func isAlpha(_ c: UInt32) -> Bool { Unicode.Scalar(c).map { pyIsAlpha($0) } ?? false }
        var add = 0, remove = 0
        if peek() != ch("-") {
            while true {
                let c = text[pos]
                pos += 1
                let bit = flagBit(c)!
                if bit == RegexFlag.locale && !isBytes { throw error("bad inline flags: cannot use 'L' flag with a str pattern", at: pos) }
                if bit == RegexFlag.unicode && isBytes { throw error("bad inline flags: cannot use 'u' flag with a bytes pattern", at: pos) }
                add |= bit
                let typeBits = add & (RegexFlag.ascii | RegexFlag.locale | RegexFlag.unicode)
                if bit & (RegexFlag.ascii | RegexFlag.locale | RegexFlag.unicode) != 0 && typeBits != bit {
                    throw error("bad inline flags: flags 'a', 'u' and 'L' are incompatible", at: pos)
                }
                guard let n = peek() else { throw error("missing -, : or )", at: pos) }
                if n == ch(")") || n == ch("-") || n == ch(":") { break }
                if flagBit(n) == nil { throw error(isAlpha(n) ? "unknown flag" : "missing -, : or )", at: pos) }
            }
        }
        if peek() == ch(")") {
            pos += 1
            return .global(add)
        }
        if peek() == ch("-") {
            pos += 1
            guard let n = peek() else { throw error("missing flag", at: pos) }
            if flagBit(n) == nil { throw error(isAlpha(n) ? "unknown flag" : "missing flag", at: pos) }
            while true {
                let bit = flagBit(text[pos])!
                pos += 1
                if bit & (RegexFlag.ascii | RegexFlag.locale | RegexFlag.unicode) != 0 {
                    throw error("bad inline flags: cannot turn off flags 'a', 'u' and 'L'", at: pos)
                }
                remove |= bit
                guard let n = peek() else { throw error("missing :", at: pos) }
                if n == ch(":") { break }
                if flagBit(n) == nil { throw error(isAlpha(n) ? "unknown flag" : "missing :", at: pos) }
            }
        }
        // On ':'.
        if add & remove != 0 { throw error("bad inline flags: flag turned on and off", at: pos) }
        pos += 1
        return .scoped(add: add, remove: remove)
    }

    func flagBit(_ c: UInt32) -> Int? { Unicode.Scalar(c).flatMap(flagBit) }

    func flagBit(_ s: Unicode.Scalar) -> Int? {
        switch s {
        case "t": return 1
        case "a": return RegexFlag.ascii
        case "i": return RegexFlag.ignoreCase
        case "L": return RegexFlag.locale
        case "m": return RegexFlag.multiline
        case "s": return RegexFlag.dotAll
        case "u": return RegexFlag.unicode
        case "x": return RegexFlag.verbose
        default: return nil
        }
    }

    /// Whether \w, \d, \s, \b mean their ASCII versions: bytes, or ASCII without UNICODE.
    func ascii(_ flags: Int) -> Bool {
        isBytes || (flags & RegexFlag.ascii != 0 && flags & RegexFlag.unicode == 0)
    }

    /// One atom: nil when it matched nothing to keep (a comment group).
    mutating func parseAtom(flags: Int) throws -> RegexNode? {
        let c = text[pos]
        let start = pos
        pos += 1
        switch c {
        case ch("."): return .any(dotAll: flags & RegexFlag.dotAll != 0)
        case ch("^"): return .assertion(flags & RegexFlag.multiline != 0 ? .lineStart : .textStart)
        case ch("$"): return .assertion(flags & RegexFlag.multiline != 0 ? .lineEnd : .textEndOrFinalNewline)
        case ch("["): return try parseClass(flags: flags, start: start)
        case ch("("): return try parseGroup(flags: flags, start: start)
        case ch("\\"): return try parseEscape(flags: flags, start: start)
        case ch("*"), ch("+"), ch("?"):
            throw RegexSyntaxError(message: "nothing to repeat", position: start)
        case ch("{"):
            pos = start
            if bracesFollow() { throw RegexSyntaxError(message: "nothing to repeat", position: start) }
            pos = start + 1
            return .literal(c, ignoreCase: flags & RegexFlag.ignoreCase != 0, ascii: ascii(flags))
        default:
            return .literal(c, ignoreCase: flags & RegexFlag.ignoreCase != 0, ascii: ascii(flags))
        }
    }

    mutating func parseGroup(flags: Int, start: Int) throws -> RegexNode? {
        var capture = true
        var name: String? = nil
        if peek() == ch("?") {
            pos += 1
            guard let k = peek() else { throw RegexSyntaxError(message: "unexpected end of pattern", position: pos) }
            switch k {
            case ch(":"):
                pos += 1
                capture = false
            case ch("P"):
                pos += 1
                if peek() == ch("<") {
                    pos += 1
                    let nameStart = pos
                    let n = try readName(terminator: ch(">"), what: "group name")
                    guard pyIsIdentifier(n) else {
                        throw RegexSyntaxError(message: "bad character in group name '\(n)'", position: nameStart)
                    }
                    name = n
                } else if peek() == ch("=") {
                    pos += 1
                    let nameStart = pos
                    let n = try readName(terminator: ch(")"), what: "group name")
                    guard pyIsIdentifier(n) else {
                        throw RegexSyntaxError(message: "bad character in group name '\(n)'", position: nameStart)
                    }
                    guard let g = groupNames.first(where: { $0.0 == n })?.1 else {
                        throw RegexSyntaxError(message: "unknown group name '\(n)'", position: nameStart)
                    }
                    guard closedGroups.contains(g) else {
                        throw RegexSyntaxError(message: "cannot refer to an open group", position: nameStart)
                    }
                    return .backreference(g, ignoreCase: flags & RegexFlag.ignoreCase != 0, ascii: ascii(flags))
                } else {
                    let bad = peek().flatMap { Unicode.Scalar($0) }.map { String(Character($0)) } ?? ""
                    throw RegexSyntaxError(message: bad.isEmpty ? "unexpected end of pattern" : "unknown extension ?P\(bad)", position: bad.isEmpty ? pos : pos - 1)
                }
            case ch("#"):
                while let d = peek(), d != ch(")") { pos += 1 }
                if atEnd { throw RegexSyntaxError(message: "missing ), unterminated comment", position: start) }
                pos += 1
                return nil
            case ch("="), ch("!"):
                pos += 1
                let body = try groupBody(flags: flags, start: start)
                return .lookaround(body, ahead: true, negated: k == ch("!"), width: 0)
            case ch("<"):
                pos += 1
                guard let k2 = peek(), k2 == ch("=") || k2 == ch("!") else {
                    let bad = peek().flatMap { Unicode.Scalar($0) }.map { String(Character($0)) } ?? ""
                    throw RegexSyntaxError(message: bad.isEmpty ? "unexpected end of pattern" : "unknown extension ?<\(bad)", position: bad.isEmpty ? pos : start + 1)
                }
                pos += 1
                let body = try groupBody(flags: flags, start: start)
                guard let width = regexWidth(body, groupWidths) else {
                    throw RegexSyntaxError(message: "look-behind requires fixed-width pattern", position: -1)  // no position, as CPython's
                }
                if width > 0xFFFF_FFFF { throw RegexSyntaxError(message: "looks too much behind", position: -1) }
                return .lookaround(body, ahead: false, negated: k2 == ch("!"), width: width)
            case ch(">"):
                pos += 1
                return .atomic(try groupBody(flags: flags, start: start))
            case ch("("):
                pos += 1
                let refStart = pos
                let ref = try readName(terminator: ch(")"), what: "group name")
                let group: Int
                if pyIsIdentifier(ref) {
                    guard let g = groupNames.first(where: { $0.0 == ref })?.1 else {
                        throw RegexSyntaxError(message: "unknown group name '\(ref)'", position: refStart)
                    }
                    group = g
                } else {
                    // int()'s syntax, as sre_parse reads it (CPython warns about all but ASCII digits).
                    guard let g = regexGroupNumber(ref) else {
                        throw RegexSyntaxError(message: "bad character in group name '\(ref)'", position: refStart)
                    }
                    if g == 0 { throw RegexSyntaxError(message: "bad group number", position: refStart) }
                    if g >= 1_073_741_823 { throw RegexSyntaxError(message: "invalid group reference \(g)", position: refStart) }
                    group = g
                    // A group defined later is fine; one never defined is checked at the end.
                    if !groupReferences.contains(where: { $0.0 == g }) { groupReferences.append((g, refStart)) }
                }
                let yes = try parseSequence(flags: flags)
                var no = RegexNode.empty
                if peek() == ch("|") {
                    pos += 1
                    no = try parseSequence(flags: flags)
                    if peek() == ch("|") { throw RegexSyntaxError(message: "conditional backref with more than two branches", position: pos) }
                }
                guard peek() == ch(")") else { throw RegexSyntaxError(message: "missing ), unterminated subpattern", position: start) }
                pos += 1
                return .conditional(group, yes: yes, no: no)
            default:
                let bad = Unicode.Scalar(k).map { String(Character($0)) } ?? "?"
                throw RegexSyntaxError(message: "unknown extension ?\(bad)", position: start + 1)
            }
        }
        if !capture {
            return try groupBody(flags: flags, start: start)
        }
        groupCount += 1
        let index = groupCount
        if let n = name {
            if let old = groupNames.first(where: { $0.0 == n }) {
                throw RegexSyntaxError(message: "redefinition of group name '\(n)' as group \(index); was group \(old.1)", position: start + 4)
            }
            groupNames.append((n, index))
        }
        let body = try groupBody(flags: flags, start: start)
        closedGroups.insert(index)
        groupWidths[index] = regexWidth(body, groupWidths)
        return .group(index, body)
    }

    /// The body of a group up to its `)`.
    mutating func groupBody(flags: Int, start: Int) throws -> RegexNode {
        // The parser, compiler and width checks recurse once per nesting level: bound it
        // (CPython's parser runs out of recursion near the same depth).
        if depth >= 900 { throw RegexSyntaxError(message: "maximum recursion depth exceeded", position: -1, kind: .recursionError) }
        depth += 1
        let body = try parseAlternation(flags: flags)
        depth -= 1
        guard peek() == ch(")") else { throw RegexSyntaxError(message: "missing ), unterminated subpattern", position: start) }
        pos += 1
        return body
    }

    /// Reads up to `terminator` (consumed) as a name.
    mutating func readName(terminator: UInt32, what: String) throws -> String {
        let start = pos
        while let c = peek(), c != terminator { pos += 1 }
        if atEnd {
            if pos == start { throw RegexSyntaxError(message: "missing \(what)", position: pos) }
            throw RegexSyntaxError(message: "missing \(Character(Unicode.Scalar(terminator)!)), unterminated name", position: start)
        }
        let name = String(String.UnicodeScalarView(text[start..<pos].compactMap { Unicode.Scalar($0) }))
        pos += 1
        if name.isEmpty { throw RegexSyntaxError(message: "missing \(what)", position: start) }
        return name
    }

    mutating func parseEscape(flags: Int, start: Int) throws -> RegexNode {
        guard let c = peek() else { throw RegexSyntaxError(message: "bad escape (end of pattern)", position: start) }
        let ic = flags & RegexFlag.ignoreCase != 0
        let asc = ascii(flags)
        pos += 1
        switch c {
        case ch("A"): return .assertion(.textStart)
        case ch("Z"): return .assertion(.textEnd)
        case ch("b"): return .assertion(.wordBoundary(ascii: asc))
        case ch("B"): return .assertion(.notWordBoundary(ascii: asc))
        case ch("d"), ch("D"), ch("w"), ch("W"), ch("s"), ch("S"):
            var set = RegexCharSet()
            set.asciiFold = asc
            set.categories = [category(c, ascii: asc)]
            return .set(set)
        case ch("1")...ch("9"):
            // A backreference (up to two digits), or an octal escape of three octal digits.
            if c <= ch("7"), let d1 = peek(), isOctal(d1), let d2 = peek(1), isOctal(d2) {
                pos += 2
                let v = (c - 48) * 64 + (d1 - 48) * 8 + (d2 - 48)
                if v > 0o377 { throw RegexSyntaxError(message: "octal escape value \\\(source(pos - 3..<pos)) outside of range 0-0o377", position: start) }
                return .literal(v, ignoreCase: ic, ascii: ascii(flags))
            }
            var g = Int(c - 48)
            if let d = peek(), d >= 48, d <= 57 { g = g * 10 + Int(d - 48); pos += 1 }
            if g > groupCount || !closedGroups.contains(g) {
                if g <= groupCount { throw RegexSyntaxError(message: "cannot refer to an open group", position: start) }
                throw RegexSyntaxError(message: "invalid group reference \(g)", position: start + 1)
            }
            return .backreference(g, ignoreCase: ic, ascii: ascii(flags))
        default:
            pos -= 1
            let v = try parseCommonEscape(start: start, inClass: false)
            return .literal(v, ignoreCase: ic, ascii: ascii(flags))
        }
    }

    func isOctal(_ c: UInt32) -> Bool { c >= 48 && c <= 55 }

    /// d D w W s S: the letters of the class escapes.
    func isCategoryLetter(_ c: UInt32) -> Bool {
        guard let s = Unicode.Scalar(c) else { return false }
        return "dDwWsS".unicodeScalars.contains(s)
    }

    func category(_ c: UInt32, ascii: Bool) -> RegexCategory {
        switch c {
        case ch("d"): return RegexCategory(kind: .digit, negated: false, ascii: ascii)
        case ch("D"): return RegexCategory(kind: .digit, negated: true, ascii: ascii)
        case ch("w"): return RegexCategory(kind: .word, negated: false, ascii: ascii)
        case ch("W"): return RegexCategory(kind: .word, negated: true, ascii: ascii)
        case ch("s"): return RegexCategory(kind: .space, negated: false, ascii: ascii)
        default: return RegexCategory(kind: .space, negated: true, ascii: ascii)
        }
    }

    /// An escape standing for one character, `pos` on the character after the backslash:
    /// \n \t \x41 \u0041 \0 \012 \. and so on. Unknown ASCII letters are errors.
    mutating func parseCommonEscape(start: Int, inClass: Bool) throws -> UInt32 {
        let c = text[pos]
        pos += 1
        func hex(_ n: Int) throws -> UInt32 {
            var v: UInt32 = 0
            for _ in 0..<n {
                guard let d = peek(), let h = hexValue(d) else {
                    throw RegexSyntaxError(message: "incomplete escape \(source(start..<pos))", position: start)
                }
                v = v * 16 + h
                pos += 1
            }
            return v
        }
        switch c {
        case ch("a"): return 7
        case ch("f"): return 12
        case ch("n"): return 10
        case ch("r"): return 13
        case ch("t"): return 9
        case ch("v"): return 11
        case ch("b") where inClass: return 8
        case ch("x"): return try hex(2)
        case ch("u") where !isBytes:
            let v = try hex(4)
            return v
        case ch("U") where !isBytes:
            let v = try hex(8)
            if v > 0x10FFFF {
                throw RegexSyntaxError(message: "bad escape \(source(start..<pos))", position: start)
            }
            return v
        case ch("N") where !isBytes:
            // \N{EM DASH}: a character by its Unicode name.
            guard peek() == ch("{") else { throw RegexSyntaxError(message: "missing {", position: pos) }
            pos += 1
            let name = try readName(terminator: ch("}"), what: "character name")
            guard let scalar = UnicodeNames.scalar(named: name) else {
                throw RegexSyntaxError(message: "undefined character name '\(name)'", position: start)
            }
            return scalar.value
        case ch("0"):
            var v: UInt32 = 0
            var n = 0
            while n < 2, let d = peek(), isOctal(d) { v = v * 8 + (d - 48); pos += 1; n += 1 }
            return v
        case ch("1")...ch("7") where inClass:
            var v = c - 48
            var n = 0
            while n < 2, let d = peek(), isOctal(d) { v = v * 8 + (d - 48); pos += 1; n += 1 }
            if v > 0o377 { throw RegexSyntaxError(message: "octal escape value \(source(start..<pos)) outside of range 0-0o377", position: start) }
            return v
        default:
            if c < 128, let s = Unicode.Scalar(c), s.properties.isAlphabetic || (c >= 48 && c <= 57) {
                throw RegexSyntaxError(message: "bad escape \\\(Character(s))", position: start)
            }
            return c
        }
    }

    /// The pattern's text in `r`, for error messages.
    func source(_ r: Range<Int>) -> String {
        String(String.UnicodeScalarView(text[max(0, r.lowerBound)..<min(text.count, r.upperBound)].compactMap { Unicode.Scalar($0) }))
    }

    func hexValue(_ c: UInt32) -> UInt32? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }

    /// `[...]`, `pos` after the `[`.
    mutating func parseClass(flags: Int, start: Int) throws -> RegexNode {
        var set = RegexCharSet()
        set.ignoreCase = flags & RegexFlag.ignoreCase != 0
        set.asciiFold = ascii(flags)
        if peek() == ch("^") { set.negated = true; pos += 1 }
        var first = true
        while true {
            guard let c = peek() else { throw RegexSyntaxError(message: "unterminated character set", position: start) }
            if c == ch("]") && !first { pos += 1; break }
            first = false
            let itemStart = pos
            var low: UInt32
            if c == ch("\\") {
                pos += 1
                guard let e = peek() else { throw RegexSyntaxError(message: "unterminated character set", position: start) }
                if isCategoryLetter(e) {
                    pos += 1
                    set.categories.append(category(e, ascii: ascii(flags)))
                    if peek() == ch("-"), let n = peek(1), n != ch("]") {
                        throw RegexSyntaxError(message: "bad character range \(source(itemStart..<pos + 2))", position: itemStart)
                    }
                    continue
                }
                low = try parseCommonEscape(start: itemStart, inClass: true)
            } else {
                pos += 1
                low = c
            }
            if peek() == ch("-"), let n = peek(1), n != ch("]") {
                pos += 1
                let hiStart = pos
                var high: UInt32
                if n == ch("\\") {
                    pos += 1
                    guard let e = peek() else { throw RegexSyntaxError(message: "unterminated character set", position: start) }
                    if isCategoryLetter(e) {
                        throw RegexSyntaxError(message: "bad character range \(source(itemStart..<pos + 1))", position: itemStart)
                    }
                    high = try parseCommonEscape(start: hiStart, inClass: true)
                } else {
                    pos += 1
                    high = n
                }
                if high < low {
                    throw RegexSyntaxError(message: "bad character range \(source(itemStart..<pos))", position: itemStart)
                }
                set.ranges.append(low...high)
            } else {
                set.ranges.append(low...low)
            }
        }
        return .set(set)
    }
}

/// The fixed number of characters `node` matches, or nil when it can vary. Saturates at
/// Int.max (a width that large is "looks too much behind").
func regexWidth(_ node: RegexNode, _ groupWidths: [Int: Int?] = [:]) -> Int? {
    func add(_ a: Int, _ b: Int) -> Int { let (r, o) = a.addingReportingOverflow(b); return o ? Int.max : r }
    func mul(_ a: Int, _ b: Int) -> Int { let (r, o) = a.multipliedReportingOverflow(by: b); return o ? Int.max : r }
    switch node {
    case .empty, .assertion, .lookaround: return 0
    case .literal, .any, .set: return 1
    case .concat(let items):
        var total = 0
        for i in items { guard let w = regexWidth(i, groupWidths) else { return nil }; total = add(total, w) }
        return total
    case .alternate(let branches):
        let widths = branches.map { regexWidth($0, groupWidths) }
        guard let first = widths.first, let w = first, widths.allSatisfy({ $0 == w }) else { return nil }
        return w
    case .group(_, let n), .atomic(let n): return regexWidth(n, groupWidths)
    case .repetition(let n, let lo, let hi, _, _):
        guard lo == hi, let w = regexWidth(n, groupWidths) else { return nil }
        return mul(w, lo)
    case .backreference(let g, _, _): return groupWidths[g] ?? nil
    case .conditional(_, let yes, let no):
        guard let a = regexWidth(yes, groupWidths), let b = regexWidth(no, groupWidths), a == b else { return nil }
        return a
    }
}

/// A group number written as int() reads it ("+1", " 1 ", "1_0", other scripts' digits),
/// or nil (negative numbers included).
func regexGroupNumber(_ s: String) -> Int? {
    var scalars = Array(s.unicodeScalars)
    while let f = scalars.first, pyIsSpace(f) { scalars.removeFirst() }
    while let l = scalars.last, pyIsSpace(l) { scalars.removeLast() }
    if scalars.first == "+" { scalars.removeFirst() }
    var value = 0
    var sawDigit = false
    var lastWasUnderscore = false
    for c in scalars {
        if c == "_" {
            if !sawDigit || lastWasUnderscore { return nil }
            lastWasUnderscore = true
            continue
        }
        guard pyIsDecimal(c), let d = c.properties.numericValue else { return nil }
        let (m, o1) = value.multipliedReportingOverflow(by: 10)
        let (r, o2) = m.addingReportingOverflow(Int(d))
        if o1 || o2 { return Int.max }
        value = r
        sawDigit = true
        lastWasUnderscore = false
    }
    return sawDigit && !lastWasUnderscore ? value : nil
}
