// The backtracking matcher of `re`: runs a ``RegexProgram`` over a text of characters
// (str scalars or bytes). Choice points and slot changes go on one explicit stack, so a long
// text costs heap, never native stack (green threads run on small stacks); only nested
// lookarounds and atomic groups recurse, as deep as the pattern nests them.

/// Matching state for one text; made per call of `_re.match`/`_re.scan`. `Char` is UInt8 for
/// bytes and ASCII str (matched in place, no copy) and UInt32 for other str (its scalars).
/// A backtrack stack entry: a choice point (pc >= 0: resume at pc, position), an undo
/// record (pc < 0: slot -pc-1 gets its old value back), or the backing-off point of a
/// greedy one-character loop (floor >= 0: resume at pc, position `value`, and next time
/// one character earlier, down to `floor`). Outside the generic machine: an array of a
/// type nested in a generic one looks its metadata up at run time at every allocation.
private struct Entry {
    let pc: Int
    let value: Int
    var floor = -1
}

struct RegexMachine<Char: UnsignedInteger & FixedWidthInteger> {
    let program: RegexProgram
    let text: UnsafeBufferPointer<Char>
    /// `endpos`: the text is treated as ending here.
    let end: Int
    /// Called every few thousand steps; throws to stop a runaway match (Ctrl-C, a timeout).
    let poll: () throws -> Void
    var steps = 0
    /// The backtrack stack of the last search, kept for the next (its capacity is reused:
    /// a scan makes one search per match).
    private var spareStack: [Entry] = []
    /// The slots of the last match, reused by the next once its caller has let go of them
    /// (a scan makes one search per match, and a new array each time cost a tenth of `split`).
    private var spareSlots: [Int] = []

    init(_ program: RegexProgram, _ text: UnsafeBufferPointer<Char>, end: Int, poll: @escaping () throws -> Void) {
        self.program = program
        self.text = text
        self.end = end
        self.poll = poll
    }

    /// The character at `i` (< end).
    @inline(__always) func at(_ i: Int) -> UInt32 { UInt32(truncatingIfNeeded: text[i]) }

    /// A match starting exactly at `start`: the slots, or nil. `fullMatch` requires it to end
    /// at `end`; `notEmptyAt` rejects an empty match at that position (the scan after an
    /// empty match).
    mutating func matchAt(_ start: Int, fullMatch: Bool, notEmptyAt: Int? = nil) throws -> [Int]? {
        var slots = freshSlots()
        var stack: [Entry] = []
        guard try run(program.programs[0], start, &slots, &stack, requiredEnd: fullMatch ? end : nil,
                      rejectEmptyAt: notEmptyAt) != nil else {
            return nil
        }
        spareSlots = slots
        return slots
    }

    /// A slots array of -1s: the spare one when nothing else holds it.
    private mutating func freshSlots() -> [Int] {
        var slots = spareSlots
        spareSlots = []
        if slots.count != program.slotCount { return [Int](repeating: -1, count: program.slotCount) }
        for i in slots.indices { slots[i] = -1 }
        return slots
    }

    /// The first match starting at or after `start`.
    mutating func search(from start: Int, notEmptyAt: Int? = nil) throws -> [Int]? {
        if program.anchored { return start == 0 ? try matchAt(0, fullMatch: false, notEmptyAt: notEmptyAt) : nil }
        // One slots array and one stack for all the positions tried.
        var slots = freshSlots()
        var stack = spareStack
        spareStack = []
        defer { spareStack = stack }
        let code = program.programs[0]
        var p = start
        while p <= end {
            // Skip the positions where the first thing the pattern needs is not.
            switch program.firstStep {
            case .char(let c)?:
                while p < end && at(p) != c { p += 1 }
                if p >= end { return nil }
            case .charFolded(let c, let ascii)?:
                while p < end && regexFold(at(p), ascii: ascii) != c { p += 1 }
                if p >= end { return nil }
            case .set(let k, let ascii)?:
                let set = program.sets[k]
                while p < end {
                    let c = at(p)
                    if c < 128 ? ascii.contains(c) : regexSetContains(set, c) { break }
                    p += 1
                }
                if p >= end { return nil }
            default:
                break
            }
            for i in slots.indices { slots[i] = -1 }
            stack.removeAll(keepingCapacity: true)
            if try run(code, p, &slots, &stack, requiredEnd: nil, rejectEmptyAt: notEmptyAt) != nil {
                spareSlots = slots
                return slots
            }
            p += 1
        }
        return nil
    }

