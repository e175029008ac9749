# The same CPU-bound function twice, one after the other (compare with cpu_threads).
def spin(n):
    s = 0
    for i in range(n):
        s += i % 7
    return s
print(spin(3000000) + spin(3000000))
