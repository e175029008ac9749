// `help()` and `help(x)`: a few lines on a keyword, primitive or builtin (from a table), or
// the signature and docstring of a user function, class or module.

extension Unit {
    /// The text `help(x)` prints (`x` nil: the overview).
    func helpText(_ x: Value?) throws -> String {
        guard let x = x else { return HelpTexts.overview }
        if let s = x.asStringValue {
            let topic = s.trimmingCharacters(in: " ")
            if let text = HelpTexts.topics[topic] { return text + "\n" }
            return "No help on '\(topic)'. Try help() for the list of topics.\n"
        }
        guard case .obj(let o) = x else { return "Help on \(try repr(x)) (\(x.typeName))\n" }
        switch o {
        case let f as PyFunction:
            return "\(f.name)\(signature(f))\n" + docLines(f.doc)
        case let b as PyBuiltinFunction:
            return HelpTexts.topics[b.name].map { $0 + "\n" } ?? "\(b.name)(...): a builtin function.\n"
        case let t as PyType:
            if t.isBuiltin, let text = HelpTexts.topics[t.name] { return text + "\n" }
            var out = "class \(t.name)"
            let bases = t.bases.filter { $0 !== Types.object }.map { $0.name }
            if !bases.isEmpty { out += "(\(bases.joined(separator: ", ")))" }
            out += "\n" + docLines(t.dict.get("__doc__", hash: nameHash("__doc__")) ?? .none)
            for name in t.dict.liveKeys where !name.hasPrefix("__") || name == "__init__" {
                if case .obj(let m)? = t.dict.get(name, hash: nameHash(name)), let f = m as? PyFunction {
                    out += "    \(name)\(signature(f))\n"
                }
            }
            return out
        case let m as PyModule:
            let names = m.globals.boundNames.filter { !$0.hasPrefix("_") }
            return "module \(m.name)\n" + docLines(m.globals.get("__doc__") ?? .none)
                + (names.isEmpty ? "" : "    names: \(names.joined(separator: ", "))\n")
        default:
            if o.typeIsBuiltin, let text = HelpTexts.topics[o.type.name] { return text + "\n" }
            return "\(try repr(x)): an instance of \(o.type.name)\n"
                + docLines(o.type.lookup("__doc__") ?? .none)
        }
    }

    /// `(a, b=1, *args, c, **kw)` for a user function.
    private func signature(_ f: PyFunction) -> String {
        let c = f.code
        var parts: [String] = []
        let defaults = f.defaults, kwDefaults = f.kwDefaults
        let firstDefault = c.positional.count - defaults.count
        for (i, name) in c.positional.enumerated() {
            if i >= firstDefault, let d = try? repr(defaults[i - firstDefault]) { parts.append("\(name)=\(d)") }
            else { parts.append(name) }
            if c.positionalOnlyCount > 0 && i == c.positionalOnlyCount - 1 { parts.append("/") }
        }
        if c.varArgsSlot >= 0 && c.varArgsSlot < c.localNames.count { parts.append("*" + c.localNames[c.varArgsSlot]) }
        else if !c.keywordOnly.isEmpty { parts.append("*") }
        for name in c.keywordOnly {
            if let d = kwDefaults[name], let text = try? repr(d) { parts.append("\(name)=\(text)") } else { parts.append(name) }
        }
        if c.varKeywordsSlot >= 0 && c.varKeywordsSlot < c.localNames.count { parts.append("**" + c.localNames[c.varKeywordsSlot]) }
        return "(" + parts.joined(separator: ", ") + ")" + (c.isAsync ? "  (async)" : "")
    }

    /// A docstring indented by four spaces, or nothing.
    private func docLines(_ doc: Value) -> String {
        guard let s = doc.asStringValue else { return "" }
        let lines = s.split(separator: "\n", omittingEmptySubsequences: false)
            .map { String($0).trimmingCharacters(in: " ") }
        let text = lines.drop { $0.isEmpty }.reversed().drop { $0.isEmpty }.reversed()
        return text.map { "    " + $0 + "\n" }.joined()
    }
}

extension String {
    /// The string without leading and trailing `c`s.
    func trimmingCharacters(in c: Character) -> String {
        var s = Substring(self)
        while s.first == c { s.removeFirst() }
        while s.last == c { s.removeLast() }
        return String(s)
    }
}

/// The texts of `help`: keywords, concurrency primitives and builtins, a few lines each.
enum HelpTexts {
    static let overview = """
        Conc: Python with processes, threads and green threads built in.
        help(x) explains x: a builtin, a primitive, your function or class, or a topic
        given as a string, e.g. help("spawn"), help("select"), help(lock).
          start units:  spawn f(x)  (process)   thread f(x)   go f(x)  (green thread)
          primitives:   lock rlock semaphore event condition queue sleep
          keywords:     select await async with for while if try def class import
          the REPL:     Tab completes, Up/Down recall, Ctrl-R searches history,
                        Ctrl-C interrupts, Ctrl-D or exit() leaves. `_` is the last value.

        """

