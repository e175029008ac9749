class A:
    def __init__(self): self.v = 3
    def __repr__(self): return "A<%d>" % self.v
    def __eq__(self, o): return isinstance(o, A) and o.v == self.v
    def __hash__(self): return hash(self.v)
    def __lt__(self, o): return isinstance(o, A) or NotImplemented
    def __add__(self, o): return "A+" + type(o).__name__
    def __mul__(self, o): return NotImplemented
    def __len__(self): return 2
    def __getitem__(self, i):
        if isinstance(i, int) and i < 2: return i * 10
        raise IndexError(i)
class N:
    def __index__(self): return 2
    def __repr__(self): return "N"
class B:
    def __bool__(self): return False
    def __len__(self): return 3
    def __repr__(self): return "B"
class It:
    def __iter__(self): return iter([1, 2])
    def __repr__(self): return "It"
class G:
    def __getitem__(self, i):
        if i < 3: return i
        raise IndexError
    def __repr__(self): return "G"
class Eq:
    def __eq__(self, o): return True
    def __hash__(self): return 1
    def __repr__(self): return "Eq"
class R:
    def __radd__(self, o): return "radd"
    def __rsub__(self, o): return NotImplemented
    def __rlt__(self, o): return True
    def __gt__(self, o): return "gt"
    def __repr__(self): return "R"
class S(str):
    def __repr__(self): return "S(" + str.__repr__(self) + ")"
class I(int):
    def __add__(self, o): return "I+"
class L(list):
    def __len__(self): return 99
class F:
    def __float__(self): return 2.5
    def __repr__(self): return "F"
class Fmt:
    def __format__(self, spec): return "fmt:" + spec.upper()
    def __str__(self): return "str-Fmt"
    def __repr__(self): return "repr-Fmt"
class NoImpl:
    def __add__(self, o): return NotImplemented
    def __lt__(self, o): return NotImplemented
    def __eq__(self, o): return NotImplemented
    def __repr__(self): return "NoImpl"
class D(dict):
    def __missing__(self, k): return "missing:" + repr(k)
class T(tuple):
    pass
