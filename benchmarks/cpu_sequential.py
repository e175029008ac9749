# The same CPU-bound function twice, one after the other (compare with cpu_threads).
def spin(n):
    s = 0
    for i in range(n):
        s += i % 7
    return s
print(spin(10000000) + spin(10000000))
