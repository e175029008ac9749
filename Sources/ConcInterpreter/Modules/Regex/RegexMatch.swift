// re.Match: one match of the `_re` engine. Native, because a program reads its groups in
// loops (`for m in p.finditer(text): m.group(1)`): a Conc method frame per call cost more
// than the matching itself.

extension Types {
    /// `re.Match` (stdlib/re.conc publishes it as `re.Match`).
    static let regexMatch: PyType = make("Match") { installRegexMatchMethods($0) }
}

/// One match: the spans of its groups and the pattern and text it came from. Immutable
/// once made, so any unit may read it without a lock.
final class PyRegexMatch: PyObject {
    /// The `re.Pattern` that matched (an instance of the Conc class in stdlib/re.conc).
    let pattern: Value
    let program: RegexProgram
    /// The string as the caller passed it (a str or bytes subclass, a bytearray)…
    let string: Value
    /// …and the plain str or bytes of the same text, which group texts are sliced from.
    let text: Value
    /// `pos` and `endpos`, clamped to the text as CPython clamps them.
    let pos: Int
    let endpos: Int
    /// Two positions per group, group 0 first; -1 for a group that took no part.
    let spans: [Int]
    /// The group that closed last, or -1.
    let lastIndex: Int

    /// `slots` are the machine's (``RegexMachine``): group spans, loop registers, lastindex.
    init(pattern: Value, program: RegexProgram, string: Value, text: Value, pos: Int, endpos: Int, slots: [Int]) {
        self.pattern = pattern
        self.program = program
        self.string = string
        self.text = text
        self.pos = pos
        self.endpos = endpos
        spans = regexSpans(slots, program)
        let last = slots[program.lastIndexSlot]
        lastIndex = last >= 1 ? last : -1
        super.init(type: Types.regexMatch)
    }

    /// The text of group `g`, or `missing` when it took no part.
    func text(ofGroup g: Int, missing: Value = .none) -> Value {
        let a = spans[2 * g], b = spans[2 * g + 1]
        if a < 0 { return missing }
        if let s = text.asStr { return a < b ? strSubstring(s, a, b) : .str("") }
        guard case .obj(let o) = text, let bytes = o as? PyBytes else { return missing }
        return .obj(PyBytes(Array(bytes.snapshot[a..<b])))
    }

    /// The group a program names: a number (an int or anything with `__index__`) or a
    /// group name. IndexError for any other.
    func groupNumber(_ v: Value, _ u: Unit) throws -> Int {
        var g: Int?
        if case .int(let i) = v { g = i }
        else if let name = v.asStr { g = program.groupIndex[name.value] }
        else { g = try indexValue(v, u) }
        guard let k = g, k >= 0, k <= program.groupCount else { throw indexError("no such group") }
        return k
    }

    var lastGroupName: Value {
        if lastIndex < 0 { return .none }
        for (name, g) in program.groupNames where g == lastIndex { return .str(name) }
        return .none
    }
}

/// The group spans of the machine's slots: a group counts only when both of its ends are
/// set (an end left over from an abandoned try does not).
func regexSpans(_ slots: [Int], _ program: RegexProgram) -> [Int] {
    let n = 2 * (program.groupCount + 1)
    var spans = [Int](repeating: -1, count: n)
    var k = 0
    while k < n {
        if slots[k] >= 0 && slots[k + 1] >= 0 { spans[k] = slots[k]; spans[k + 1] = slots[k + 1] }
        k += 2
    }
    return spans
}

