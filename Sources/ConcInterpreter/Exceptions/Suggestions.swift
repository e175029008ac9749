// "Did you mean: 'print'?": the suggestion CPython 3.11 appends to the message of an
// uncaught NameError or AttributeError (Python/suggestions.c), computed the same way so
// that a learner's typo gets the same hint under `conc` as under `python3`.

/// Where the names to suggest from come from, recorded when the interpreter raises the
/// error (the candidates are only gathered if the error is printed).
enum SuggestionSource {
    /// A name not found: the locals of the code that looked it up, then its module's
    /// globals, then the builtins.
    case name(CodeInfo, Globals)
    /// An attribute not found on this object: what `dir(object)` lists.
    case attribute(Value)
}

/// The Levenshtein distance CPython uses: moves cost 2, a change of case only 1.
enum Suggestions {
    static let moveCost = 2
    static let caseCost = 1
    /// Longer names are never compared (CPython's MAX_STRING_SIZE).
    static let maxStringSize = 40
    /// More candidates than this, and nothing is suggested (MAX_CANDIDATE_ITEMS).
    static let maxCandidates = 750

    /// The candidate closest to `name`, if one is close enough: at most a third of the
    /// characters involved may change; the first of equally close candidates wins.
    static func closest(to name: String, among candidates: [String]) -> String? {
        guard candidates.count < maxCandidates else { return nil }
        let target = Array(name.utf8)
        var best: String? = nil
        var bestDistance = Int.max
        for candidate in candidates where candidate != name {
            let c = Array(candidate.utf8)
            var maxDistance = (target.count + c.count + 3) * moveCost / 6
            maxDistance = min(maxDistance, bestDistance - 1)
            let d = distance(target, c, maxCost: maxDistance)
            if d > maxDistance { continue }
            if best == nil || d < bestDistance { best = candidate; bestDistance = d }
        }
        return best
    }

    private static func substitutionCost(_ a: UInt8, _ b: UInt8) -> Int {
        if a & 31 != b & 31 { return moveCost }
        if a == b { return 0 }
        let la = (65...90).contains(a) ? a + 32 : a
        let lb = (65...90).contains(b) ? b + 32 : b
        return la == lb ? caseCost : moveCost
    }

    /// The edit distance of `a` and `b`, or `maxCost + 1` as soon as it must exceed `maxCost`.
    static func distance(_ a: [UInt8], _ b: [UInt8], maxCost: Int) -> Int {
        var lo = 0, aEnd = a.count, bEnd = b.count
        // Common prefix and suffix cost nothing.
        while lo < aEnd && lo < bEnd && a[lo] == b[lo] { lo += 1 }
        var aLo = lo, bLo = lo
        while aEnd > aLo && bEnd > bLo && a[aEnd - 1] == b[bEnd - 1] { aEnd -= 1; bEnd -= 1 }
        var aSize = aEnd - aLo, bSize = bEnd - bLo
        if aSize == 0 || bSize == 0 { return (aSize + bSize) * moveCost }
        if aSize > maxStringSize || bSize > maxStringSize { return maxCost + 1 }
        var (x, y) = (a, b)
        if bSize < aSize { swap(&x, &y); swap(&aLo, &bLo); swap(&aSize, &bSize) }
        if (bSize - aSize) * moveCost > maxCost { return maxCost + 1 }
        // One row of the matrix, updated in place.
        var row = (0..<aSize).map { ($0 + 1) * moveCost }
        var result = 0
        for j in 0..<bSize {
            let code = y[bLo + j]
            var distance = j * moveCost
            result = distance
            var minimum = Int.max
            for i in 0..<aSize {
                let substitute = distance + substitutionCost(code, x[aLo + i])
                distance = row[i]
                let insertDelete = min(result, distance) + moveCost
                result = min(insertDelete, substitute)
                row[i] = result
                minimum = min(minimum, result)
            }
            if minimum > maxCost { return maxCost + 1 }
        }
        return result
    }
}

extension Unit {
    /// `. Did you mean: 'x'?` for an interpreter-raised NameError or AttributeError whose
    /// name has a close match, else "".
    func suggestionSuffix(_ e: PyBaseException) -> String {
        guard let source = e.suggestionSource, let name = e.suggestionName else { return "" }
        let found: String?
        switch source {
        case .name(let code, let globals):
            found = Suggestions.closest(to: name, among: code.localNames + code.freeNames)
                ?? Suggestions.closest(to: name, among: globals.boundNames)
                ?? Suggestions.closest(to: name, among: builtinNames.filter { !Self.isImportHint($0, for: name) })
        case .attribute(let object):
            found = Suggestions.closest(to: name, among: engine.attributeNames(of: object))
        }
        return found.map { ". Did you mean: '\($0)'?" } ?? ""
    }

    /// Conc's own builtins that CPython lacks.
    private static let concOnlyBuiltins: Set<String> = ["lock", "rlock", "semaphore", "event", "condition",
                                                        "queue", "sleep", "DeadlockError", "Empty", "Full"]

    /// True when `candidate` is one of Conc's lowercase primitives and `name` is
    /// capitalised (`Lock`, `RLock`, `Queue`): the program forgot an import of threading or
    /// queue, which the primitive (with other semantics) would not fix. CPython suggests
    /// nothing then, and neither does Conc.
    private static func isImportHint(_ candidate: String, for name: String) -> Bool {
        concOnlyBuiltins.contains(candidate) && candidate.first?.isLowercase == true && name.first?.isUppercase == true
    }

    /// The builtins module's names, with the constants CPython keeps there too (`Flase`
    /// suggests `False`).
    private var builtinNames: [String] {
        let names = engine.builtinsModule.globals.boundNames
        let present = Set(names)
        return names + ["None", "Ellipsis", "NotImplemented", "False", "True"].filter { !present.contains($0) }
    }
}
