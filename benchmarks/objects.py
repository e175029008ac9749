# objects: class creation with __init__ setting attributes, method calls,
# attribute reads/writes, and a small inheritance chain using super().
# objects.py and objects.conc hold identical code; scripts/bench runs both
# and checks they print the same checksum line.


class Vec:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def add(self, other):
        return Vec(self.x + other.x, self.y + other.y)

    def dot(self, other):
        return self.x * other.x + self.y * other.y

    def scale(self, k):
        self.x = self.x * k
        self.y = self.y * k
        return self


class Shape:
    def __init__(self, name):
        self.name = name
        self.moves = 0

    def area(self):
        return 0

    def describe(self):
        return len(self.name) + self.area()

    def move(self, dx):
        self.moves += dx
        return self.moves


class Rect(Shape):
    def __init__(self, name, w, h):
        super().__init__(name)
        self.w = w
        self.h = h

    def area(self):
        return self.w * self.h


class Square(Rect):
    def __init__(self, side):
        super().__init__("square", side, side)
        self.side = side

    def area(self):
        return super().area() + 1

    def describe(self):
        return super().describe() * 2


class Counter:
    def __init__(self):
        self.count = 0
        self.total = 0

    def bump(self, v):
        self.count += 1
        self.total += v


def run(n):
    c = Counter()
    acc = Vec(0, 0)
    for i in range(n):
        v = Vec(i % 10, i % 7)
        acc = acc.add(v)
        c.bump(v.dot(acc) % 1000)
        if i % 3 == 0:
            s = Square(i % 9)
        elif i % 3 == 1:
            s = Rect("rect", i % 5, i % 11)
        else:
            s = Shape("shape")
        c.bump(s.describe())
        s.move(i % 4)
        c.total += s.moves + len(s.name)
        if i % 1000 == 0:
            acc.scale(0)
    return c.count + c.total + acc.x + acc.y


total = 0
for rnd in range(8):
    total += run(60000 + rnd)
print("objects", total)
