// `_heapq`: CPython's C accelerator of heapq (heappush, heappop, heapify, heapreplace,
// heappushpop), which stdlib/heapq.conc uses as CPython's heapq.py does. The same sift
// algorithms as CPython's _heapqmodule.c, so the lists come out element for element the
// same, with its checks: a comparison (which may run Conc code) that changes the list's
// size is "list changed size during iteration".
//
// Free-threaded evaluation: items are read and swapped under the list's lock, never while
// comparing; heapq.conc runs each operation under one reentrant guard, so threads sharing
// a heap take turns, as CPython's GIL makes them.

extension Engine {
    func makeHeapqModule() -> PyModule {
        nativeModule("_heapq", [
            native("heappush") { u, a in
                try a.expect("heappush", 2, 2)
                let heap = try heapArgument(a[0], "heappush() argument 1")
                heap.append(a[1])
                try siftDown(heap, 0, heap.count - 1, u)
                return .none
            },
            native("heappop") { u, a in
                try a.expect("_heapq.heappop", 1, 1)
                let heap = try heapArgument(a[0], "heappop() argument")
                guard let last = heap.withItems({ $0.popLast() }) else { throw indexError("index out of range") }
                guard let top = heap.setItem(normalizing: 0, last) else { return last }
                try siftUp(heap, 0, u)
                return top
            },
            native("heapreplace") { u, a in
                try a.expect("heapreplace", 2, 2)
                let heap = try heapArgument(a[0], "heapreplace() argument 1")
                guard let top = heap.setItem(normalizing: 0, a[1]) else { throw indexError("index out of range") }
                try siftUp(heap, 0, u)
                return top
            },
            native("heappushpop") { u, a in
                try a.expect("heappushpop", 2, 2)
                let heap = try heapArgument(a[0], "heappushpop() argument 1")
                guard let top = heap.item(at: 0), try u.lessThan(top, a[1]) else { return a[1] }
                guard let old = heap.setItem(normalizing: 0, a[1]) else { throw indexError("index out of range") }
                try siftUp(heap, 0, u)
                return old
            },
            native("heapify") { u, a in
                try a.expect("_heapq.heapify", 1, 1)
                let heap = try heapArgument(a[0], "heapify() argument")
                var i = heap.count / 2 - 1
                while i >= 0 {
                    try siftUp(heap, i, u)
                    i -= 1
                }
                return .none
            },
        ])
    }
}

private func heapArgument(_ v: Value, _ what: String) throws -> PyList {
    guard case .obj(let o) = v, let l = o as? PyList else {
        throw typeError("\(what) must be list, not \(v.isNone ? "None" : v.typeName)")
    }
    return l
}

private func changedSize() -> PyBaseException { runtimeError("list changed size during iteration") }

/// Moves the item at `pos` up towards `start` while it is smaller than its parent.
private func siftDown(_ heap: PyList, _ start: Int, _ startPos: Int, _ u: Unit) throws {
    var pos = startPos
    let size = heap.count
    guard pos < size, pos >= 0 else { throw indexError("index out of range") }
    while pos > start {
        let parentPos = (pos - 1) >> 1
        guard let item = heap.item(at: pos), let parent = heap.item(at: parentPos) else { throw changedSize() }
        let smaller = try u.lessThan(item, parent)
        guard heap.count == size else { throw changedSize() }
        if !smaller { break }
        heap.withItems { items in items.swapAt(pos, parentPos) }
        pos = parentPos
    }
}

/// Moves the smaller child up from `startPos` down to a leaf, then the item back up
/// (CPython's "bottom-up" sift, fewer comparisons).
private func siftUp(_ heap: PyList, _ startPos: Int, _ u: Unit) throws {
    let end = heap.count
    guard startPos < end else { throw indexError("index out of range") }
    var pos = startPos
    let limit = end >> 1
    while pos < limit {
        var child = 2 * pos + 1
        if child + 1 < end {
            guard let a = heap.item(at: child), let b = heap.item(at: child + 1) else { throw changedSize() }
            let leftSmaller = try u.lessThan(a, b)
            guard heap.count == end else { throw changedSize() }
            if !leftSmaller { child += 1 }
        }
        let p = pos, c = child
        heap.withItems { items in items.swapAt(p, c) }
        pos = child
    }
    try siftDown(heap, startPos, pos, u)
}
