// The `math` module, on the C library's libm (bit-identical results to CPython's).
#if canImport(Glibc)
import Glibc
#endif

extension Engine {
    func makeMathModule() -> PyModule {
        /// A one-argument function with CPython's math_1 checks: NaN in gives NaN out; a NaN
        /// from a non-NaN (sin(inf)) or an argument outside `domain` is a domain error; an
        /// infinite result from a finite argument overflows (a domain error where the
        /// function has a pole there, `poles`).
        func f1(_ name: String, domain: ((Double) -> Bool)? = nil, poles: Bool = false,
                _ op: @escaping (Double) -> Double) -> (String, Value) {
            native(name) { u, a in
                try a.expect(name, 1, 1, module: "math")
                let x = try u.floatArg(a[0], "must be real number")
                let r = op(x)
                if x.isNaN { return .float(r) }
                if let ok = domain, !ok(x) { throw valueError("math domain error") }
                if r.isNaN { throw valueError("math domain error") }
                if r.isInfinite && x.isFinite { throw poles ? valueError("math domain error") : overflowError("math range error") }
                return .float(r)
            }
        }
        /// Not a pole of gamma/lgamma: the non-positive integers are.
        func notAPole(_ x: Double) -> Bool { !(x.isFinite && x <= 0 && x == x.rounded()) }
        func toInt(_ d: Double, _ u: Unit) throws -> Value {
            if d.isNaN { throw valueError("cannot convert float NaN to integer") }
            if d.isInfinite { throw overflowError("cannot convert float infinity to integer") }
            guard d >= -0x1p63 && d < 0x1p63 else { throw overflowError(intOverflowMessage) }  // exactly the 64-bit range
            return .int(Int(d))
        }
        return nativeModule("math", [
            ("pi", .float(Double.pi)), ("e", .float(M_E)), ("tau", .float(2 * Double.pi)),
            ("inf", .float(.infinity)), ("nan", .float(.nan)),
            f1("sqrt", domain: { $0 >= 0 || $0.isNaN }) { sqrt($0) },
            f1("exp") { exp($0) }, f1("sin") { sin($0) }, f1("cos") { cos($0) }, f1("tan") { tan($0) },
            f1("asin", domain: { abs($0) <= 1 }) { asin($0) }, f1("acos", domain: { abs($0) <= 1 }) { acos($0) },
            f1("atan") { atan($0) }, f1("sinh") { sinh($0) }, f1("cosh") { cosh($0) }, f1("tanh") { tanh($0) },
            f1("log10", domain: { $0 > 0 }) { log10($0) }, f1("log2", domain: { $0 > 0 }) { log2($0) },
            f1("log1p", domain: { $0 > -1 }) { log1p($0) }, f1("expm1") { expm1($0) },
            f1("fabs") { fabs($0) },
            // (A plain product, as CPython's: math.degrees(1e308) is inf, not an error.)
            native("degrees") { u, a in try a.expect("degrees", 1, 1, module: "math"); return .float(try u.floatArg(a[0]) * (180.0 / Double.pi)) },
            native("radians") { u, a in try a.expect("radians", 1, 1, module: "math"); return .float(try u.floatArg(a[0]) * (Double.pi / 180.0)) },
            f1("erf") { erf($0) }, f1("erfc") { erfc($0) },
            f1("gamma", domain: notAPole) { AccurateMath.gamma($0) }, f1("lgamma", domain: notAPole) { AccurateMath.logGamma($0) },
            f1("asinh") { asinh($0) }, f1("acosh", domain: { $0 >= 1 }) { acosh($0) },
            f1("atanh", domain: { abs($0) < 1 }) { atanh($0) }, f1("cbrt") { cbrt($0) }, f1("exp2") { exp2($0) },
            native("log") { u, a in
                try a.expect("log", 0, .max)   // "log() takes no keyword arguments"
                if a.count < 1 || a.count > 2 { throw typeError("math.log requires 1 to 2 arguments") }
                let x = try u.floatArg(a[0], "must be real number")
                if x <= 0 { throw valueError("math domain error") }
                if a.count == 2 {
                    let b = try u.floatArg(a[1], "must be real number")
                    if b <= 0 || b == 1 { throw b == 1 ? zeroDivision("float division by zero") : valueError("math domain error") }
                    return .float(log(x) / log(b))
                }
                return .float(log(x))
            },
            native("pow") { u, a in
                try a.expect("pow", 2, 2, module: "math")
                let x = try u.floatArg(a[0]), y = try u.floatArg(a[1])
                let r = pow(x, y)
                // CPython's checks: 0 to a negative power and a negative base to a fractional
                // power are outside the domain; an infinite result from finite input overflows.
                if x == 0 && y < 0 && y.isFinite { throw valueError("math domain error") }
                if r.isNaN && !x.isNaN && !y.isNaN { throw valueError("math domain error") }
                if r.isInfinite && x.isFinite && y.isFinite { throw overflowError("math range error") }
                return .float(r)
            },
            native("atan2") { u, a in try a.expect("atan2", 2, 2, module: "math"); return .float(atan2(try u.floatArg(a[0]), try u.floatArg(a[1]))) },
            native("hypot") { u, a in
                // CPython's vector norm (an infinite coordinate wins over a NaN).
                if !a.keywords.isEmpty { throw typeError("math.hypot() takes no keyword arguments") }
                let xs = try a.positional.map { abs(try u.floatArg($0)) }
                return .float(AccurateMath.vectorNorm(xs, largest: xs.reduce(0.0) { $1 > $0 ? $1 : $0 },
                                                      sawNaN: xs.contains { $0.isNaN }))
            },
            native("floor") { u, a in
                try a.expect("floor", 1, 1, module: "math")
                // A class of the program's may say how (`__floor__`), also a subclass of
                // int or float, as in CPython.
                if case .obj(let o) = a[0], !o.typeIsBuiltin, let m = u.lookupSpecial(a[0], "__floor__") { return try u.call(m, []) }
                if let i = u.intValue(a[0]) { return .int(i) }
                return try toInt(floor(try u.floatArg(a[0], "must be real number")), u)
            },
            native("ceil") { u, a in
                try a.expect("ceil", 1, 1, module: "math")
                // A class of the program's may say how (`__ceil__`), also a subclass of
                // int or float, as in CPython.
                if case .obj(let o) = a[0], !o.typeIsBuiltin, let m = u.lookupSpecial(a[0], "__ceil__") { return try u.call(m, []) }
                if let i = u.intValue(a[0]) { return .int(i) }
                return try toInt(ceil(try u.floatArg(a[0], "must be real number")), u)
            },
            native("trunc") { u, a in
                try a.expect("trunc", 1, 1, module: "math")
                // A class of the program's may say how (`__trunc__`), also a subclass of
                // int or float, as in CPython.
                if case .obj(let o) = a[0], !o.typeIsBuiltin, let m = u.lookupSpecial(a[0], "__trunc__") { return try u.call(m, []) }
                if let i = u.intValue(a[0]) { return .int(i) }
                guard let d = u.numericDouble(a[0]) else {
                    throw typeError("type \(a[0].typeName) doesn't define __trunc__ method")  // no __float__ fallback
                }
                return try toInt(trunc(d), u)
            },
            native("isnan") { u, a in try a.expect("isnan", 1, 1, module: "math"); return .bool(try u.floatArg(a[0]).isNaN) },
            native("isinf") { u, a in try a.expect("isinf", 1, 1, module: "math"); return .bool(try u.floatArg(a[0]).isInfinite) },
            native("isfinite") { u, a in try a.expect("isfinite", 1, 1, module: "math"); return .bool(try u.floatArg(a[0]).isFinite) },
            native("isclose") { u, a in
                try a.expectClinic("isclose", ["a", "b", "rel_tol", "abs_tol"], required: 2, maxPositional: 2)
                let av = a.argument(0, "a")!, bv = a.argument(1, "b")!   // (required: checked above)
                let x = try u.floatArg(av), y = try u.floatArg(bv)
                let rel = try a.keyword("rel_tol").map { try u.floatArg($0) } ?? 1e-9
                let absTol = try a.keyword("abs_tol").map { try u.floatArg($0) } ?? 0
                if rel < 0 || absTol < 0 { throw valueError("tolerances must be non-negative") }
                if x == y { return .bool(true) }
                if x.isInfinite || y.isInfinite { return .bool(false) }
                let diff = abs(x - y)
                return .bool(diff <= abs(rel * y) || diff <= abs(rel * x) || diff <= absTol)
            },
            native("remainder") { u, a in
                // IEEE 754 remainder: x - n*y with n the integer nearest x/y (exact).
                try a.expect("remainder", 2, 2, module: "math")
                let x = try u.floatArg(a[0], "must be real number"), y = try u.floatArg(a[1], "must be real number")
                if x.isNaN { return .float(x) }
                if y.isNaN { return .float(y) }
                if x.isInfinite || y == 0 { throw valueError("math domain error") }
                if y.isInfinite { return .float(x) }
                return .float(Glibc.remainder(x, y))
            },
            native("nextafter") { u, a in
                try a.expect("nextafter", 2, 2, module: "math")
                return .float(Glibc.nextafter(try u.floatArg(a[0], "must be real number"), try u.floatArg(a[1], "must be real number")))
            },
            native("ulp") { u, a in
                try a.expect("ulp", 1, 1, module: "math")
                let x = abs(try u.floatArg(a[0], "must be real number"))
                if x.isNaN || x.isInfinite { return .float(x) }
                let up = Glibc.nextafter(x, .infinity)
                if up.isInfinite { return .float(x - Glibc.nextafter(x, -.infinity)) }
                return .float(up - x)
            },
            native("copysign") { u, a in try a.expect("copysign", 2, 2, module: "math"); return .float(copysign(try u.floatArg(a[0]), try u.floatArg(a[1]))) },
            native("fmod") { u, a in
                try a.expect("fmod", 2, 2, module: "math")
                let x = try u.floatArg(a[0]), y = try u.floatArg(a[1])
                if x.isNaN || y.isNaN { return .float(.nan) }
                if y == 0 || x.isInfinite { throw valueError("math domain error") }
                return .float(fmod(x, y))
            },
            native("modf") { u, a in
                try a.expect("modf", 1, 1, module: "math")
                let x = try u.floatArg(a[0])
                var ip = 0.0
                let fp = modf(x, &ip)
                return .obj(PyTuple([.float(fp), .float(ip)]))
            },
            native("frexp") { u, a in
                try a.expect("frexp", 1, 1, module: "math")
                var e: Int32 = 0
                let m = frexp(try u.floatArg(a[0]), &e)
                return .obj(PyTuple([.float(m), .int(Int(e))]))
            },
            native("ldexp") { u, a in
                try a.expect("ldexp", 2, 2, module: "math")
                let x = try u.floatArg(a[0])
                // The exponent must be an int (not just any index), as CPython's says; it
                // saturates at C int's range (ldexp overflows or underflows anyway).
                guard let exponent = u.intValue(a[1]) else { throw typeError("Expected an int as second argument to ldexp.") }
                let e = Int32(clamping: exponent)
                let r = ldexp(x, e)
                if r.isInfinite && x.isFinite { throw overflowError("math range error") }
                return .float(r)
            },
            native("factorial") { u, a in
                try a.expect("factorial", 1, 1, module: "math")
                guard let n = u.intValue(a[0]) else { throw typeError("'\(a[0].typeName)' object cannot be interpreted as an integer") }
                if n < 0 { throw valueError("factorial() not defined for negative values") }
                var r = 1
                if n > 1 { for i in 2...n { let (p, o) = r.multipliedReportingOverflow(by: i); if o { throw overflowError(intOverflowMessage) }; r = p } }
                return .int(r)
            },
            native("gcd") { u, a in
                try a.expect("gcd", 0, .max, module: "math")
                // On magnitudes (|-2**63| is 2**63, past Int); a result of 2**63 cannot be held.
                var g: UInt = 0
                for v in a.positional { var x = try u.toIndex(v).magnitude; var y = g; while y != 0 { (x, y) = (y, x % y) }; g = x }
                guard let r = Int(exactly: g) else { throw overflowError(intOverflowMessage) }
                return .int(r)
            },
            native("lcm") { u, a in
                try a.expect("lcm", 0, .max, module: "math")
                var l: UInt = 1
                for v in a.positional {
                    let x = try u.toIndex(v).magnitude
                    if x == 0 { return .int(0) }
                    var p = l, q = x; while q != 0 { (p, q) = (q, p % q) }
                    let (m, overflow) = (l / p).multipliedReportingOverflow(by: x)
                    if overflow { throw overflowError(intOverflowMessage) }
                    l = m
                }
                guard let r = Int(exactly: l) else { throw overflowError(intOverflowMessage) }
                return .int(r)
            },
            native("isqrt") { u, a in
                try a.expect("isqrt", 1, 1, module: "math")
                let n = try u.toIndex(a[0])
                if n < 0 { throw valueError("isqrt() argument must be nonnegative") }
                // Corrected in 128 bits: near 2**63 the double's root is off and its square overflows.
                var r = Int128(Double(n).squareRoot())
                let target = Int128(n)
                while r * r > target { r -= 1 }
                while (r + 1) * (r + 1) <= target { r += 1 }
                return .int(Int(r))
            },
            native("comb") { u, a in
                try a.expect("comb", 2, 2, module: "math")
                let n = try u.toIndex(a[0]), k = try u.toIndex(a[1])
                if n < 0 { throw valueError("n must be a non-negative integer") }
                if k < 0 { throw valueError("k must be a non-negative integer") }
                if k > n { return .int(0) }
                // r * (n - i) / (i + 1) is exact at every step; 128-bit products keep the
                // steps from overflowing while the result still fits.
                var r: UInt = 1
                for i in 0..<min(k, n - k) {
                    let wide = r.multipliedFullWidth(by: UInt(n - i))
                    let d = UInt(i + 1)
                    guard wide.high < d else { throw overflowError(intOverflowMessage) }
                    r = d.dividingFullWidth(wide).quotient
                    guard r <= UInt(Int.max) else { throw overflowError(intOverflowMessage) }
                }
                return .int(Int(r))
            },
            native("perm") { u, a in
                try a.expect("perm", 1, 2, module: "math")
                let n = try u.toIndex(a[0])
                let k = a.count > 1 && !a[1].isNone ? try u.toIndex(a[1]) : n
                if n < 0 && k == n { throw valueError("factorial() not defined for negative values") }
                if n < 0 { throw valueError("n must be a non-negative integer") }
                if k < 0 { throw valueError("k must be a non-negative integer") }
                if k > n { return .int(0) }
                var r = 1
                for i in 0..<k { let (p, o) = r.multipliedReportingOverflow(by: n - i); if o { throw overflowError(intOverflowMessage) }; r = p }
                return .int(r)
            },
            native("fsum") { u, a in
                try a.expect("fsum", 1, 1, module: "math")
                let items = try u.toArray(a[0]).map { try u.floatArg($0) }
                switch AccurateMath.exactSum(items) {
                case .value(let r): return .float(r)
                case .overflow: throw overflowError("intermediate overflow in fsum")
                case .infinitiesCancel: throw valueError("-inf + inf in fsum")
                }
            },
            native("prod") { u, a in
                try a.expectClinic("prod", ["iterable", "start"], posOnly: 1, required: 1, maxPositional: 1)
                var r: Value = a.keyword("start") ?? .int(1)
                for v in try u.toArray(a[0]) { r = try u.binary(.mul, r, v) }
                return r
            },
            native("dist") { u, a in
                try a.expect("dist", 2, 2, module: "math")
                let p = try u.toArray(a[0]), q = try u.toArray(a[1])
                if p.count != q.count { throw valueError("both points must have the same number of dimensions") }
                let ds = try zip(p, q).map { abs(try u.floatArg($0) - u.floatArg($1)) }
                return .float(AccurateMath.vectorNorm(ds, largest: ds.reduce(0.0) { $1 > $0 ? $1 : $0 },
                                                      sawNaN: ds.contains { $0.isNaN }))
            },
        ])
    }
}

