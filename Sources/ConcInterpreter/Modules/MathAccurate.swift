// The math functions whose results CPython computes itself rather than taking from the C
// library, so that Conc prints the same last digit: gamma and lgamma (a Lanczos
// approximation), hypot and dist (an extended-precision vector norm), fsum (exact partial
// sums with CPython's overflow rule). Each follows the published method; tests compare
// them with CPython 3.11 over random inputs (Tests/spec/stdlib/math).
#if canImport(Glibc)
import Glibc
#endif

enum AccurateMath {
    private static let pi = 3.141592653589793238462643383279502884197
    private static let logPi = 1.144729885849400174143427351353058711647

    /// sin(pi * x) for finite x, exact at the integers and half-integers (the gamma
    /// reflection formula divides by it).
    static func sinPi(_ x: Double) -> Double {
        let y = fmod(abs(x), 2.0)
        let quadrant = Int((2.0 * y).rounded())
        let r: Double
        switch quadrant {
        case 0: r = sin(pi * y)
        case 1: r = cos(pi * (y - 0.5))
        case 2: r = sin(pi * (1.0 - y))  // not -sin(pi*(y-1)): that is -0.0 at y == 1
        case 3: r = -cos(pi * (y - 1.5))
        default: r = sin(pi * (y - 2.0))
        }
        return copysign(1.0, x) * r
    }

    // Lanczos approximation with N = 13 and g = 6.024680040776729583740234375 (the
    // parameters Boost uses), written as a rational function of x.
    private static let lanczosG = 6.024680040776729583740234375
    private static let lanczosGMinusHalf = 5.524680040776729583740234375
    private static let lanczosNumerator: [Double] = [
        23531376880.410759688572007674451636754734846804940,
        42919803642.649098768957899047001988850926355848959,
        35711959237.355668049440185451547166705960488635843,
        17921034426.037209699919755754458931112671403265390,
        6039542586.3520280050642916443072979210699388420708,
        1439720407.3117216736632230727949123939715485786772,
        248874557.86205415651146038641322942321632125127801,
        31426415.585400194380614231628318205362874684987640,
        2876370.6289353724412254090516208496135991145378768,
        186056.26539522349504029498971604569928220784236328,
        8071.6720023658162106380029022722506138218516325024,
        210.82427775157934587250973392071336271166969580291,
        2.5066282746310002701649081771338373386264310793408,
    ]
    /// The denominator x(x+1)...(x+11) expanded.
    private static let lanczosDenominator: [Double] = [
        0.0, 39916800.0, 120543840.0, 150917976.0, 105258076.0, 45995730.0,
        13339535.0, 2637558.0, 357423.0, 32670.0, 1925.0, 66.0, 1.0,
    ]
    /// Gamma of 1...23, exactly representable.
    private static let gammaOfIntegers: [Double] = [
        1.0, 1.0, 2.0, 6.0, 24.0, 120.0, 720.0, 5040.0, 40320.0, 362880.0,
        3628800.0, 39916800.0, 479001600.0, 6227020800.0, 87178291200.0,
        1307674368000.0, 20922789888000.0, 355687428096000.0,
        6402373705728000.0, 121645100408832000.0, 2432902008176640000.0,
        51090942171709440000.0, 1124000727777607680000.0,
    ]

    /// The Lanczos sum for x > 0: in powers of x below 5, of 1/x above (no overflow).
    private static func lanczosSum(_ x: Double) -> Double {
        var num = 0.0, den = 0.0
        if x < 5.0 {
            for i in stride(from: lanczosNumerator.count - 1, through: 0, by: -1) {
                num = num * x + lanczosNumerator[i]
                den = den * x + lanczosDenominator[i]
            }
        } else {
            for i in 0..<lanczosNumerator.count {
                num = num / x + lanczosNumerator[i]
                den = den / x + lanczosDenominator[i]
            }
        }
        return num / den
    }

    /// Gamma(x); NaN at the poles and -inf (the caller raises "math domain error").
    static func gamma(_ x: Double) -> Double {
        if !x.isFinite { return x.isNaN || x > 0 ? x : .nan }
        if x == 0 { return copysign(.infinity, x) }
        if x == x.rounded(.down) {
            if x < 0 { return .nan }
            if x <= Double(gammaOfIntegers.count) { return gammaOfIntegers[Int(x) - 1] }
        }
        let ax = abs(x)
        if ax < 1e-20 { return 1.0 / x }
        if ax > 200.0 { return x < 0 ? 0.0 / sinPi(x) : .infinity }
        let y = ax + lanczosGMinusHalf
        // The rounding error of y, to correct pow(y, ...) / exp(y) by (1 + e*g/y).
        var e: Double
        if ax > lanczosGMinusHalf {
            let q = y - ax
            e = q - lanczosGMinusHalf
        } else {
            let q = y - lanczosGMinusHalf
            e = q - ax
        }
        e = e * lanczosG / y
        var r: Double
        if x < 0 {
            r = -pi / sinPi(ax) / ax * exp(y) / lanczosSum(ax)
            r -= e * r
            if ax < 140.0 {
                r /= pow(y, ax - 0.5)
            } else {
                let half = pow(y, ax / 2.0 - 0.25)
                r /= half
                r /= half
            }
        } else {
            r = lanczosSum(ax) / exp(y)
            r += e * r
            if ax < 140.0 {
                r *= pow(y, ax - 0.5)
            } else {
                let half = pow(y, ax / 2.0 - 0.25)
                r *= half
                r *= half
            }
        }
        return r
    }

