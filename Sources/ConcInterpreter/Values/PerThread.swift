// One object per OS thread (the trashcan's parked batches, the queued finalizers).
#if canImport(Glibc)
import Glibc
#endif

/// A `Box` for each OS thread, made on first use by that thread and released when the
/// thread ends. Only its own thread touches a box; the key is created once, before use.
final class PerThread<Box: AnyObject>: @unchecked Sendable {  // `key` and `make` are immutable after init
    private let key: pthread_key_t
    private let make: () -> Box

    init(_ make: @escaping () -> Box) {
        var k = pthread_key_t()
        // The destructor drops a finished thread's box (its one retained reference).
        pthread_key_create(&k) { p in if let p { Unmanaged<AnyObject>.fromOpaque(p).release() } }
        key = k
        self.make = make
    }

    /// The calling thread's box.
    var current: Box {
        if let p = pthread_getspecific(key) { return Unmanaged<Box>.fromOpaque(p).takeUnretainedValue() }
        let b = make()
        pthread_setspecific(key, Unmanaged.passRetained(b).toOpaque())
        return b
    }

    /// Drops the calling thread's box now, as the thread's end would; the next use of
    /// `current` on this thread makes a new one.
    func clear() {
        guard let p = pthread_getspecific(key) else { return }
        pthread_setspecific(key, nil)
        Unmanaged<AnyObject>.fromOpaque(p).release()
    }
}
