# fib: recursive function calls, integer addition and comparison.
# fib.py and fib.conc hold identical code; scripts/bench runs both
# and checks they print the same checksum line.

def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


total = 0
rounds = 3
for r in range(rounds):
    for n in range(27, 31):
        total += fib(n) + r
print("fib", total)
