# One producer process -> the consumer (main) over multiprocessing.Queue, 50k items.
import multiprocessing
N = 50000
def producer(q):
    for i in range(N):
        q.put(i)
    q.put(None)
if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    q = multiprocessing.Queue()
    p = multiprocessing.Process(target=producer, args=(q,))
    p.start()
    total = 0
    while True:
        x = q.get(timeout=60)
        if x is None:
            break
        total += x
    p.join()
    print(total)
