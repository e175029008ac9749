// `_random`: the Mersenne Twister core of stdlib/random.conc (CPython's
// Modules/_randommodule.c: MT19937 with init_genrand/init_by_array, genrand_uint32, the
// 53-bit random() and getrandbits). Each draw is atomic, as CPython's C core is under its
// GIL: threads sharing one generator (the module's functions all do) get distinct draws
// and never see a half-twisted state. Seeding from Python values, argument checks and the
// distributions stay in random.conc.

extension Types {
    /// `_random.MT`: one generator's state.
    static let mersenneTwister: PyType = make("MT") { t in
        t.module = "_random"
        t.constructor = { _, _, a in
            try a.expect("MT", 0, 0)
            return .obj(PyMersenneTwister())
        }
        func mt(_ v: Value) -> PyMersenneTwister { v.object as! PyMersenneTwister }
        t.method("init_by_array") { u, s, a in
            try a.expect("init_by_array", 1, 1)
            let key = try u.toArray(a[0]).map { v -> UInt32 in
                guard case .int(let i) = v, i >= 0, i <= Int(UInt32.max) else { throw valueError("key words must be ints in [0, 2**32)") }
                return UInt32(i)
            }
            mt(s).locked { mt(s).initByArray(key) }
            return .none
        }
        t.method("genrand32") { _, s, a in
            try a.expect("genrand32", 0, 0)
            let g = mt(s)
            return .int(Int(g.locked { g.next32() }))
        }
        t.method("random") { _, s, a in
            try a.expect("random", 0, 0)
            let g = mt(s)
            let (x, y) = g.locked { (g.next32() >> 5, g.next32() >> 6) }
            return .float((Double(x) * 67108864.0 + Double(y)) * (1.0 / 9007199254740992.0))
        }
        t.method("getrandbits") { u, s, a in
            // The words are drawn as CPython's, low first.
            try a.expect("getrandbits", 1, 1)
            let k = try u.toIndex(a[0])
            if k < 0 { throw valueError("number of bits must be non-negative") }
            if k == 0 { return .int(0) }
            guard k <= 63 else { throw overflowError("getrandbits(\(k)): Conc ints hold at most 63 random bits") }
            let g = mt(s)
            return .int(g.locked { g.bits(k) })
        }
        t.method("randbelow") { u, s, a in
            // random.Random._randbelow: getrandbits(n.bit_length()) until one is below n.
            try a.expect("randbelow", 1, 1)
            let n = try u.toIndex(a[0])
            guard n > 0 else { throw valueError("randbelow() needs a positive bound") }
            let k = Int.bitWidth - n.leadingZeroBitCount
            let g = mt(s)
            return .int(g.locked {
                var r = g.bits(k)
                while r >= n { r = g.bits(k) }
                return r
            })
        }
        t.method("getstate") { _, s, a in
            // The 624 words and the index, as CPython's getstate() lays them out.
            try a.expect("getstate", 0, 0)
            let g = mt(s)
            let (words, index) = g.locked { (g.state, g.index) }
            return .obj(PyTuple(words.map { .int(Int($0)) } + [.int(index)]))
        }
        t.method("setstate") { u, s, a in
            // (words, index): validated by random.conc.
            try a.expect("setstate", 2, 2)
            let words = try u.toArray(a[0]).map { v -> UInt32 in
                guard case .int(let i) = v else { throw typeError("state words must be ints") }
                return UInt32(truncatingIfNeeded: i)
            }
            let index = try u.toIndex(a[1])
            guard words.count == PyMersenneTwister.n, (0...PyMersenneTwister.n).contains(index) else { throw valueError("invalid state") }
            let g = mt(s)
            g.locked { g.state = words; g.index = index }
            return .none
        }
    }
}

/// One MT19937 generator. `state` and `index` are read and written only inside `locked`,
/// by whichever unit draws, seeds or restores.
final class PyMersenneTwister: PyObject {
    static let n = 624
    /// The 624 words of state.
    var state = [UInt32](repeating: 0, count: n)
    /// The next word to temper; `n` means "twist first".
    var index = n

    init() { super.init(type: Types.mersenneTwister) }

    /// init_genrand(s).
    func initGenrand(_ s: UInt32) {
        state[0] = s
        for i in 1..<Self.n {
            let prev = state[i - 1]
            state[i] = 1812433253 &* (prev ^ (prev >> 30)) &+ UInt32(i)
        }
        index = Self.n
    }

    /// init_by_array(key): CPython's seeding from an int's 32-bit words.
    func initByArray(_ key: [UInt32]) {
        let n = Self.n
        initGenrand(19650218)
        var i = 1, j = 0
        var k = max(n, key.count)
        while k > 0 {
            let prev = state[i - 1]
            state[i] = (state[i] ^ ((prev ^ (prev >> 30)) &* 1664525)) &+ (key.isEmpty ? 0 : key[j]) &+ UInt32(truncatingIfNeeded: j)
            i += 1; j += 1
            if i >= n { state[0] = state[n - 1]; i = 1 }
            if j >= key.count { j = 0 }
            k -= 1
        }
        k = n - 1
        while k > 0 {
            let prev = state[i - 1]
            state[i] = (state[i] ^ ((prev ^ (prev >> 30)) &* 1566083941)) &- UInt32(i)
            i += 1
            if i >= n { state[0] = state[n - 1]; i = 1 }
            k -= 1
        }
        state[0] = 0x8000_0000
        index = n
    }

    /// genrand_uint32: the next tempered word (twisting every 624 draws).
    @inline(__always) func next32() -> UInt32 {
        if index >= Self.n { twist() }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        return y ^ (y >> 18)
    }

    /// getrandbits(k) for 0 < k <= 63: one word for up to 32 bits, else two, low first.
    @inline(__always) func bits(_ k: Int) -> Int {
        if k <= 32 { return Int(next32() >> UInt32(32 - k)) }
        let lo = next32(), hi = next32()
        return Int(UInt64(hi >> UInt32(64 - k)) << 32 | UInt64(lo))
    }

    private func twist() {
        let n = Self.n, m = 397
        state.withUnsafeMutableBufferPointer { mt in
            func mix(_ a: Int, _ b: Int, _ c: Int) {
                let y = (mt[a] & 0x8000_0000) | (mt[b] & 0x7FFF_FFFF)
                mt[a] = mt[c] ^ (y >> 1) ^ ((y & 1) == 0 ? 0 : 0x9908_B0DF)
            }
            for kk in 0..<(n - m) { mix(kk, kk + 1, kk + m) }
            for kk in (n - m)..<(n - 1) { mix(kk, kk + 1, kk + m - n) }
            mix(n - 1, 0, m - 1)
        }
        index = 0
    }
}

extension Engine {
    func makeRandomModule() -> PyModule {
        nativeModule("_random", [("MT", .obj(Types.mersenneTwister))])
    }
}
