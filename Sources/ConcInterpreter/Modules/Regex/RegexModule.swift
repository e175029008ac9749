// `_re`: the matching engine under stdlib/re.conc, which builds Python's `re` API (Pattern,
// Match, sub templates, flags, re.error) on these three functions:
//   compile(pattern, flags) -> (program, groups, {name: index}, flags), or (message, position) for
//     re.error (position -1: none); OverflowError and ValueError are raised here
//   match(program, string, pos, endpos, mode[, not_empty_at]) -> slots or None; mode 0 match,
//     1 fullmatch, 2 search; a match may not be empty at not_empty_at
//   scan(program, string, pos, endpos, limit) -> [slots]: successive matches, as finditer finds them
//   findall(program, string, pos, endpos), split(program, string, maxsplit),
//   sub(program, template, string, count) -> (text, n): the loops of those methods, in Swift
// Slots are a tuple of 2 * (groups + 1) positions (-1 when a group did not take part),
// then `lastindex` (-1 when none).

extension Engine {
    func makeRegexModule() -> PyModule {
        nativeModule("_re", [
            native("compile") { u, a in
                try a.expect("compile", 2, 2)
                let isBytes: Bool
                let chars: [UInt32]
                if let s = a[0].asStr {
                    isBytes = false
                    chars = s.value.unicodeScalars.map(\.value)
                } else if case .obj(let o) = a[0], let b = o as? PyBytes {
                    isBytes = true
                    chars = b.snapshot.map(UInt32.init)
                } else {
                    throw typeError("first argument must be string or compiled pattern")
                }
                guard case .int(let flags) = a[1] else { throw typeError("flags must be an int") }
                do {
                    let parsed = try parseRegex(chars, flags: flags, isBytes: isBytes)
                    let program = RegexProgram(parsed, isBytes: isBytes)
                    let names = PyDict()
                    for (n, k) in parsed.groupNames { names.set(u, n, .int(k)) }
                    return .obj(PyTuple([.obj(program), .int(parsed.groupCount), .obj(names), .int(parsed.flags)]))
                } catch let e as RegexSyntaxError {
                    switch e.kind {
                    case .overflowError: throw pyError(Exc.overflowError, e.message)
                    case .valueError: throw valueError(e.message)
                    case .recursionError: throw pyError(Exc.recursionError, e.message)
                    case .reError: return .obj(PyTuple([.str(e.message), .int(e.position)]))
                    }
                }
            },
            native("match") { u, a in
                try a.expect("match", 5, 6)
                // A sixth argument: a position where an empty match is refused (Pattern.scanner).
                var notEmptyAt: Int? = nil
                if a.count == 6, case .int(let p) = a[5], p >= 0 { notEmptyAt = p }
                guard case .int(let mode) = a[4] else { throw typeError("mode must be an int") }
                let call = try RegexCall(a, u)
                func run<C: UnsignedInteger & FixedWidthInteger>(_ buf: UnsafeBufferPointer<C>) throws -> [Int]? {
                    let (pos, end) = call.bounds(buf.count)
                    if pos > end { return nil }
                    var m = RegexMachine(call.program, buf, end: end, poll: { try u.checkInterrupt() })
                    switch mode {
                    case 0: return try m.matchAt(pos, fullMatch: false, notEmptyAt: notEmptyAt)
                    case 1: return try m.matchAt(pos, fullMatch: true)
                    default: return try m.search(from: pos, notEmptyAt: notEmptyAt)
                    }
                }
                guard let slots = try call.withText(utf8: run, scalars: run) else { return .none }
                return .obj(slotTuple(slots, call.program))
            },
            native("scan") { u, a in
                try a.expect("scan", 5, 5)
                guard case .int(let limit) = a[4] else { throw typeError("limit must be an int") }
                let call = try RegexCall(a, u)
                func run<C: UnsignedInteger & FixedWidthInteger>(_ buf: UnsafeBufferPointer<C>) throws -> [Value] {
                    var found: [Value] = []
                    try call.eachMatch(buf, u, limit: limit) { found.append(.obj(slotTuple($0, call.program))) }
                    return found
                }
                return .obj(PyList(try call.withText(utf8: run, scalars: run)))
            },
            native("findall") { u, a in
                try a.expect("findall", 4, 4)
                let call = try RegexCall(a, u)
                let groups = call.program.groupCount
                func run<C: UnsignedInteger & FixedWidthInteger>(_ buf: UnsafeBufferPointer<C>) throws -> [Value] {
                    var out: [Value] = []
                    try call.eachMatch(buf, u, limit: 0) { s in
                        func text(_ g: Int) -> Value {
                            s[2 * g] >= 0 ? call.slice(buf, s[2 * g], s[2 * g + 1]) : call.slice(buf, 0, 0)
                        }
                        if groups == 0 { out.append(text(0)) }
                        else if groups == 1 { out.append(text(1)) }
                        else { out.append(.obj(PyTuple((1...groups).map(text)))) }
                    }
                    return out
                }
                return .obj(PyList(try call.withText(utf8: run, scalars: run)))
            },
            native("split") { u, a in
                try a.expect("split", 3, 3)
                let call = try RegexCall(a, u, whole: true)
                guard case .int(let maxsplit) = a[2] else { throw typeError("maxsplit must be an int") }
                let groups = call.program.groupCount
                func run<C: UnsignedInteger & FixedWidthInteger>(_ buf: UnsafeBufferPointer<C>) throws -> [Value] {
                    var out: [Value] = []
                    var last = 0
                    if maxsplit >= 0 {
                        try call.eachMatch(buf, u, limit: maxsplit) { s in
                            out.append(call.slice(buf, last, s[0]))
                            if groups > 0 {
                                for g in 1...groups { out.append(s[2 * g] >= 0 ? call.slice(buf, s[2 * g], s[2 * g + 1]) : .none) }
                            }
                            last = s[1]
                        }
                    }
                    out.append(call.slice(buf, last, buf.count))
                    return out
                }
                return .obj(PyList(try call.withText(utf8: run, scalars: run)))
            },
            native("sub") { u, a in
                // The template is a list of literal pieces (str or bytes, as the pattern) and
                // group numbers.
                try a.expect("sub", 4, 4)
                let call = try RegexCall(a, u, subjectAt: 2, whole: true)
                guard case .int(let count) = a[3] else { throw typeError("count must be an int") }
                guard case .obj(let t) = a[1], let template = t as? PyList else { throw typeError("template must be a list") }
                let pieces = template.snapshot
                func run<C: UnsignedInteger & FixedWidthInteger>(_ buf: UnsafeBufferPointer<C>) throws -> (Value, Int) {
                    var out = RegexOutput(isBytes: call.program.isBytes)
                    var last = 0
                    var n = 0
                    if count >= 0 {
                        try call.eachMatch(buf, u, limit: count) { s in
                            out.append(buf, last, s[0])
                            for p in pieces {
                                if case .int(let g) = p {
                                    if s[2 * g] >= 0 { out.append(buf, s[2 * g], s[2 * g + 1]) }
                                } else {
                                    out.append(p)
                                }
                            }
                            last = s[1]
                            n += 1
                        }
                    }
                    out.append(buf, last, buf.count)
                    return (out.value, n)
                }
                let (result, n) = try call.withText(utf8: run, scalars: run)
                return .obj(PyTuple([result, .int(n)]))
            },
        ])
    }
}

