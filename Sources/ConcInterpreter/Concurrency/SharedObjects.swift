// Helpers for the object-locking rule (ObjectLocks.swift) used by instances, classes,
// cells, functions and module globals: a lock held across a `_modify` accessor.
import CConcSys

extension PyObject {
    /// Takes this object's lock for a `_modify` accessor (which cannot yield from inside a
    /// closure); returns whether it was taken, to pass to ``unlockAfterModify(_:)``.
    @inline(__always) final func lockForModify() -> Bool {
        guard ObjectLocks.active else { return false }
        CConcSys_object_lock(Unmanaged.passUnretained(self).toOpaque())
        return true
    }
    @inline(__always) final func unlockAfterModify(_ held: Bool) {
        if held { CConcSys_object_unlock(Unmanaged.passUnretained(self).toOpaque()) }
    }
}
