// The compiler of `re` patterns: a ``RegexNode`` tree → instructions of a backtracking
// machine (``RegexMachine``). One main program, plus one sub-program for the body of each
// lookaround and atomic group, which the machine runs to completion on its own.

/// 128 bits, one per ASCII character.
struct ASCIIBitmap {
    var low: UInt64 = 0, high: UInt64 = 0
    @inline(__always) func contains(_ c: UInt32) -> Bool {
        c < 64 ? low & (1 << UInt64(c)) != 0 : high & (1 << UInt64(c - 64)) != 0
    }
    mutating func insert(_ c: UInt32) {
        if c < 64 { low |= 1 << UInt64(c) } else { high |= 1 << UInt64(c - 64) }
    }
}

/// One instruction. Jump targets are indexes into the same program.
enum RegexInst {
    case char(UInt32)
    /// A character compared case-insensitively; the operand is already folded.
    case charFolded(UInt32, ascii: Bool)
    case anyButNewline
    case anyChar
    /// A class: index into ``RegexProgram/sets``, and its answer for each ASCII character as
    /// a bitmap, so that ASCII text never reads the set itself.
    case set(Int, ASCIIBitmap)
    /// Try `first`; on failure come back and try `second`.
    case split(Int, Int)
    case jump(Int)
    /// Store the position in a slot: 2k and 2k+1 are group k's start and end.
    case save(Int)
    case assert(RegexAssertion)
    case backreference(Int, folded: Bool, ascii: Bool)
    case lookaround(Int, ahead: Bool, negated: Bool, width: Int)   // sub-program index
    case atomic(Int)                                               // sub-program index
    /// Remember the position in a register slot (a loop's start, to stop empty iterations).
    case markPosition(Int)
    /// End of a `*`/`+` body: loop again unless the iteration matched nothing.
    case loopIfProgress(mark: Int, loop: Int, exit: Int)
    case setCounter(Int, Int)
    /// A greedy loop over the one-character instruction that follows (min, max repeats);
    /// the pattern goes on after that instruction.
    case repeatOne(Int, Int)
    /// Head of a counted loop `{m,n}`.
    case repeatHead(counter: Int, min: Int, max: Int, greedy: Bool, body: Int, exit: Int)
    /// End of a counted loop's body.
    case repeatTail(counter: Int, mark: Int, min: Int, head: Int, exit: Int)
    case groupExists(Int, yes: Int, no: Int)
    case match
}

/// A compiled pattern. Immutable once made, so units may share it.
final class RegexProgram: PyObject {
    /// programs[0] is the pattern; the others are lookaround and atomic bodies.
    let programs: [[RegexInst]]
    let sets: [RegexCharSet]
    let groupCount: Int
    let groupNames: [(String, Int)]
    /// Group numbers by name (`m.group("id")`).
    let groupIndex: [String: Int]
    /// Slots: 2 per group (group 0 included), then loop registers, then `lastindex`.
    let slotCount: Int
    let flags: Int
    let isBytes: Bool
    /// The first instruction that consumes a character when only group saves and
    /// assertions come before it (a char, folded char or class): a search skips the
    /// positions where it cannot match.
    let firstStep: RegexInst?
    /// The pattern starts with `\A` (or `^` without MULTILINE): a search tries one position.
    let anchored: Bool

    init(_ parsed: ParsedRegex, isBytes: Bool) {
        var c = RegexCompiler(groupCount: parsed.groupCount)
        c.programs.append([])
        c.emitProgram(0, parsed.root)
        programs = c.programs
        sets = c.sets
        groupCount = parsed.groupCount
        groupNames = parsed.groupNames
        groupIndex = Dictionary(parsed.groupNames, uniquingKeysWith: { first, _ in first })
        slotCount = c.nextSlot + 1
        flags = parsed.flags
        self.isBytes = isBytes
        var first: RegexInst? = nil
        var anchored = false
        let main = c.programs[0]
        for (i, inst) in main.enumerated() {
            switch inst {
            case .save: continue
            case .assert(.textStart) where first == nil: anchored = true
            case .assert: continue  // zero-width: the first character is still the next step's
            case .char, .charFolded, .set: first = inst
            case .repeatOne(let lo, _) where lo > 0: first = main[i + 1]  // x+ starts with an x
            default: break
            }
            break
        }
        firstStep = first
        self.anchored = anchored
        super.init(type: Types.regexProgram)
    }

