# One million uncontended `with lock` blocks.
import threading
l = threading.Lock()
n = 0
for i in range(1000000):
    with l:
        n += 1
print(n)
