# One producer thread -> one consumer (main) over queue.Queue, 200k items.
import queue, threading
q = queue.Queue()
N = 200000
def producer():
    for i in range(N):
        q.put(i)
    q.put(None)
threading.Thread(target=producer).start()
total = 0
while True:
    x = q.get()
    if x is None:
        break
    total += x
print(total)