    /// log|Gamma(x)|; +inf at the poles (the caller raises "math domain error").
    static func logGamma(_ x: Double) -> Double {
        if !x.isFinite { return x.isNaN ? x : .infinity }
        if x == x.rounded(.down) && x <= 2.0 { return x <= 0 ? .infinity : 0.0 }
        let ax = abs(x)
        if ax < 1e-20 { return -log(ax) }
        var r = log(lanczosSum(ax)) - lanczosG
        r += (ax - 0.5) * (log(ax + lanczosG - 0.5) - 1)
        if x < 0 { r = logPi - log(abs(sinPi(ax))) - log(ax) - r }
        return r
    }

    /// sqrt(sum of squares) of `values` (all finite or not, as given), correctly rounded
    /// in nearly every case: the squares are summed in extended precision (each split in
    /// two halves of 26 bits) and the square root gets one differential correction.
    /// `largest` is the largest magnitude; `sawNaN` whether a NaN was among them.
    static func vectorNorm(_ values: [Double], largest: Double, sawNaN: Bool) -> Double {
        if largest.isInfinite { return largest }
        if sawNaN { return .nan }
        if largest == 0 || values.count <= 1 { return largest }
        let splitter = 134217729.0  // 2**27 + 1
        var sum = 1.0, frac1 = 0.0, frac2 = 0.0, frac3 = 0.0
        /// Adds `x` to `sum` and its rounding error to `frac`.
        func add(_ x: Double, _ frac: inout Double) {
            let old = sum
            sum += x
            frac += (old - sum) + x
        }
        var exponent: Int32 = 0
        _ = frexp(largest, &exponent)
        if exponent < -1023 {
            // Scaling by 2**-exponent would overflow: divide by the largest instead.
            for v in values {
                let x = v / largest
                add(x * x, &frac1)
            }
            return largest * sqrt(sum - 1.0 + frac1)
        }
        let scale = ldexp(1.0, -exponent)
        for v in values {
            let x = v * scale  // exact: a power of two
            let t = x * splitter
            let hi = t - (t - x)
            let lo = x - hi
            add(hi * hi, &frac1)
            add(2.0 * hi * lo, &frac2)
            frac3 += lo * lo
        }
        let h = sqrt(sum - 1.0 + (frac1 + frac2 + frac3))
        let t = h * splitter
        let hi = t - (t - h)
        let lo = h - hi
        add(-hi * hi, &frac1)
        add(-2.0 * hi * lo, &frac2)
        add(-lo * lo, &frac3)
        let x = sum - 1.0 + (frac1 + frac2 + frac3)
        return (h + x / (2.0 * h)) / scale
    }

    /// What fsum() found: the correctly rounded sum, or CPython's error.
    enum SumOutcome { case value(Double), overflow, infinitiesCancel }

    /// The correctly rounded sum of `xs` (Shewchuk's exact partial sums, rounded half to
    /// even across partials). A non-finite partial from finite inputs is an intermediate
    /// overflow; infinities and NaNs among the inputs are summed on the side.
    static func exactSum(_ xs: [Double]) -> SumOutcome {
        var partials: [Double] = []
        var specialSum = 0.0, infinitySum = 0.0
        for original in xs {
            var x = original
            var kept = 0
            for j in 0..<partials.count {
                var y = partials[j]
                if abs(x) < abs(y) { swap(&x, &y) }
                let hi = x + y
                let lo = y - (hi - x)
                if lo != 0 { partials[kept] = lo; kept += 1 }
                x = hi
            }
            partials.removeSubrange(kept...)
            guard x != 0 else { continue }
            if !x.isFinite {
                if original.isFinite { return .overflow }
                if original.isInfinite { infinitySum += original }
                specialSum += original
                partials.removeAll()
            } else {
                partials.append(x)
            }
        }
        if specialSum != 0 {
            return infinitySum.isNaN ? .infinitiesCancel : .value(specialSum)
        }
        guard var n = partials.indices.last.map({ $0 + 1 }) else { return .value(0.0) }
        n -= 1
        var hi = partials[n]
        var lo = 0.0
        while n > 0 {
            let x = hi
            n -= 1
            let y = partials[n]
            hi = x + y
            lo = y - (hi - x)
            if lo != 0 { break }
        }
        // Half-even rounding across partials: sum([1e-16, 1, 1e16]) rounds up.
        if n > 0 && ((lo < 0 && partials[n - 1] < 0) || (lo > 0 && partials[n - 1] > 0)) {
            let y = lo * 2.0
            let x = hi + y
            if y == x - hi { hi = x }
        }
        return .value(hi)
    }
}
