from .. import a
from ..b import NAME
from . import sibling
TOTAL = a.VALUE + sibling.ONE
