"""difffuzz/gen.py SEED COUNT: prints a program of COUNT random expressions (builtins,
methods of str/bytes/int/float/list/dict/set, format specs, %-formatting, operators over
literals and the user classes of prelude.py) that shows each one's repr or exception.
The same program runs under python3.11 and conc (scripts/difffuzz/run); any difference
is a behaviour to check against CPython. Our own generator, for developers; not a test.
"""
import os, random, sys
seed = int(sys.argv[1]); n = int(sys.argv[2])
R = random.Random(seed)
atoms = ["A()", "N()", "B()", "It()", "G()", "Eq()", "R()", "S('s')", "I(5)", "L([1])", "F()", "Fmt()", "NoImpl()", "D({'a': 1})", "T((1, 2))", "0", "1", "-3", "7", "2**62", "-2**62*2", "0.5", "-2.25", "1e300", "float('nan')", "float('inf')", "True", "False", "None",
         "''", "'abc'", "'a,b,,c'", "' x Y z '", "'ÄéΩ'", "'12'", "'3.5'", "b'ab'", "bytearray(b'xy')",
         "[]", "[1, 2, 3]", "['b', 'a']", "(1,)", "()", "(1, 'a')", "{}", "{'a': 1}", "{1, 2}", "frozenset({3})", "range(5)", "range(1, 10, 3)",
         "slice(1, 3)", "[[1], [2]]", "{'k': [1]}"]
binops = ["+", "-", "*", "/", "//", "%", "**", "<<", ">>", "&", "|", "^", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "is", "and", "or"]
funcs = ["len", "str", "repr", "int", "float", "bool", "list", "tuple", "set", "sorted", "reversed", "sum", "min", "max", "abs", "round", "iter", "enumerate", "zip", "any", "all", "divmod", "pow", "chr", "ord", "hex", "oct", "bin", "ascii", "format", "dict", "frozenset", "type", "callable", "bytes", "sum"]
methods = {
 "str": ["upper()", "lower()", "split()", "split(',')", "rsplit(',', 1)", "strip()", "strip('a')", "find('b')", "rfind('b')", "index('a')", "count('a')", "replace('a', 'X')", "startswith('a')", "endswith('c')", "center(9, '*')", "ljust(6)", "rjust(6, '0')", "zfill(5)", "title()", "capitalize()", "swapcase()", "isdigit()", "isalpha()", "isspace()", "partition(',')", "rpartition(',')", "join(['x', 'y'])", "splitlines()", "expandtabs(4)", "casefold()", "encode()", "format(1, 2)", "removeprefix('a')", "removesuffix('c')", "isidentifier()", "isnumeric()", "isdecimal()", "translate({97: 'Z'})", "__len__()", "__contains__('a')", "__mul__(2)", "__getitem__(1)"],
 "list": ["copy()", "count(1)", "index(2)", "__len__()", "__getitem__(-1)", "__contains__(3)", "__add__([9])", "__mul__(2)"],
 "bytes": ["hex()", "decode()", "upper()", "split(b'a')", "find(b'b')", "count(b'a')", "replace(b'a', b'Z')", "startswith(b'a')", "strip()", "isalpha()", "join([b'1', b'2'])", "__getitem__(0)", "center(7)", "zfill(5)", "title()", "partition(b'b')", "fromhex('6162')", "__len__()", "rjust(5, b'-')"],
 "int": ["bit_length()", "to_bytes(2, 'big')", "to_bytes(2, 'little', signed=True)", "__index__()", "conjugate()", "real", "imag", "numerator", "denominator", "as_integer_ratio()", "__round__(-1)", "__floordiv__(0)", "__truediv__(3)", "__pow__(2, 5)", "bit_count()", "__neg__()", "__abs__()", "from_bytes(b'ab', 'big')"],
 "float": ["is_integer()", "as_integer_ratio()", "hex()", "__round__(1)", "__floor__()", "__ceil__()", "__trunc__()", "real", "__mod__(0.0)", "__divmod__(2)", "fromhex('0x1.8p1')", "__pow__(0.5)", "conjugate()"],
 "set": ["union({9})", "intersection([1])", "difference((2,))", "symmetric_difference({1, 5})", "issubset({1, 2, 3})", "isdisjoint([])", "copy()", "__len__()", "__contains__(1)", "issuperset([1])", "__or__({4})", "__and__([1])"],
 "dict": ["get('a')", "get('z', 0)", "keys()", "values()", "items()", "copy()", "__len__()", "setdefault('q', 5)", "pop('a', None)", "fromkeys([1, 2])", "__or__({'z': 1})"],
}
def atom(d=0):
    r = R.random()
    if d < 2 and r < 0.25:
        return f"({expr(d+1)})"
    return R.choice(atoms)