func installRegexMatchMethods(_ t: PyType) {
    t.module = "re"
    t.messageNameStorage = "re.Match"
    t.constructor = { _, _, _ in throw typeError("cannot create 're.Match' instances") }
    func match(_ v: Value) -> PyRegexMatch { v.object as! PyRegexMatch }
    func group(_ u: Unit, _ s: Value, _ g: Value) throws -> Value {
        let m = match(s)
        return m.text(ofGroup: try m.groupNumber(g, u))
    }
    t.method("group", noArgs: { _, s in match(s).text(ofGroup: 0) }, oneArg: group) { u, s, a in
        try a.expect("Match.group", 0, Int.max)
        let m = match(s)
        switch a.count {
        case 0: return m.text(ofGroup: 0)
        case 1: return try group(u, s, a[0])
        default: return .obj(PyTuple(try (0..<a.count).map { m.text(ofGroup: try m.groupNumber(a[$0], u)) }))
        }
    }
    t.method("__getitem__", oneArg: group) { u, s, a in
        try a.expect("__getitem__", 1, 1)
        return try group(u, s, a[0])
    }
    t.method("groups") { u, s, a in
        try a.expect("groups", 0, 1, keywords: ["default"])
        let m = match(s)
        let missing = a.argument(0, "default") ?? .none
        return .obj(PyTuple(m.program.groupCount == 0 ? [] : (1...m.program.groupCount).map { m.text(ofGroup: $0, missing: missing) }))
    }
    t.method("groupdict") { u, s, a in
        try a.expect("groupdict", 0, 1, keywords: ["default"])
        let m = match(s)
        let missing = a.argument(0, "default") ?? .none
        let d = PyDict()
        for (name, g) in m.program.groupNames { d.set(u, name, m.text(ofGroup: g, missing: missing)) }
        return .obj(d)
    }
    // start, end, span: of group 0 unless one is named.
    func position(_ name: String, _ body: @escaping (PyRegexMatch, Int) -> Value) {
        t.method(name) { u, s, a in
            try a.expect(name, 0, 1)
            let m = match(s)
            return body(m, a.count == 0 ? 0 : try m.groupNumber(a[0], u))
        }
    }
    position("start") { m, g in .int(m.spans[2 * g]) }
    position("end") { m, g in .int(m.spans[2 * g + 1]) }
    position("span") { m, g in .obj(PyTuple([.int(m.spans[2 * g]), .int(m.spans[2 * g + 1])])) }
    t.getter("regs") { _, s in
        let m = match(s)
        return .obj(PyTuple((0...m.program.groupCount).map { g in
            .obj(PyTuple([.int(m.spans[2 * g]), .int(m.spans[2 * g + 1])]))
        }))
    }
    t.getter("re") { _, s in match(s).pattern }
    t.getter("string") { _, s in match(s).string }
    t.getter("pos") { _, s in .int(match(s).pos) }
    t.getter("endpos") { _, s in .int(match(s).endpos) }
    t.getter("lastindex") { _, s in let i = match(s).lastIndex; return i < 0 ? .none : .int(i) }
    t.getter("lastgroup") { _, s in match(s).lastGroupName }
    t.method("expand") { u, s, a in
        try a.expect("expand", 1, 1, keywords: ["template"])
        let m = match(s)
        // The template's pieces as re.conc parses them (Pattern._template): literals and
        // group numbers, as `sub` takes them.
        let items = try u.call(try u.getAttr(m.pattern, "_template"), [a.argument(0, "template")!])
        guard case .obj(let o) = items, let template = o as? PyList else { throw typeError("template must be a list") }
        let pieces = template.snapshot
        var out = RegexOutput(isBytes: m.program.isBytes)
        if let wrong = out.mismatch(in: pieces) { throw wrong }
        for p in pieces {
            if case .int(let g) = p { if m.spans[2 * g] >= 0 { out.append(m.text(ofGroup: g)) } } else { out.append(p) }
        }
        return try out.finish()
    }
    t.method("__repr__") { u, s, _ in
        let m = match(s)
        return .str("<re.Match object; span=(\(m.spans[0]), \(m.spans[1])), match=\(try u.repr(m.text(ofGroup: 0)))>")
    }
    t.method("__copy__") { _, s, a in try a.expect("__copy__", 0, 0); return s }
    t.method("__deepcopy__") { _, s, a in try a.expect("__deepcopy__", 1, 1); return s }
    // Match[str] in an annotation: the class itself (Conc has no GenericAlias objects).
    t.classFunction("__class_getitem__") { _, a in
        try a.expect("__class_getitem__", 2, 2)
        return .obj(PyGenericAlias(origin: a[0], index: a[1]))
    }
}
