// The abstract syntax tree the parser produces: a faithful picture of the source, before
// names are resolved. The compiler (ConcInterpreter) turns it into executable nodes.

/// A position in a source file, as the parser saw it.
///
/// Lines are 1-based. Columns are 0-based UTF-8 *character* offsets (Unicode scalars) into
/// the line, like CPython's `col_offset`; `endLine`/`endCol` mark one past the last
/// character of the construct, so a traceback can underline exactly the failing expression.
public struct SourceLoc: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var col: Int
    public var endLine: Int
    public var endCol: Int
    public init(line: Int, col: Int, endLine: Int, endCol: Int) {
        self.line = line; self.col = col; self.endLine = endLine; self.endCol = endCol
    }
    public static let unknown = SourceLoc(line: 0, col: 0, endLine: 0, endCol: 0)
    public var description: String { "\(line):\(col)" }
}

/// An expression node. Immutable once parsed.
public final class Expr: @unchecked Sendable {  // immutable after parsing: safe to share
    public let kind: ExprKind
    public let loc: SourceLoc
    public init(_ kind: ExprKind, _ loc: SourceLoc) { self.kind = kind; self.loc = loc }
}

/// A statement node. Immutable once parsed.
public final class Stmt: @unchecked Sendable {  // immutable after parsing: safe to share
    public let kind: StmtKind
    public let loc: SourceLoc
    public init(_ kind: StmtKind, _ loc: SourceLoc) { self.kind = kind; self.loc = loc }
}

/// A literal value written in the source.
public enum Constant: Sendable, Equatable {
    case none, `true`, `false`, ellipsis
    case int(Int)            // literals beyond Int64 are a syntax-time OverflowError (see Parser)
    case float(Double)
    case imaginary(Double)   // parsed for completeness; the evaluator rejects it
    case string(String)
    case bytes([UInt8])
}

public enum UnaryOp: String, Sendable { case not, neg = "-", pos = "+", invert = "~" }
public enum BinaryOp: String, Sendable {
    case add = "+", sub = "-", mul = "*", div = "/", floorDiv = "//", mod = "%", pow = "**"
    case matMul = "@", lshift = "<<", rshift = ">>", bitAnd = "&", bitOr = "|", bitXor = "^"
}
public enum BoolOp: String, Sendable { case and, or }
public enum CompareOp: String, Sendable {
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
    case `in` = "in", notIn = "not in", `is` = "is", isNot = "is not"
}

/// One piece of an f-string: literal text, or a replacement field `{expr!conv:spec}`.
public enum FStringPart: Sendable {
    case literal(String)
    /// `conversion` is "r", "s", "a" or nil. `spec` is itself an f-string (it may nest
    /// fields: `{x:{width}}`); nil when there is no `:`. `selfDocumenting` holds the
    /// source text for `{x=}` (e.g. "x=") or nil.
    case field(Expr, conversion: Character?, spec: [FStringPart]?, selfDocumenting: String?)
}

/// An argument at a call site.
public enum Argument: Sendable {
    case positional(Expr)
    case star(Expr)                      // *args
    case keyword(String, Expr)           // name=value
    case doubleStar(Expr)                // **kwargs
}

/// One `for ... in ... if ...` clause of a comprehension.
public struct Comprehension: Sendable {
    public let target: Expr
    public let iter: Expr
    public let ifs: [Expr]
    public let isAsync: Bool
    public init(target: Expr, iter: Expr, ifs: [Expr], isAsync: Bool) {
        self.target = target; self.iter = iter; self.ifs = ifs; self.isAsync = isAsync
    }
}

/// One formal parameter: `name` or `name=default`.
public struct Param: Sendable {
    public let name: String
    public let defaultValue: Expr?
    public let loc: SourceLoc
    public init(name: String, defaultValue: Expr?, loc: SourceLoc) {
        self.name = name; self.defaultValue = defaultValue; self.loc = loc
    }
}

/// A parameter list: `def f(a, b=1, /, c, *args, d, e=2, **kw)`.
public struct Parameters: Sendable {
    /// Positional parameters in order (positional-only ones first).
    public var positional: [Param] = []
    /// How many of `positional` come before a `/`.
    public var positionalOnlyCount: Int = 0
    public var varArgs: String? = nil       // *args
    public var keywordOnly: [Param] = []    // after * or *args
    public var varKeywords: String? = nil   // **kwargs
    /// Annotated parameters in order, then `return` for a `-> expression` (`__annotations__`).
    public var annotations: [(name: String, value: Expr)] = []
    public init() {}
}