def expr(d=0):
    r = R.random()
    if d > 2: return atom(d)
    if r < 0.35:
        return f"{atom(d)} {R.choice(binops)} {atom(d)}"
    if r < 0.6:
        f = R.choice(funcs)
        k = R.choice([1, 1, 1, 2])
        return f"{f}({', '.join(atom(d) for _ in range(k))})"
    if r < 0.8:
        kind = R.choice(list(methods))
        base = {"bytes": R.choice(["b'abc'", "b''", "b' a b '", "bytearray(b'xab')"]), "int": R.choice(["0", "7", "-300", "2**40", "True", "255"]), "float": R.choice(["0.5", "-2.75", "1e20", "float('inf')", "float('nan')", "3.0", "-0.0"]), "set": R.choice(["{1, 2}", "set()", "frozenset({1, 3})"]), "str": R.choice(["'abc'", "'a,b,,c'", "' x Y z '", "'ÄéΩ'", "'12'", "''"]), "list": R.choice(["[1, 2, 3]", "[]", "['b', 'a']", "[1, [2]]"]), "dict": R.choice(["{'a': 1}", "{}", "{'a': [1], 'b': 2}"])}[kind]
        base = "(" + base + ")"
        return f"{base}.{R.choice(methods[kind])}"
    if r < 0.82:
        a, b = atom(d), atom(d)
        forms = ["sorted(%s, key=repr)" % a, "sorted(%s, reverse=True)" % a, "max(%s, default='d')" % a,
                 "min(%s, %s, key=repr)" % (a, b), "list(map(repr, %s))" % a, "dict(zip(%s, %s))" % (a, b),
                 "{**%s, **%s}" % (a, b), "[*%s, *%s]" % (a, b), "(%s if %s else %s)" % (a, b, atom(d)),
                 "'{}|{!r}'.format(%s, %s)" % (a, b), "f'{%s!r:>12}'" % a, "f'{%s}'" % a, "'-'.join(%s)" % a,
                 "{*%s}" % a, "list(enumerate(%s, 1))" % a, "list(reversed(%s))" % a, "%s[::2]" % a,
                 "%s[1:-1]" % a, "len(%s)" % a, "str(%s)" % a, "hash(%s) == hash(%s)" % (a, a),
                 "isinstance(%s, (int, str))" % a, "issubclass(type(%s), object)" % a, "any(%s)" % a,
                 "sum(%s, start=0)" % a, "list(filter(None, %s))" % a, "tuple(%s) + tuple(%s)" % (a, b),
                 "%s.__class__.__name__" % a, "getattr(%s, 'real', 'none')" % a, "bool(%s) and %s" % (a, b)]
        return R.choice(forms)
    if r < 0.85:
        spec = R.choice(['', 'd', '5d', '<5', '^7', '>+8', '+', ',', '_', '.2f', '.3e', '%', 'x', '#x', 'X', 'o', '#o', 'b', '#b', 'c', 'g', '.0g', '010.3f', 's', '.1%', '=+9', '08.2f', '*^10', ',.2f', '.3', '10', '-', ' ', '#.0f', 'n', 'E', 'G', '.10g'])
        if R.random() < 0.5:
            return "format(" + atom(d) + ", " + repr(spec) + ")"
        conv = R.choice(['%s', '%r', '%d', '%5d', '%-5d', '%05d', '%x', '%X', '%#x', '%o', '%e', '%.2f', '%g', '%c', '%%', '%5.1f', '%+d', '% d', '%a', '%i', '%u', '%10s', '%-10r'])
        return repr(conv) + " % " + atom(d)
        idx = R.choice(['0', '-1', '1:', '::-1', ':2', 'slice(None, None, 2)', "'a'", '5'])
        return atom(d) + "[" + idx + "]"
    return f"-{atom(d)}" if R.random() < 0.5 else f"not {atom(d)}"
print(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'prelude.py')).read())
print("def show(src):")
print("    try:")
print("        v = eval(src)")
print("        if type(v).__name__ in ('list_reverseiterator','reversed','enumerate','zip','map','filter','list_iterator','tuple_iterator','range_iterator','str_ascii_iterator','str_iterator','set_iterator','dict_keyiterator','bytes_iterator'): v = ('iter', list(v))")
print("        r = repr(v)")
print("        if ' at 0x' in r: r = type(v).__name__")
print("        if isinstance(v, (set, frozenset)) and len(v) > 1: r = type(v).__name__ + repr(sorted(v, key=repr))")
print("        print(src, '->', r[:200])")
print("    except Exception as e:")
print("        print(src, '!!', type(e).__name__, str(e)[:200])")
seen = set()
for i in range(n):
    e = expr()
    if e in seen: continue
    seen.add(e)
    print(f"show({e!r})")
