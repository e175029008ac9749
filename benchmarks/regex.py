# regex: compile once, then search, findall, finditer, sub with a template and
# with a function, and split over a 300 KB log. regex.py and regex.conc hold identical
# code; scripts/bench runs both and checks they print the same checksum line.
import re

LINE = "2024-06-01 12:00:{:02d} INFO user{} logged in from 10.0.{}.{} after {} ms\n"
text = "".join(LINE.format(i % 60, i % 97, i % 256, i % 13, i * 7 % 1000) for i in range(4000))
ip = re.compile(r"\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b")
user = re.compile(r"user(?P<id>\d+)")
total = 0
for _ in range(20):
    total += len(ip.findall(text))
    total += sum(int(m.group("id")) for m in user.finditer(text))
    total += len(re.sub(r"\d+ ms", "<t>", text))
    total += len(user.sub(lambda m: m.group("id"), text[:20000]))
    total += len(re.split(r"\s+", text))
    total += 1 if re.search(r"user96 .* 99\d ms", text) else 0
print(total)
