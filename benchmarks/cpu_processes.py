# The CPU-bound function of cpu_sequential, twice at once in 2 processes.
import multiprocessing
def spin(n):
    s = 0
    for i in range(n):
        s += i % 7
    return s
if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    with multiprocessing.Pool(2) as pool:
        a = pool.apply_async(spin, (10000000,))
        b = pool.apply_async(spin, (10000000,))
        print(a.get() + b.get())
