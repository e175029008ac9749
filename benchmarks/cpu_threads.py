# The same CPU-bound function twice, in two threads at once (compare with cpu_sequential).
import threading
out = [0, 0]
def spin(n, k):
    s = 0
    for i in range(n):
        s += i % 7
    out[k] = s
ts = [threading.Thread(target=spin, args=(10000000, k)) for k in range(2)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(out[0] + out[1])
