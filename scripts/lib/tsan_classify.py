#!/usr/bin/env python3
"""Sorts ThreadSanitizer reports (one file per program, from scripts/tsan) into the
copy-on-write hand-off pattern and everything else, and prints the others' first frames.

The pattern (docs/thread-safety.md): both racing accesses are inside Swift's own Array
code on a buffer allocated by the Swift runtime. One unit read a copy-on-write snapshot of
a container outside the lock and dropped it; later another unit, holding the container's
lock, found the buffer uniquely referenced and changed it in place. The two are ordered by
the buffer's reference count (an atomic release in swift_release, then the uniqueness
check), which TSan cannot see because the Swift runtime is not instrumented.
"""
import glob
import os
import re
import sys

ARRAY = re.compile(r"\$s(Sa|s22_ContiguousArray|Sl|SM|ST|SK|Sm|SayxG|s16IndexingIterator)")
folder = sys.argv[1] if len(sys.argv) > 1 else ".build-tsan/reports"
total = pattern = 0
others = []
for path in sorted(glob.glob(os.path.join(folder, "*.txt"))):
    for report in open(path, errors="replace").read().split("WARNING: ThreadSanitizer")[1:]:
        report = report.split("SUMMARY:")[0]
        total += 1
        tops = re.findall(r"\n    #0 (\S+)", report)[:2]
        # A frame of our own inlined into Array code still shows Array code at #0 or #1.
        seconds = re.findall(r"\n    #1 (\S+)", report)[:2]
        in_array = [bool(ARRAY.match(t)) or bool(ARRAY.match(s)) for t, s in zip(tops, seconds)]
        if len(in_array) == 2 and any(in_array) and "swift_slowAlloc" in report:
            pattern += 1
        else:
            others.append((os.path.basename(path), tops))
print(f"tsan: {total} reports, {pattern} of the copy-on-write hand-off pattern, {len(others)} others")
for name, tops in others[:20]:
    print(f"  {name}: {' / '.join(tops)}")
