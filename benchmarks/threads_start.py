# Start 4000 threads (in waves of 200), then join them all.
import threading

results = []
def work(i):
    results.append(i * 2)

total = 0
for wave in range(20):
    ts = [threading.Thread(target=work, args=(i,)) for i in range(200)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
total = sum(results)
print(total)
