# A package written in Python: its own modules are .py files, reached by relative imports.
from .a import VALUE
from . import b