    /// Runs `code` (a program of ``RegexProgram/programs``) from `start` with an empty
    /// `stack`; the end position of the match, or nil.
    private mutating func run(_ code: [RegexInst], _ start: Int, _ slots: inout [Int], _ stack: inout [Entry],
                              requiredEnd: Int?, rejectEmptyAt: Int? = nil) throws -> Int? {
        var pc = 0
        var pos = start
        while true {
            steps &+= 1
            if steps & 0xFFFF == 0 { try poll() }
            var ok = true
            switch code[pc] {
            case .char(let c):
                if pos < end && at(pos) == c { pos += 1; pc += 1 } else { ok = false }
            case .charFolded(let c, let fold):
                if pos < end && regexFold(at(pos), ascii: fold) == c { pos += 1; pc += 1 } else { ok = false }
            case .anyButNewline:
                if pos < end && at(pos) != 10 { pos += 1; pc += 1 } else { ok = false }
            case .anyChar:
                if pos < end { pos += 1; pc += 1 } else { ok = false }
            case .set(let k, let ascii):
                if pos < end, case let c = at(pos), c < 128 ? ascii.contains(c) : regexSetContains(program.sets[k], c) {
                    pos += 1; pc += 1
                } else {
                    ok = false
                }
            case .repeatOne(let lo, let hi):
                // Take as many as match, then back off one at a time (code[pc + 1] is the
                // one-character instruction repeated).
                let step = code[pc + 1]
                let limit = hi == Int.max ? end : Swift.min(end, pos + hi)
                var p = pos
                while p < limit && matchesOne(step, at(p)) { p += 1 }
                if p - pos < lo { ok = false; break }
                if p - 1 >= pos + lo { stack.append(Entry(pc: pc + 2, value: p - 1, floor: pos + lo)) }
                pos = p
                pc += 2
            case .split(let a, let b):
                stack.append(Entry(pc: b, value: pos))
                pc = a
            case .jump(let t):
                pc = t
            case .save(let s):
                stack.append(Entry(pc: -s - 1, value: slots[s]))
                slots[s] = pos
                if s & 1 == 1 && s > 1 {
                    let li = program.lastIndexSlot
                    stack.append(Entry(pc: -li - 1, value: slots[li]))
                    slots[li] = s / 2
                }
                pc += 1
            case .assert(let a):
                if assertionHolds(a, pos) { pc += 1 } else { ok = false }
            case .backreference(let g, let folded, let fold):
                let s = slots[2 * g], e = slots[2 * g + 1]
                if s < 0 || e < 0 { ok = false; break }
                let n = e - s
                if pos + n > end { ok = false; break }
                var k = 0
                while k < n {
                    let x = at(s + k), y = at(pos + k)
                    if x != y && !(folded && regexFold(x, ascii: fold) == regexFold(y, ascii: fold)) { break }
                    k += 1
                }
                if k == n { pos += n; pc += 1 } else { ok = false }
            case .lookaround(let sub, let ahead, let negated, let width):
                var trial = slots
                var subStack: [Entry] = []
                var found = false
                if ahead {
                    found = try run(program.programs[sub], pos, &trial, &subStack, requiredEnd: nil) != nil
                } else if pos - width >= 0 {
                    found = try run(program.programs[sub], pos - width, &trial, &subStack, requiredEnd: pos) != nil
                }
                if found != negated {
                    if found { adopt(trial, into: &slots, &stack) }
                    pc += 1
                } else {
                    ok = false
                }
            case .atomic(let sub):
                var trial = slots
                var subStack: [Entry] = []
                if let e = try run(program.programs[sub], pos, &trial, &subStack, requiredEnd: nil) {
                    adopt(trial, into: &slots, &stack)
                    pos = e
                    pc += 1
                } else {
                    ok = false
                }
            case .markPosition(let r):
                stack.append(Entry(pc: -r - 1, value: slots[r]))
                slots[r] = pos
                pc += 1
            case .loopIfProgress(let mark, let loop, let exit):
                pc = slots[mark] == pos ? exit : loop
            case .setCounter(let r, let v):
                stack.append(Entry(pc: -r - 1, value: slots[r]))
                slots[r] = v
                pc += 1
            case .repeatHead(let counter, let lo, let hi, let greedy, let body, let exit):
                let n = slots[counter]
                if n < lo { pc = body }
                else if n >= hi { pc = exit }
                else if greedy { stack.append(Entry(pc: exit, value: pos)); pc = body }
                else { stack.append(Entry(pc: body, value: pos)); pc = exit }
            case .repeatTail(let counter, let mark, let lo, let head, let exit):
                stack.append(Entry(pc: -counter - 1, value: slots[counter]))
                slots[counter] += 1
                pc = (mark >= 0 && slots[mark] == pos && slots[counter] >= lo) ? exit : head
            case .groupExists(let g, let yes, let no):
                pc = (slots[2 * g] >= 0 && slots[2 * g + 1] >= 0) ? yes : no
            case .match:
                if let r = requiredEnd, pos != r { ok = false; break }
                if let r = rejectEmptyAt, pos == r, start == r { ok = false; break }
                return pos
            }
            if ok { continue }
            // Backtrack: undo slot changes down to the latest choice point.
            while true {
                guard let e = stack.popLast() else { return nil }
                if e.pc >= 0 {
                    pc = e.pc
                    pos = e.value
                    if e.floor >= 0 && e.value > e.floor { stack.append(Entry(pc: e.pc, value: e.value - 1, floor: e.floor)) }
                    break
                }
                slots[-e.pc - 1] = e.value
            }
        }
    }