    static let topics: [String: String] = [
        // Concurrency keywords
        "spawn": """
            spawn f(a, b) [with name="w", daemon=True]
                Starts f(a, b) in a new OS process (fork): its own pid and a copy of memory.
                Returns a handle at once: .join(timeout), .is_alive(), .pid, .exitcode,
                .terminate(), .kill(), .name, .daemon. Shared primitives stay shared.
            """,
        "thread": """
            thread f(a, b) [with name="t", daemon=True]
                Starts f(a, b) on a new OS thread of this process (shared memory).
                Returns a handle: .join(timeout) gives f's result or re-raises its error,
                .is_alive(), .name, .daemon, .ident, .native_id.
            """,
        "go": """
            go f(a, b) [with name="g"]
                Starts f(a, b) as a green thread: a coroutine scheduled cooperatively on
                this OS thread; it switches only when it blocks (sleep, get, acquire, await).
                go on an async def call runs the coroutine (Conc's create_task).
            """,
        "select": """
            select:
                case item = q.get(): ...     case q2.put(x): ...     case ev.wait(): ...
                case timeout(0.5): ...       default: ...
                Waits for the first ready operation and performs exactly that one
                (random among several ready ones); default runs when none is ready now.
            """,
        "await": """
            await EXPR
                Suspends this green thread until EXPR (a coroutine, a unit handle or a
                future) completes, and gives its value. Works at the top level too.
            """,
        "async": """
            async def f(...): ...
                Calling f creates a coroutine and runs nothing; await it, or start it with
                go f(...). async with / async for work inside async functions.
            """,
        "with": """
            with EXPR [as NAME]: BLOCK
                Calls EXPR.__enter__(), runs BLOCK, then always EXPR.__exit__(...).
                with lock: ... holds a lock (or semaphore, condition) for the block.
            """,
        "for": "for TARGET in ITERABLE: BLOCK [else: BLOCK]\n    Runs BLOCK for each item; else runs when the loop was not broken.",
        "while": "while TEST: BLOCK [else: BLOCK]\n    Runs BLOCK while TEST is true; else runs when the loop was not broken.",
        "if": "if TEST: BLOCK [elif TEST: BLOCK]... [else: BLOCK]",
        "try": """
            try: BLOCK
            except TYPE [as NAME]: BLOCK ...  [else: BLOCK]  [finally: BLOCK]
                Handles exceptions raised in the first block; finally always runs.
            """,
        "def": "def NAME(params): BLOCK\n    Defines a function. Parameters: a, b=1, *args, c, **kwargs.",
        "class": "class NAME(BASES): BLOCK\n    Defines a class; methods take self first; __init__ initialises instances.",
        "import": "import MODULE [as NAME]    from MODULE import NAME [as NAME], ...\n    Modules: the script's folder, CONC_PATH, then the bundled stdlib.",
        "lambda": "lambda params: EXPR\n    A small anonymous function.",
        "global": "global NAME, ...\n    Inside a function: NAME refers to the module's variable.",
        "nonlocal": "nonlocal NAME, ...\n    Inside a nested function: NAME refers to the enclosing function's variable.",
        "yield": "yield EXPR\n    Makes the function a generator: each yield gives one value to the loop.",
        "return": "return [EXPR]\n    Ends the function with EXPR's value (None by default).",
        "raise": "raise EXC [from CAUSE]\n    Raises an exception; a bare raise re-raises the one being handled.",
        // Primitives
        "lock": """
            lock()
                A mutex shared by every unit (also across spawn). .acquire(blocking=True,
                timeout=-1) -> bool, .release(), .locked(); use it as `with l: ...`.
                Releasing a lock this unit does not hold raises RuntimeError.
            """,
        "rlock": """
            rlock()
                A re-entrant lock: the unit holding it may acquire it again; it is free
                after as many releases. Same methods as lock().
            """,
        "semaphore": """
            semaphore(n, bounded=False)
                A counter of n permits: .acquire(blocking=True, timeout=-1) takes one
                (waits at 0), .release(n=1) gives back; bounded=True raises ValueError on
                over-release. `with s: ...` holds one permit.
            """,
        "event": """
            event()
                A flag units wait for: .set(), .clear(), .is_set(),
                .wait(timeout=None) -> True once set (False on timeout).
            """,
        "condition": """
            condition(l=None)
                A lock plus waiting: inside `with c:`, .wait(timeout) releases the lock until
                notified; .wait_for(pred), .notify(n=1), .notify_all().
            """,
        "queue": """
            queue(maxsize=0)
                A FIFO channel between units (items are copied): .put(x, block=True,
                timeout=None), .get(...), .put_nowait, .get_nowait, .qsize(), .empty(),
                .full(), .task_done(), .join(), .close(). Raises Empty / Full.
            """,
        "sleep": "sleep(seconds)\n    Pauses the calling unit only; other units keep running. Ctrl-C interrupts it.",
        "timeout": "case timeout(seconds):\n    A select arm that runs when nothing else is ready within that time.",
        // Builtins
        "print": "print(*values, sep=' ', end='\\n', file=None, flush=False)\n    Writes the values' str() as one whole line (lines of different units never mix).",
        "input": "input(prompt='')\n    Reads a line from standard input (without its newline); EOFError at end of input.",
        "len": "len(x)\n    The number of items of a str, list, tuple, dict, set, range, bytes...",
        "range": "range(stop) / range(start, stop[, step])\n    The integers start, start+step, ... before stop.",
        "list": "list(iterable=())\n    A mutable sequence: .append, .extend, .insert, .pop, .remove, .sort, .reverse ...",
        "dict": "dict(...)\n    A mapping: d[k], d.get(k, default), .items(), .keys(), .values(), .pop, .setdefault ...",
        "set": "set(iterable=())\n    An unordered collection of distinct items: .add, .discard, |, &, - ...",
        "tuple": "tuple(iterable=())\n    An immutable sequence.",
        "str": "str(x='')\n    Text: .split, .join, .strip, .replace, .format, .startswith, f\"{x}\" ...",
        "int": "int(x=0, base=10)\n    An integer (arbitrary size in Python; 64-bit in Conc).",
        "float": "float(x=0.0)\n    A double-precision number.",
        "bool": "bool(x=False)\n    True or False (x's truth value).",
        "enumerate": "enumerate(iterable, start=0)\n    Pairs (index, item).",
        "zip": "zip(*iterables)\n    Tuples of the items at the same position, stopping at the shortest.",
        "map": "map(f, *iterables)\n    f applied to each item, lazily.",
        "filter": "filter(f, iterable)\n    The items for which f(item) is true, lazily.",
        "sorted": "sorted(iterable, key=None, reverse=False)\n    A new sorted list.",
        "sum": "sum(iterable, start=0)\n    The total of the items.",
        "min": "min(iterable) / min(a, b, ...)\n    The smallest item (key= and default= accepted).",
        "max": "max(iterable) / max(a, b, ...)\n    The largest item (key= and default= accepted).",
        "abs": "abs(x)\n    The absolute value.",
        "open": "open(path, mode='r', encoding='utf-8')\n    A file object; use `with open(p) as f:` so it is closed.",
        "isinstance": "isinstance(x, cls)\n    True when x is an instance of cls (or of one of a tuple of classes).",
        "type": "type(x)\n    The class of x.",
        "dir": "dir([x])\n    The names defined in the current module, or the attributes of x.",
        "repr": "repr(x)\n    The text that shows x unambiguously (what the REPL echoes).",
        "help": "help([x])\n    Explains x; help() alone prints an overview.",
        "exit": "exit(code=None)\n    Leaves the program (or the REPL) with SystemExit(code).",
        "quit": "quit(code=None)\n    Same as exit().",
        "id": "id(x)\n    An integer unique to x while it lives.",
        "eval": "eval(source, globals=None, locals=None)\n    The value of the expression in source, evaluated with the caller's variables\n    (or the given dicts).",
        "exec": "exec(source, globals=None, locals=None)\n    Runs the statements in source in the caller's module (or the given dicts);\n    returns None.",
        "hash": "hash(x)\n    The hash of a hashable value.",
        "iter": "iter(x)\n    An iterator over x.",
        "next": "next(it[, default])\n    The iterator's next item (StopIteration, or default, at its end).",
        "getattr": "getattr(x, name[, default])\n    x's attribute called name.",
        "setattr": "setattr(x, name, value)\n    Sets x's attribute called name.",
        "hasattr": "hasattr(x, name)\n    True when x has the attribute.",
        "round": "round(x, ndigits=None)\n    x rounded (halves to even).",
        "reversed": "reversed(seq)\n    The items in reverse order, lazily.",
        "any": "any(iterable)\n    True when some item is true.",
        "all": "all(iterable)\n    True when every item is true.",
        "chr": "chr(i)\n    The one-character string of code point i.",
        "ord": "ord(c)\n    The code point of a one-character string.",
        "globals": "globals()\n    The current module's variables as a dict.",
        "vars": "vars([x])\n    x.__dict__ (or locals()).",
        "super": "super()\n    In a method: the parent classes' attributes.",
        "Exception": "Exception(*args)\n    The base class of ordinary errors; subclass it for your own.",
        "KeyboardInterrupt": "KeyboardInterrupt\n    Raised in the main unit by Ctrl-C.",
    ]
}