    var lastIndexSlot: Int { slotCount - 1 }
}

/// Folds a character for case-insensitive matching: the lowercase of its uppercase (simple
/// mappings), so that the long s and 's', or the Kelvin sign and 'k', fold alike, as in CPython.
@inline(__always) func regexFold(_ c: UInt32, ascii: Bool) -> UInt32 {
    if c < 128 { return c >= 65 && c <= 90 ? c + 32 : c }
    if ascii { return c }
    return regexLower(regexUpper(c, ascii: false), ascii: false)
}

/// The simple lowercase of a character.
func regexLower(_ c: UInt32, ascii: Bool) -> UInt32 {
    if c < 128 { return c >= 65 && c <= 90 ? c + 32 : c }
    if ascii { return c }
    guard let s = Unicode.Scalar(c) else { return c }
    let m = s.properties.lowercaseMapping.unicodeScalars
    return m.count == 1 ? m.first!.value : c
}

/// The simple uppercase of a character, for case-insensitive classes.
func regexUpper(_ c: UInt32, ascii: Bool) -> UInt32 {
    if c < 128 { return c >= 97 && c <= 122 ? c - 32 : c }
    if ascii { return c }
    guard let s = Unicode.Scalar(c) else { return c }
    let m = s.properties.uppercaseMapping.unicodeScalars
    return m.count == 1 ? m.first!.value : c
}

/// Builds the programs; used only by ``RegexProgram/init``.
struct RegexCompiler {
    var programs: [[RegexInst]] = []
    var sets: [RegexCharSet] = []
    var nextSlot: Int
    init(groupCount: Int) {
        nextSlot = 2 * (groupCount + 1)
    }

    mutating func newSlot() -> Int { defer { nextSlot += 1 }; return nextSlot }

    /// Emits `node` as program `index`, ending in `match`; the main program also saves group 0.
    mutating func emitProgram(_ index: Int, _ node: RegexNode) {
        var code: [RegexInst] = []
        if index == 0 { code.append(.save(0)) }
        emit(node, into: &code)
        if index == 0 { code.append(.save(1)) }
        code.append(.match)
        programs[index] = code
    }

    mutating func subProgram(_ node: RegexNode) -> Int {
        programs.append([])
        let index = programs.count - 1
        emitProgram(index, node)
        return index
    }

    mutating func emit(_ node: RegexNode, into code: inout [RegexInst]) {
        switch node {
        case .empty:
            break
        case .literal(let c, let ic, let ascii):
            if ic && (regexFold(c, ascii: ascii) != c || regexUpper(c, ascii: ascii) != c || regexLower(c, ascii: ascii) != c) {
                code.append(.charFolded(regexFold(c, ascii: ascii), ascii: ascii))
            } else {
                code.append(.char(c))
            }
        case .any(let dotAll):
            code.append(dotAll ? .anyChar : .anyButNewline)
        case .set(var s):
            if s.ignoreCase && s.ranges.reduce(0, { $0 + Int($1.upperBound - $1.lowerBound) + 1 }) <= 4096 {
                for r in s.ranges { for c in r { s.folded.insert(regexFold(c, ascii: s.asciiFold)) } }
            }
            sets.append(s)
            var bitmap = ASCIIBitmap()
            for c: UInt32 in 0..<128 where regexSetContains(s, c) { bitmap.insert(c) }
            code.append(.set(sets.count - 1, bitmap))
        case .concat(let items):
            for i in items { emit(i, into: &code) }
        case .alternate(let branches):
            var jumpsToEnd: [Int] = []
            for (k, b) in branches.enumerated() {
                if k < branches.count - 1 {
                    let split = code.count
                    code.append(.split(split + 1, -1))
                    emit(b, into: &code)
                    jumpsToEnd.append(code.count)
                    code.append(.jump(-1))
                    code[split] = .split(split + 1, code.count)
                } else {
                    emit(b, into: &code)
                }
            }
            for j in jumpsToEnd { code[j] = .jump(code.count) }
        case .group(let k, let body):
            code.append(.save(2 * k))
            emit(body, into: &code)
            code.append(.save(2 * k + 1))
        case .assertion(let a):
            code.append(.assert(a))
        case .backreference(let k, let ic, let ascii):
            code.append(.backreference(k, folded: ic, ascii: ascii))
        case .lookaround(let body, let ahead, let negated, let width):
            code.append(.lookaround(subProgram(body), ahead: ahead, negated: negated, width: width))
        case .atomic(let body):
            code.append(.atomic(subProgram(body)))
        case .conditional(let k, let yes, let no):
            let test = code.count
            code.append(.groupExists(k, yes: test + 1, no: -1))
            emit(yes, into: &code)
            let jump = code.count
            code.append(.jump(-1))
            code[test] = .groupExists(k, yes: test + 1, no: code.count)
            emit(no, into: &code)
            code[jump] = .jump(code.count)
        case .repetition(let body, let lo, let hi, let greedy, let possessive):
            if possessive {
                code.append(.atomic(subProgram(.repetition(body, min: lo, max: hi, greedy: greedy, possessive: false))))
                return
            }
            emitRepetition(body, lo, hi, greedy, into: &code)
        }
    }

