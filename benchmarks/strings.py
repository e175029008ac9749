# strings: f-string and % formatting, str.format, join, split,
# concatenation and common str methods.
# strings.py and strings.conc hold identical code; scripts/bench runs both
# and checks they print the same checksum line.


def fmt_lines(n):
    out = []
    for i in range(n):
        ratio = i / 7
        out.append(f"row {i:5d} | {ratio:8.3f} | {i % 97!r} | {'x' * (i % 4)}")
        out.append("item %d of %s: %5.2f%%" % (i, "total", ratio))
        out.append("{0}-{1:>6}".format(i, "pad"))
    return out


def checksum_text(text):
    h = 0
    for ch in text:
        h = (h * 131 + ord(ch)) % 1000000007
    return h


def word_stats(lines):
    words = " ".join(lines).split()
    counts = {}
    for w in words:
        w = w.strip("|:%").lower()
        if w:
            counts[w] = counts.get(w, 0) + 1
    return len(words), len(counts)


def transform(n):
    total = 0
    s = ""
    for i in range(n):
        s += str(i)
        if len(s) > 60:
            total += len(s.upper()) + s.count("1") + s.find("99")
            parts = s.split("5")
            total += len(parts) + len("_".join(parts))
            t = s.replace("0", "zero")
            if t.startswith("zero") or t.endswith("9"):
                total += 1
            total += len(t.strip("z")) + len(t.lower().lstrip("zero"))
            s = s[len(s) // 2:]
    return total


def csv_roundtrip(n):
    rows = []
    for i in range(n):
        rows.append(",".join([str(i), "name%d" % i, f"{i * 0.5:.1f}", "ok"]))
    text = "\n".join(rows)
    acc = 0
    for line in text.split("\n"):
        fields = line.split(",")
        acc += int(fields[0]) + len(fields[1]) + int(float(fields[2]))
        if fields[3].isalpha() and fields[1].isalnum():
            acc += 1
    return acc


total = 0
for rnd in range(16):
    lines = fmt_lines(6000)
    total += checksum_text(lines[rnd * 7]) + len(lines)
    nw, nd = word_stats(lines)
    total += nw + nd
    total += transform(20000)
    total += csv_roundtrip(8000)
    total += checksum_text("".join(lines[:400]))
print("strings", total)
