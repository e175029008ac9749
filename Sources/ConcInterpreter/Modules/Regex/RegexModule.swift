// `_re`: the matching engine under stdlib/re.conc, which builds Python's `re` API (Pattern,
// sub templates, flags, re.error) on these functions:
//   compile(pattern, flags) -> (program, groups, {name: index}, flags), or (message, position) for
//     re.error (position -1: none); OverflowError and ValueError are raised here
//   match(pattern, program, string, pos, endpos, mode[, not_empty_at]) -> re.Match or None;
//     mode 0 match, 1 fullmatch, 2 search; a match may not be empty at not_empty_at
//   finditer(pattern, program, string, pos, endpos) -> [re.Match]: successive matches
//   findall(program, string, pos, endpos), split(program, string, maxsplit),
//   sub(program, repl, string, count, pattern) -> (text, n): the loops of those methods, in
//     Swift; repl is a template (a list of literal pieces and group numbers) or a callable
// `pattern` is the re.Pattern the matches report as `m.re`; Match is the type (RegexMatch.swift).

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
            ("Match", .obj(Types.regexMatch)),
            native("match") { u, a in
                try a.expect("match", 6, 7)
                // A seventh argument: a position where an empty match is refused (Pattern.scanner).
                var notEmptyAt: Int? = nil
                if a.count == 7, case .int(let p) = a[6], p >= 0 { notEmptyAt = p }
                guard case .int(let mode) = a[5] else { throw typeError("mode must be an int") }
                let call = try RegexCall(a, u, programAt: 1)
                func run<C: UnsignedInteger & FixedWidthInteger>(_ buf: UnsafeBufferPointer<C>) throws -> Value {
                    let (pos, end) = call.bounds(buf.count)
                    if pos > end { return .none }
                    var m = RegexMachine(call.program, buf, end: end, poll: { try u.checkInterrupt() })
                    let slots: [Int]?
                    switch mode {
                    case 0: slots = try m.matchAt(pos, fullMatch: false, notEmptyAt: notEmptyAt)
                    case 1: slots = try m.matchAt(pos, fullMatch: true)
                    default: slots = try m.search(from: pos, notEmptyAt: notEmptyAt)
                    }
                    guard let slots else { return .none }
                    return .obj(call.match(a[0], slots, pos: pos, endpos: end))
                }
                return try call.withText(utf8: run, scalars: run)
            },
            native("finditer") { u, a in
                try a.expect("finditer", 5, 5)
                let call = try RegexCall(a, u, programAt: 1)
                func run<C: UnsignedInteger & FixedWidthInteger>(_ buf: UnsafeBufferPointer<C>) throws -> [Value] {
                    var found: [Value] = []
                    let (pos, end) = call.bounds(buf.count)
                    try call.eachMatch(buf, u, limit: 0) { found.append(.obj(call.match(a[0], $0, pos: pos, endpos: end))) }
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
                try a.expect("sub", 5, 5)
                let call = try RegexCall(a, u, subjectAt: 2, whole: true)
                guard case .int(let count) = a[3] else { throw typeError("count must be an int") }
                // A template: literal pieces (str or bytes, as the pattern) and group numbers.
                var pieces: [Value]? = nil
                if case .obj(let t) = a[1], let template = t as? PyList { pieces = template.snapshot }
                func run<C: UnsignedInteger & FixedWidthInteger>(_ buf: UnsafeBufferPointer<C>) throws -> (Value, Int) {
                    var out = RegexOutput(isBytes: call.program.isBytes)
                    // A template with a literal of the other kind fails as CPython's join does:
                    // a lone literal is one item of the result, any other within the expansion.
                    let lone = pieces.map { $0.count == 1 && $0[0].intLike == nil } ?? false
                    let wrong = pieces.flatMap { lone ? nil : out.mismatch(in: $0) }
                    var last = 0
                    var n = 0
                    if count >= 0 {
                        try call.eachMatch(buf, u, limit: count) { s in
                            out.append(buf, last, s[0])
                            if let pieces {
                                if let wrong { throw wrong }
                                if lone { out.appendItem(pieces[0]) } else { out.appendExpansion(pieces, buf, s) }
                            } else {
                                let m = call.match(a[4], s, pos: 0, endpos: buf.count)
                                out.appendItem(try u.call(a[1], [.obj(m)]))
                            }
                            last = s[1]
                            n += 1
                        }
                    }
                    out.append(buf, last, buf.count)
                    return (try out.finish(), n)
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

    /// The argument at `programAt` is the program, the next the text, unless `subjectAt`
    /// says otherwise; `whole`: the whole text (no pos and endpos arguments follow it).
    init(_ a: Args, _ u: Unit, programAt: Int = 0, subjectAt: Int? = nil, whole: Bool = false) throws {
        guard case .obj(let o) = a[programAt], let program = o as? RegexProgram else { throw typeError("expected a compiled pattern") }
        let subjectAt = subjectAt ?? programAt + 1
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
        let (posAt, endAt) = (subjectAt + 1, subjectAt + 2)
        guard let p = try indexValue(a[posAt], u) else { throw typeError("'\(a[posAt].typeName)' object cannot be interpreted as an integer") }
        guard let e = try indexValue(a[endAt], u) else { throw typeError("'\(a[endAt].typeName)' object cannot be interpreted as an integer") }
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

    /// A match of `pattern` with the machine's `slots`.
    func match(_ pattern: Value, _ slots: [Int], pos: Int, endpos: Int) -> PyRegexMatch {
        PyRegexMatch(pattern: pattern, program: program, string: subject, text: plainText, pos: pos, endpos: endpos, slots: slots)
    }

    /// The subject as a plain str or bytes (group texts are sliced from it): a str or bytes
    /// subclass may override `__getitem__`, and CPython's groups are plain (bytes for a bytearray).
    var plainText: Value {
        if let s = subject.asStr { return s.hasType(Types.strID) ? subject : .str(s.value) }
        guard case .obj(let o) = subject, let b = o as? PyBytes else { return subject }
        return b.type === Types.bytes ? subject : .obj(PyBytes(b.snapshot))
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

/// The text `sub` and `expand` build: a str, or bytes for a bytes pattern. Pieces a program
/// supplies (a callable's results, a template's literals) may be of the other kind; they
/// fail as CPython's final join fails, naming the first wrong item of the list it joins.
struct RegexOutput {
    let isBytes: Bool
    private var text = String()
    private var bytes: [UInt8] = []
    /// The items CPython's list would hold so far, and the error for the first wrong one.
    private var items = 0
    private var wrongItem: PyBaseException? = nil

    init(isBytes: Bool) { self.isBytes = isBytes }

    /// The text from `a` to `b` of the subject: one item when not empty.
    mutating func append<C: UnsignedInteger & FixedWidthInteger>(_ buf: UnsafeBufferPointer<C>, _ a: Int, _ b: Int) {
        if a >= b { return }
        items += 1
        if isBytes {
            bytes.append(contentsOf: buf[a..<b].lazy.map { UInt8(truncatingIfNeeded: $0) })
        } else if C.bitWidth == 8 {
            text += String(decoding: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buf)[a..<b]), as: UTF8.self)
        } else {
            for k in a..<b { text.unicodeScalars.append(Unicode.Scalar(UInt32(truncatingIfNeeded: buf[k])) ?? "\u{FFFD}") }
        }
    }

    /// A piece known to be of the right kind (a group's text, a checked literal).
    mutating func append(_ piece: Value) {
        if let s = piece.asStr { text += s.value }
        else if case .obj(let o) = piece, let b = o as? PyBytes { bytes.append(contentsOf: b.snapshot) }
    }

    /// One item of the result from the program: None adds nothing.
    mutating func appendItem(_ v: Value) {
        if v.isNone { return }
        if isBytes ? v.object is PyBytes : v.asStr != nil { append(v) }
        else if wrongItem == nil { wrongItem = wrongKind(items, v) }
        items += 1
    }

    /// A template's expansion for the match with `slots`: one item.
    mutating func appendExpansion<C: UnsignedInteger & FixedWidthInteger>(_ pieces: [Value], _ buf: UnsafeBufferPointer<C>, _ slots: [Int]) {
        let before = items
        for p in pieces {
            if case .int(let g) = p {
                if slots[2 * g] >= 0 && slots[2 * g + 1] >= 0 { append(buf, slots[2 * g], slots[2 * g + 1]) }
            } else {
                append(p)
            }
        }
        items = before + 1
    }

    /// The error a template's expansion raises when one of its literals is of the other kind.
    func mismatch(in pieces: [Value]) -> PyBaseException? {
        for (k, p) in pieces.enumerated() where p.intLike == nil {
            if isBytes ? !(p.object is PyBytes) : p.asStr == nil { return wrongKind(k, p) }
        }
        return nil
    }

    private func wrongKind(_ index: Int, _ v: Value) -> PyBaseException {
        typeError("sequence item \(index): expected \(isBytes ? "a bytes-like object" : "str instance"), \(v.typeName) found")
    }

    /// The result, or the error for its first wrong item.
    func finish() throws -> Value {
        if let wrongItem { throw wrongItem }
        return isBytes ? .obj(PyBytes(bytes)) : .str(text)
    }
}