/// The arguments common to `_re.match` and `_re.scan`: the program, the text (checked against
/// the pattern's kind), pos and endpos.
private struct RegexCall {
    let program: RegexProgram
    let subject: Value
    let pos: Int
    let endpos: Int

    /// `subjectAt`: the argument holding the text; `whole`: the whole text (no pos and endpos arguments).
    init(_ a: Args, _ u: Unit, subjectAt: Int = 1, whole: Bool = false) throws {
        guard case .obj(let o) = a[0], let program = o as? RegexProgram else { throw typeError("expected a compiled pattern") }
        self.program = program
        subject = a[subjectAt]
        if subject.asStr != nil {
            if program.isBytes { throw typeError("cannot use a bytes pattern on a string-like object") }
        } else if case .obj(let b) = subject, b is PyBytes {
            if !program.isBytes { throw typeError("cannot use a string pattern on a bytes-like object") }
        } else {
            throw typeError("expected string or bytes-like object, got '\(subject.typeName)'")
        }
        if whole {
            (pos, endpos) = (0, Int.max)
            return
        }
        guard let p = try indexValue(a[2], u) else { throw typeError("'\(a[2].typeName)' object cannot be interpreted as an integer") }
        guard let e = try indexValue(a[3], u) else { throw typeError("'\(a[3].typeName)' object cannot be interpreted as an integer") }
        pos = p
        endpos = e
    }

