// Frame objects: `sys._getframe()`, `f.f_back`, `f_lineno`, `f_code`, `f_locals`.

/// What a frame object keeps of one running frame, copied when the stack is captured:
/// pooled frames are reused by later calls, so nothing may be read from them afterwards
/// except through ``PyFrameObject/liveFrame(_:)``.
struct FrameSnapshot {
    let code: CodeInfo
    /// The line running when the stack was captured.
    let line: Int
    let globals: Globals
    let function: PyFunction?
    /// The running frame and its locals, to tell whether it still runs (for `f_lineno` and
    /// `f_locals`); nil when not known (a traceback entry made without a running frame).
    var frame: Unmanaged<Frame>? = nil
    var locals: UnsafeMutablePointer<Value>? = nil
}

/// A frame object: one frame of a unit's stack as captured by `sys._getframe()`, innermost
/// first. CPython's frame objects are live; these are snapshots of where each frame was,
/// except `f_lineno` and `f_locals`, which are read afresh while the frame still runs on
/// the unit that asks. Immutable after creation but for the two caches: `backObject`
/// under the object's lock (a traceback's frames are shared between units), `lastLocals`
/// written by the unit whose frame it is.
final class PyFrameObject: PyObject {
    let stack: [FrameSnapshot]
    let position: Int
    /// `f_back`, made on first use and kept, so that `f.f_back is f.f_back`.
    var backObject: PyFrameObject?
    /// The line the frame was at when ``continueWithCallers(of:)`` last found it running
    /// (0: never), for `f_lineno` asked by another unit. Under the object's lock.
    var lineSeen = 0
    /// The last `f_locals` read, returned once the frame has finished.
    var lastLocals: PyDict?

    init(stack: [FrameSnapshot], position: Int) {
        self.stack = stack; self.position = position
        super.init(type: Types.frame)
    }

    var snapshot: FrameSnapshot { stack[position] }

    /// The frame this object stands for, if it is still running on `u`: found on u's chain
    /// with the same locals and code (a pooled frame reused by another call is not it).
    func liveFrame(_ u: Unit) -> Frame? {
        let s = snapshot
        guard let sFrame = s.frame else { return nil }
        var next = u.currentFrameRef
        while let ref = next {
            let f = ref.takeUnretainedValue()
            if ref.toOpaque() == sFrame.toOpaque() {
                return f.locals == s.locals && f.code === s.code ? f : nil
            }
            next = f.callerRef
        }
        return nil
    }

    /// Gives the outermost frame object of a traceback (the frame that caught the
    /// exception, the end of the snapshot) its callers as `f_back`, if that frame still
    /// runs on `u`: CPython's frames are live, so `tb.tb_frame.f_back` goes on to the
    /// handler's caller. Called by the unit `u` itself, or with `u` stopped.
    func continueWithCallers(of u: Unit) {
        guard position + 1 == stack.count else { return }
        let known = locked { backObject != nil }
        guard !known, let live = liveFrame(u) else { return }
        let callers = u.captureStack(from: live.callerRef)
        locked {
            if backObject == nil { backObject = callers }
            lineSeen = live.line
        }
    }
}

extension Unit {
    /// The unit's running frames, innermost first, skipping `skip` of them; nil when the
    /// stack is not that deep.
    func captureStack(skip: Int) -> PyFrameObject? {
        captureStack(from: currentFrameRef, skip: skip)
    }

    /// The frames from `start` outward (a frame of this unit's chain), skipping `skip`.
    func captureStack(from start: Unmanaged<Frame>?, skip: Int = 0) -> PyFrameObject? {
        var shots: [FrameSnapshot] = []
        var next = start
        var skipped = 0
        while let ref = next {
            let f = ref.takeUnretainedValue()
            if skipped < skip {
                skipped += 1
            } else {
                shots.append(FrameSnapshot(code: f.code, line: f.line, globals: f.globals, function: f.function,
                                           frame: ref, locals: f.locals))
            }
            next = f.callerRef
        }
        return shots.isEmpty ? nil : PyFrameObject(stack: shots, position: 0)
    }
}

func installFrameAttributes(_ t: PyType) {
    func frame(_ v: Value) -> PyFrameObject { v.object as! PyFrameObject }
    t.getter("f_lineno") { u, s in
        let f = frame(s)
        if let live = f.liveFrame(u) { return .int(live.line) }
        let seen = f.locked { f.lineSeen }
        return .int(seen > 0 ? seen : f.snapshot.line)
    }
    t.getter("f_lasti") { _, _ in .int(0) }
    t.getter("f_trace") { _, _ in .none }
    t.getter("f_globals") { u, s in .obj(u.globalsDict(frame(s).snapshot.globals)) }
    t.getter("f_builtins") { u, _ in .obj(u.globalsDict(u.engine.builtinsModule.globals)) }
    t.getter("f_code") { u, s in
        let shot = frame(s).snapshot
        if let fn = shot.function, fn.code === shot.code { return try u.getAttr(.obj(fn), "__code__") }
        return .obj(PyFunctionCode(shot.code))
    }
    t.getter("f_back") { u, s in
        let f = frame(s)
        if let b = f.locked({ f.backObject }) { return .obj(b) }
        guard f.position + 1 < f.stack.count else {
            f.continueWithCallers(of: u)
            return f.locked { f.backObject }.map { .obj($0) } ?? .none
        }
        let b = PyFrameObject(stack: f.stack, position: f.position + 1)
        return .obj(f.locked { () -> PyFrameObject in
            if let made = f.backObject { return made }
            f.backObject = b
            return b
        })
    }
    t.getter("f_locals") { u, s in
        let f = frame(s)
        if let live = f.liveFrame(u) {
            let d = u.locals(of: live)
            f.lastLocals = d
            return .obj(d)
        }
        if let d = f.lastLocals { return .obj(d) }
        return .obj(PyDict())
    }
    t.method("clear") { _, _, a in
        try ContainerArgs.none(a, "frame.clear")
        return .none
    }
    t.method("__repr__") { u, s, _ in
        let shot = frame(s).snapshot
        return .str("<frame at \(u.address(s.object!)), file '\(shot.code.file.name)', line \(shot.line), code \(shot.code.name)>")
    }
}
