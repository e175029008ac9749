# loops: nested integer while/for loops with arithmetic.
# loops.py and loops.conc hold identical code; scripts/bench runs both
# and checks they print the same checksum line.
# Ints stay far below 2**62 (Conc ints are 64-bit).

MOD = 1000000007

acc = 0
i = 0
while i < 600:
    j = 0
    while j < 600:
        acc = (acc * 31 + i * j + (i ^ j)) % MOD
        j += 1
    i += 1

total = 0
for a in range(350):
    for b in range(a, a + 350):
        x = a * b
        if x % 3 == 0:
            total += x // 3
        elif x % 3 == 1:
            total -= b
        else:
            total += (x & 255) | 1

count = 0
n = 2
while n < 80000:
    k = n
    steps = 0
    while k != 1 and steps < 60:
        if k % 2 == 0:
            k = k // 2
        else:
            k = 3 * k + 1
        steps += 1
    count += steps
    n += 1

print("loops", acc, total, count)