    /// Calls `body` with the slots of each successive match (at most `limit`, when positive),
    /// as finditer finds them: after an empty match, the next may start at the same place but
    /// not be empty.
    func eachMatch<C: UnsignedInteger & FixedWidthInteger>(_ buf: UnsafeBufferPointer<C>, _ u: Unit, limit: Int,
                                                           _ body: ([Int]) throws -> Void) throws {
        let (start, end) = bounds(buf.count)
        var m = RegexMachine(program, buf, end: end, poll: { try u.checkInterrupt() })
        var pos = start
        var afterEmpty = false
        var n = 0
        while pos <= end && (limit <= 0 || n < limit) {
            guard let s = try m.search(from: pos, notEmptyAt: afterEmpty ? pos : nil) else { break }
            try body(s)
            n += 1
            afterEmpty = s[0] == s[1]
            pos = s[1]
        }
    }

    /// The text from `a` to `b` as a plain str or bytes.
    func slice<C: UnsignedInteger & FixedWidthInteger>(_ buf: UnsafeBufferPointer<C>, _ a: Int, _ b: Int) -> Value {
        if program.isBytes { return .obj(PyBytes(buf[a..<b].map { UInt8(truncatingIfNeeded: $0) })) }
        if C.bitWidth == 8 {
            let bytes = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buf)[a..<b])
            return .str(String(decoding: bytes, as: UTF8.self), scalarCount: b - a)
        }
        var s = String.UnicodeScalarView()
        for k in a..<b { s.append(Unicode.Scalar(UInt32(truncatingIfNeeded: buf[k])) ?? "\u{FFFD}") }
        return .str(String(s), scalarCount: b - a)
    }

    /// pos and endpos clamped to a text of `count` characters, as CPython clamps them.
    func bounds(_ count: Int) -> (Int, Int) { (min(max(pos, 0), count), min(max(endpos, 0), count)) }

    /// Calls `utf8` with the bytes of a bytes object or an ASCII str (in place), or `scalars`
    /// with the scalars of any other str.
    func withText<R>(utf8: (UnsafeBufferPointer<UInt8>) throws -> R, scalars: (UnsafeBufferPointer<UInt32>) throws -> R) throws -> R {
        if let s = subject.asStr {
            if s.isASCII {
                var text = s.value
                return try text.withUTF8 { try utf8($0) }
            }
            return try s.value.unicodeScalars.map(\.value).withUnsafeBufferPointer { try scalars($0) }
        }
        guard case .obj(let o) = subject, let b = o as? PyBytes else { preconditionFailure("checked in init") }
        return try b.snapshot.withUnsafeBufferPointer { try utf8($0) }
    }
}

/// The text `sub` builds: a str, or bytes for a bytes pattern.
private struct RegexOutput {
    let isBytes: Bool
    var text = String()
    var bytes: [UInt8] = []

    init(isBytes: Bool) { self.isBytes = isBytes }

    mutating func append<C: UnsignedInteger & FixedWidthInteger>(_ buf: UnsafeBufferPointer<C>, _ a: Int, _ b: Int) {
        if a >= b { return }
        if isBytes {
            bytes.append(contentsOf: buf[a..<b].lazy.map { UInt8(truncatingIfNeeded: $0) })
        } else if C.bitWidth == 8 {
            text += String(decoding: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buf)[a..<b]), as: UTF8.self)
        } else {
            for k in a..<b { text.unicodeScalars.append(Unicode.Scalar(UInt32(truncatingIfNeeded: buf[k])) ?? "\u{FFFD}") }
        }
    }

    /// A literal piece of the template.
    mutating func append(_ piece: Value) {
        if let s = piece.asStr { text += s.value }
        else if case .obj(let o) = piece, let b = o as? PyBytes { bytes.append(contentsOf: b.snapshot) }
    }

    var value: Value { isBytes ? .obj(PyBytes(bytes)) : .str(text) }
}

private func slotTuple(_ slots: [Int], _ program: RegexProgram) -> PyTuple {
    let n = 2 * (program.groupCount + 1)
    var items = [Value]()
    items.reserveCapacity(n + 1)
    var k = 0
    while k < n {
        // A group counts only when both ends are set (an end left from an abandoned try is not).
        if slots[k] >= 0 && slots[k + 1] >= 0 {
            items.append(.int(slots[k])); items.append(.int(slots[k + 1]))
        } else {
            items.append(.int(-1)); items.append(.int(-1))
        }
        k += 2
    }
    let last = slots[program.lastIndexSlot]
    items.append(.int(last >= 1 ? last : -1))
    return PyTuple(items)
}