    /// Whether the one-character instruction `inst` matches `c`.
    @inline(__always) func matchesOne(_ inst: RegexInst, _ c: UInt32) -> Bool {
        switch inst {
        case .char(let x): return c == x
        case .charFolded(let x, let ascii): return regexFold(c, ascii: ascii) == x
        case .anyButNewline: return c != 10
        case .anyChar: return true
        case .set(let k, let ascii): return c < 128 ? ascii.contains(c) : regexSetContains(program.sets[k], c)
        default: return false
        }
    }

    /// Takes the slots a lookaround or atomic group set, recording the old values so that
    /// backtracking past it restores them.
    private func adopt(_ trial: [Int], into slots: inout [Int], _ stack: inout [Entry]) {
        for i in 0..<slots.count where slots[i] != trial[i] {
            stack.append(Entry(pc: -i - 1, value: slots[i]))
            slots[i] = trial[i]
        }
    }

    func isWord(_ c: UInt32, ascii: Bool) -> Bool {
        if c < 128 { return (c >= 48 && c <= 57) || (c | 0x20 >= 97 && c | 0x20 <= 122) || c == 95 }
        if ascii { return false }
        guard let s = Unicode.Scalar(c) else { return false }
        return pyIsAlnum(s)
    }

    func assertionHolds(_ a: RegexAssertion, _ pos: Int) -> Bool {
        switch a {
        case .textStart: return pos == 0
        case .lineStart: return pos == 0 || at(pos - 1) == 10
        case .textEnd: return pos == end
        case .textEndOrFinalNewline: return pos == end || (pos == end - 1 && at(pos) == 10)
        case .lineEnd: return pos == end || (pos < end && at(pos) == 10)
        case .wordBoundary(let ascii):
            if end == 0 { return false }
            let before = pos > 0 && isWord(at(pos - 1), ascii: ascii)
            let after = pos < end && isWord(at(pos), ascii: ascii)
            return before != after
        case .notWordBoundary(let ascii):
            if end == 0 { return false }
            let before = pos > 0 && isWord(at(pos - 1), ascii: ascii)
            let after = pos < end && isWord(at(pos), ascii: ascii)
            return before == after
        }
    }
}

/// Whether `c` is in the class (case-insensitively when the class says so).
func regexSetContains(_ set: RegexCharSet, _ c: UInt32) -> Bool {
    let ascii = set.asciiFold
    var hit = regexSetHas(set, c)
    if !hit && set.ignoreCase {
        // Every case variant: the class [J-M] holds the Kelvin sign, whose fold is 'k'.
        let folded = regexFold(c, ascii: ascii)
        if set.folded.contains(folded) { return !set.negated }
        for v in [regexLower(c, ascii: ascii), regexUpper(c, ascii: ascii), folded, regexUpper(folded, ascii: ascii)]
        where v != c && regexSetHas(set, v) {
            hit = true
            break
        }
    }
    return hit != set.negated
}

private func regexSetHas(_ set: RegexCharSet, _ c: UInt32) -> Bool {
    for r in set.ranges where r.contains(c) { return true }
    for cat in set.categories where regexCategoryHas(cat, c) { return true }
    return false
}

func regexCategoryHas(_ cat: RegexCategory, _ c: UInt32) -> Bool {
    let yes: Bool
    switch cat.kind {
    case .digit:
        if c < 128 || cat.ascii { yes = c >= 48 && c <= 57 }
        else { yes = Unicode.Scalar(c).map(pyIsDecimal) ?? false }
    case .space:
        if c < 128 || cat.ascii { yes = c == 32 || (c >= 9 && c <= 13) || (!cat.ascii && c >= 0x1c && c <= 0x1f) }
        else { yes = Unicode.Scalar(c).map(pyIsSpace) ?? false }
    case .word:
        if c < 128 || cat.ascii { yes = (c >= 48 && c <= 57) || (c | 0x20 >= 97 && c | 0x20 <= 122) || c == 95 }
        else { yes = Unicode.Scalar(c).map(pyIsAlnum) ?? false }
    }
    return yes != cat.negated
}