/// The kinds of execution unit that the prefix forms start (LANGUAGE.md §3).
public enum UnitKind: String, Sendable, CaseIterable { case spawn, thread, go }

public indirect enum ExprKind: Sendable {
    case name(String)
    case constant(Constant)
    /// Adjacent string literals are concatenated by the parser; an f-string, or a run of
    /// literals containing one, becomes `.fstring`.
    case fstring([FStringPart])
    case tuple([Expr])
    case list([Expr])
    case set([Expr])
    /// `nil` key means `**mapping` unpacking inside the display.
    case dict([(key: Expr?, value: Expr)])
    case starred(Expr)                               // *x in a call, display or target
    case unary(UnaryOp, Expr)
    case binary(BinaryOp, Expr, Expr)
    case boolOp(BoolOp, [Expr])                      // two or more operands
    case compare(Expr, [(op: CompareOp, right: Expr)])
    case ifExp(test: Expr, body: Expr, orElse: Expr)
    case lambda(Parameters, body: Expr)
    case call(Expr, [Argument])
    case attribute(Expr, String)
    case `subscript`(Expr, Expr)                     // the index may be .slice or .tuple
    case slice(lower: Expr?, upper: Expr?, step: Expr?)
    case listComp(Expr, [Comprehension])
    case setComp(Expr, [Comprehension])
    case dictComp(key: Expr, value: Expr, [Comprehension])
    case generatorExp(Expr, [Comprehension])
    case yield(Expr?)
    case yieldFrom(Expr)
    case await(Expr)
    case namedExpr(target: Expr, value: Expr)        // x := value
    /// `spawn f(a) with name="w", daemon=True` (also `thread`, `go`). `call` is always
    /// a `.call` expression.
    case startUnit(UnitKind, call: Expr, options: [(name: String, value: Expr)])
}

/// One `except` clause. `type` is nil for a bare `except:`.
public struct ExceptHandler: Sendable {
    public let type: Expr?
    public let name: String?
    public let body: [Stmt]
    public let loc: SourceLoc
    /// `except*` (every handler of its `try` is, or none).
    public let isStar: Bool
    /// The span of `except` (or `except*`).
    public let keywordLoc: SourceLoc
    public init(type: Expr?, name: String?, body: [Stmt], loc: SourceLoc, isStar: Bool = false, keywordLoc: SourceLoc? = nil) {
        self.type = type; self.name = name; self.body = body; self.loc = loc
        self.isStar = isStar; self.keywordLoc = keywordLoc ?? loc
    }
}

/// One item of a `with` statement: `expr [as target]`.
public struct WithItem: Sendable {
    public let context: Expr
    public let target: Expr?
    public init(context: Expr, target: Expr?) { self.context = context; self.target = target }
}

/// `import a.b as c` / `from m import x as y`: `name` is dotted for `import`; `*` for a
/// star import.
public struct ImportAlias: Sendable {
    public let name: String
    public let asName: String?
    public let loc: SourceLoc
    public init(name: String, asName: String?, loc: SourceLoc) {
        self.name = name; self.asName = asName; self.loc = loc
    }
}

/// A function definition (also `async def`).
public struct FunctionDef: Sendable {
    /// The name as written (`__name__`); the function is bound under ``boundName``.
    public let name: String
    /// The variable the definition assigns: `name`, mangled inside a class (`_A__f`).
    public let boundName: String
    public let params: Parameters
    public let body: [Stmt]
    public let decorators: [Expr]
    public let isAsync: Bool
    public init(name: String, boundName: String? = nil, params: Parameters, body: [Stmt], decorators: [Expr], isAsync: Bool) {
        self.name = name; self.boundName = boundName ?? name; self.params = params; self.body = body
        self.decorators = decorators; self.isAsync = isAsync
    }
}

