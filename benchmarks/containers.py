# containers: list and dict building and lookup (append, index,
# dict insert/get/in, list comprehension, iteration, sorting).
# containers.py and containers.conc hold identical code; scripts/bench runs both
# and checks they print the same checksum line.


def build_list(n):
    items = []
    for i in range(n):
        items.append((i * 7919) % 10007)
    return items


def index_sum(items):
    s = 0
    n = len(items)
    i = 0
    while i < n:
        s += items[i] * (i % 5)
        i += 1
    return s


def build_dict(items):
    d = {}
    for i in range(len(items)):
        key = items[i]
        if key in d:
            d[key] = d[key] + i
        else:
            d[key] = i
    return d


def lookup(d, n):
    hits = 0
    misses = 0
    for k in range(n):
        v = d.get(k)
        if v is None:
            misses += 1
        else:
            hits += v % 13
        if k * 2 in d:
            hits += 1
    return hits * 1000 + misses


def comprehensions(items):
    squares = [x * x for x in items if x % 2 == 0]
    pairs = {x: x + 1 for x in items[:500]}
    nested = [a + b for a in range(60) for b in range(60)]
    return len(squares) + sum(squares) % 1000003 + len(pairs) + sum(nested)


def string_keys(n):
    counts = {}
    words = ["alpha", "beta", "gamma", "delta", "epsilon"]
    for i in range(n):
        w = words[i % 5]
        counts[w] = counts.get(w, 0) + 1
    keys = sorted(counts.keys())
    return sum([counts[k] * (j + 1) for j, k in enumerate(keys)])


checksum = 0
for rnd in range(80):
    items = build_list(20000 + rnd)
    checksum += index_sum(items)
    d = build_dict(items)
    checksum += lookup(d, 12000)
    checksum += comprehensions(items)
    checksum += string_keys(10000)
    stack = []
    for x in items[:5000]:
        stack.append(x)
        if x % 3 == 0:
            stack.pop()
    checksum += len(stack) + stack[-1] + stack.index(stack[len(stack) // 2])
    checksum = checksum % 1000000000039
print("containers", checksum)
