// Exceptions no code can catch (a finaliser's, a dropped generator's, one escaping a
// `_thread.start_new_thread` function or an atexit callback) go through
// `sys.unraisablehook`, as in CPython: the default hook prints "Exception ignored in: X"
// and the traceback; a program (or test.support.catch_unraisable_exception) may install
// its own, which gets a `sys.UnraisableHookArgs`.

import ConcSyntax

/// The fields of `sys.UnraisableHookArgs`, in order.
let unraisableHookArgsFields = ["exc_type", "exc_value", "exc_traceback", "err_msg", "object"]

extension Unit {
    /// Reports `e` as unraisable: `message` is CPython's err_msg (nil: the default,
    /// "Exception ignored in"), `object` what raised it. `objectRepr` stands for
    /// `repr(object)` in the default report when calling repr is not safe (an object
    /// being destroyed).
    func reportUnraisable(_ e: PyBaseException, message: String? = nil, object: Value = .none,
                          objectRepr: String? = nil) {
        // An embedding's timeout is not swallowed: asked for again, it stops the program
        // at its next poll point.
        if e.endsTheRun { engine.requestTimeout(); return }
        engine.flushOutput()
        // An exception with no traceback (raised by the runtime itself, such as "generator
        // ignored GeneratorExit") gets the frame running now, as CPython's
        // PyErr_WriteUnraisable gives it: the hook's exc_traceback and the report show it.
        if e.traceback.isEmpty, let f = currentFrame, !f.code.hidesFrames {
            e.traceback.append(TracebackEntry(in: f, at: SourceLoc(line: f.line, col: 0, endLine: f.line, endCol: 0),
                                              marker: .statement))
            e.needsLocation = false
        }
        let sys = engine.sysGlobals.load(ordering: .acquiring)?.takeUnretainedValue()
        if let sys, let hook = sys.get("unraisablehook"), let original = sys.get("__unraisablehook__"),
           !isSame(hook, original), !hook.isNone {
            let args = PyTuple([.obj(e.type), .obj(e), e.tracebackValue, message.map { .str($0) } ?? .none, object],
                               type: Types.unraisableHookArgs)
            do {
                _ = try call(hook, [.obj(args)])
            } catch let failure as PyBaseException {
                let what = (try? repr(hook)) ?? "<hook>"
                writeErrorOutput("Exception ignored in sys.unraisablehook: \(what)\n" + formatException(failure))
            } catch {}
            return
        }
        writeErrorOutput(defaultUnraisableReport(e, message: message ?? "Exception ignored in", object: object, objectRepr: objectRepr))
    }

    /// What CPython's default unraisable hook prints.
    func defaultUnraisableReport(_ e: PyBaseException, message: String, object: Value, objectRepr: String? = nil) -> String {
        var head = message
        if let text = objectRepr {
            head += ": " + text
        } else if !object.isNone {
            head += ": " + ((try? repr(object)) ?? "<object repr() failed>")
        }
        return head + "\n" + formatException(e)
    }
}

extension Engine {
    /// `sys.unraisablehook`'s default (also `sys.__unraisablehook__`).
    func makeUnraisableHook() -> (String, Value) {
        native("unraisablehook") { u, a in
            try a.expect("unraisablehook", 1, 1)
            guard case .obj(let o) = a[0], let args = o as? PyTuple, args.type === Types.unraisableHookArgs else {
                throw typeError("sys.unraisablehook argument type must be UnraisableHookArgs")
            }
            guard case .obj(let v) = args.items[1], let e = v as? PyBaseException else { return .none }
            let message = args.items[3].isNone ? "Exception ignored in" : try u.str(args.items[3])
            u.writeErrorOutput(u.defaultUnraisableReport(e, message: message, object: args.items[4]))
            return .none
        }
    }
}