/// A class definition.
public struct ClassDef: Sendable {
    /// The name as written (`__name__`); the class is bound under ``boundName``.
    public let name: String
    /// The variable the definition assigns: `name`, mangled inside a class (`_A__Inner`).
    public let boundName: String
    public let bases: [Expr]
    public let keywords: [(name: String, value: Expr)]
    public let body: [Stmt]
    public let decorators: [Expr]
    public init(name: String, boundName: String? = nil, bases: [Expr], keywords: [(name: String, value: Expr)], body: [Stmt], decorators: [Expr]) {
        self.name = name; self.boundName = boundName ?? name; self.bases = bases; self.keywords = keywords
        self.body = body; self.decorators = decorators
    }
}

/// One arm of a `select` statement (LANGUAGE.md §3).
public enum SelectCase: Sendable {
    /// `case [target =] operation:` where operation is a call such as `q.get()`,
    /// `q.put(x)`, `e.wait()`, `conn.recv(n)`, `lock.acquire()`, `h.join()`.
    case operation(target: Expr?, operation: Expr, body: [Stmt], loc: SourceLoc)
    /// `case timeout(seconds):`
    case timeout(Expr, body: [Stmt], loc: SourceLoc)
    /// `default:`
    case `default`(body: [Stmt], loc: SourceLoc)
}

/// One `case` of a `match` statement: a pattern, an optional `if` guard, and the body.
public struct MatchCase: Sendable {
    public let pattern: Pattern
    public let guardTest: Expr?
    public let body: [Stmt]
    public init(pattern: Pattern, guardTest: Expr?, body: [Stmt]) {
        self.pattern = pattern; self.guardTest = guardTest; self.body = body
    }
}

/// A pattern of a `case` clause (PEP 634). Immutable once parsed.
public final class Pattern: @unchecked Sendable {  // immutable after parsing: safe to share
    public let kind: PatternKind
    public let loc: SourceLoc
    public init(_ kind: PatternKind, _ loc: SourceLoc) { self.kind = kind; self.loc = loc }
}

public indirect enum PatternKind: Sendable {
    /// A literal (`1`, `-2.5`, `"a" "b"`, `b"x"`) or a dotted name (`Color.RED`): the
    /// subject must compare equal to it.
    case value(Expr)
    /// `None`, `True` or `False`: the subject must be that very object.
    case singleton(Constant)
    /// A name (bound to the subject), or `_` (nil: binds nothing). Matches anything.
    case capture(String?)
    /// `*name` or `*_` (nil) inside a sequence pattern: the items left over, as a list.
    case star(String?)
    /// `[p, q, *r]` or `(p, q)`: a sequence (not str, bytes or bytearray) of that length.
    case sequence([Pattern])
    /// `{key: p, **rest}`: a mapping with those keys, whose values match.
    case mapping(keys: [Expr], values: [Pattern], rest: String?)
    /// `Cls(p, attr=q)`: an instance of `Cls` whose `__match_args__` attributes (or, for
    /// int/str/list..., itself) and named attributes match.
    case classPattern(cls: Expr, positional: [Pattern], keywords: [(name: String, pattern: Pattern)])
    /// `p | q`: the first alternative that matches.
    case or([Pattern])
    /// `p as name`: `p` matches, and the subject is bound to `name`.
    case asPattern(Pattern, String)
}

public indirect enum StmtKind: Sendable {
    case expr(Expr)
    /// `a = b = value`: one or more targets, assigned left to right.
    case assign(targets: [Expr], value: Expr)
    case augAssign(target: Expr, op: BinaryOp, value: Expr)
    case annAssign(target: Expr, annotation: Expr, value: Expr?, simple: Bool)
    case `if`(test: Expr, body: [Stmt], orElse: [Stmt])   // elif becomes a nested if in orElse
    case `while`(test: Expr, body: [Stmt], orElse: [Stmt])
    case `for`(target: Expr, iter: Expr, body: [Stmt], orElse: [Stmt], isAsync: Bool)
    case `break`, `continue`, pass
    case `return`(Expr?)
    case functionDef(FunctionDef)
    case classDef(ClassDef)
    case `try`(body: [Stmt], handlers: [ExceptHandler], orElse: [Stmt], finally: [Stmt])
    case raise(exception: Expr?, cause: Expr?)
    case with([WithItem], body: [Stmt], isAsync: Bool)
    case global([String])
    case nonlocal([String])
    case delete([Expr])
    case assert(test: Expr, message: Expr?)
    case `import`([ImportAlias])
    /// `from ..pkg.mod import a as b`: `level` counts the leading dots.
    case importFrom(module: String?, names: [ImportAlias], level: Int)
    case select([SelectCase])
    /// `match subject:` and its `case` clauses, tried in order.
    case match(subject: Expr, cases: [MatchCase])
}

