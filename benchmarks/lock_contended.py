# Two threads, 200k lock-protected increments each.
import threading
l = threading.Lock()
counter = 0
def worker(n):
    global counter
    for i in range(n):
        with l:
            counter += 1
ts = [threading.Thread(target=worker, args=(200000,)) for _ in range(2)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(counter)