    mutating func emitRepetition(_ body: RegexNode, _ lo: Int, _ hi: Int, _ greedy: Bool, into code: inout [RegexInst]) {
        let nullable = regexCanBeEmpty(body)
        if hi == 0 { return }
        if greedy && hi > 1 {
            switch body {
            case .literal, .any, .set:
                code.append(.repeatOne(lo, hi))
                emit(body, into: &code)
                return
            default:
                break
            }
        }
        if lo <= 1 && hi == 1 {
            // x? (and x{1,1} == x)
            if lo == 1 { emit(body, into: &code); return }
            let split = code.count
            code.append(.split(-1, -1))
            emit(body, into: &code)
            code[split] = greedy ? .split(split + 1, code.count) : .split(code.count, split + 1)
            return
        }
        if lo <= 1 && hi == Int.max {
            // x* and x+ (x+ is x x*)
            if lo == 1 { emit(body, into: &code) }
            let head = code.count
            code.append(.split(-1, -1))
            let mark = nullable ? newSlot() : -1
            if nullable { code.append(.markPosition(mark)) }
            emit(body, into: &code)
            let tail = code.count
            code.append(.jump(head))
            let exit = code.count
            code[head] = greedy ? .split(head + 1, exit) : .split(exit, head + 1)
            if nullable { code[tail] = .loopIfProgress(mark: mark, loop: head, exit: exit) }
            return
        }
        // Counted: a counter register and a head that decides whether to go round again.
        let counter = newSlot()
        let mark = nullable ? newSlot() : -1
        code.append(.setCounter(counter, 0))
        let head = code.count
        code.append(.jump(-1))
        if nullable { code.append(.markPosition(mark)) }
        emit(body, into: &code)
        let tail = code.count
        code.append(.jump(-1))
        let exit = code.count
        code[head] = .repeatHead(counter: counter, min: lo, max: hi, greedy: greedy, body: head + 1, exit: exit)
        code[tail] = .repeatTail(counter: counter, mark: mark, min: lo, head: head, exit: exit)
    }
}

/// True when `node` can match the empty string.
func regexCanBeEmpty(_ node: RegexNode) -> Bool {
    switch node {
    case .empty, .assertion, .lookaround: return true
    case .literal, .any, .set: return false
    case .concat(let items): return items.allSatisfy(regexCanBeEmpty)
    case .alternate(let branches): return branches.contains(where: regexCanBeEmpty)
    case .group(_, let n), .atomic(let n): return regexCanBeEmpty(n)
    case .repetition(let n, let lo, _, _, _): return lo == 0 || regexCanBeEmpty(n)
    case .backreference: return true
    case .conditional(_, let yes, let no): return regexCanBeEmpty(yes) || regexCanBeEmpty(no)
    }
}