/// A whole parsed file (or REPL input, or `-c` string).
public struct Module: Sendable {
    public let body: [Stmt]
    public let source: SourceFile
    public init(body: [Stmt], source: SourceFile) { self.body = body; self.source = source }
}

/// A source text with its name, split into lines for error messages and tracebacks.
public final class SourceFile: @unchecked Sendable {  // immutable after init
    public let name: String
    public let text: String
    public let lines: [Substring]
    /// True for a module of the bundled stdlib (found in the stdlib folder or embedded):
    /// its frames are not the learner's (deadlock reports name the learner's lines).
    public let isStdlib: Bool
    /// True for a stdlib module that stands for one CPython implements in C (warnings,
    /// operator, itertools...): its frames are left out of tracebacks, as C frames are.
    public let hidesFrames: Bool
    /// False for source CPython could not read back by its name (`-c` code, a piped
    /// script, `exec`/`compile` text named `<string>` or any name of no file): its
    /// traceback entries show no source line, as CPython's linecache finds none.
    public let linesInTracebacks: Bool
    public init(name: String, text: String, isStdlib: Bool = false, hidesFrames: Bool = false, linesInTracebacks: Bool = true) {
        self.name = name; self.text = text; self.isStdlib = isStdlib; self.hidesFrames = hidesFrames
        self.linesInTracebacks = linesInTracebacks
        self.lines = SourceFile.splitLines(text)
    }
    /// `text` cut at every "\n" byte. (Not `split(separator: "\n")`, which walks
    /// Characters: a quarter of the time of importing a large module, and it never cuts
    /// "\r\n", one Character, so a file with Windows line ends had one line.)
    static func splitLines(_ text: String) -> [Substring] {
        var text = text
        text.makeContiguousUTF8()
        return text.utf8.withContiguousStorageIfAvailable { bytes -> [Substring] in
            // Offsets into the UTF-8 view become String indices in O(1) (native UTF-8).
            func index(_ offset: Int) -> String.Index { text.utf8.index(text.utf8.startIndex, offsetBy: offset) }
            var lines: [Substring] = []
            var start = 0
            for i in 0..<bytes.count where bytes[i] == 10 {
                // A line ends before its "\r\n" (a Character boundary, unlike the "\n").
                let end = i > start && bytes[i - 1] == 13 ? i - 1 : i
                lines.append(text[index(start)..<index(end)])
                start = i + 1
            }
            lines.append(text[index(start)...])
            return lines
        }!  // a native, contiguous string always has its storage at hand
    }
    /// The number of the last line (a newline ending the text starts no new line).
    public var lastLine: Int { max(1, text.utf8.last == 10 ? lines.count - 1 : lines.count) }
    /// The text of line `n` (1-based) without its line end, or "" when out of range.
    public func line(_ n: Int) -> String {
        guard n >= 1, n <= lines.count else { return "" }
        return String(lines[n - 1])
    }
}

/// A syntax error found by the lexer or parser. Rendered like CPython's:
///
///       File "x.conc", line 3
///         if x
///             ^
///     SyntaxError: expected ':'
public struct SyntaxError: Error, Sendable, Equatable {
    /// "SyntaxError", or "IndentationError" / "TabError" for those subclasses.
    public var kind: String
    public var message: String
    public var file: String
    public var line: Int
    /// 1-based column of the caret, as CPython reports `offset`.
    public var column: Int
    /// The offending line's text (no newline).
    public var text: String
    /// Where the offending text ends, as CPython's `end_lineno`/`end_offset` (1-based,
    /// one past the last character): the caret line underlines `column..<endColumn` (to
    /// the end of the line when `endLine` is later). 0: one caret at `column`; -1: no caret
    /// line at all (CPython's `end_offset` -1: an unexpected indent, a block missing at the
    /// end of the file).
    public var endLine: Int
    public var endColumn: Int
    public init(kind: String = "SyntaxError", message: String, file: String, line: Int, column: Int, text: String,
                endLine: Int = 0, endColumn: Int = 0) {
        self.kind = kind; self.message = message; self.file = file
        self.line = line; self.column = column; self.text = text
        self.endLine = endLine; self.endColumn = endColumn
    }
}
