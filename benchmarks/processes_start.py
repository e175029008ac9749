# Start 200 processes (in waves of 20), then join them all.
import multiprocessing

def work(i):
    return i * 2

if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    total = 0
    for wave in range(10):
        ps = [multiprocessing.Process(target=work, args=(i,)) for i in range(20)]
        for p in ps:
            p.start()
        for p in ps:
            p.join()
            total += p.exitcode
    print(total)
