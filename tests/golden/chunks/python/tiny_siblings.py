import math


def area(r):
    return math.pi * r * r


def double(x):
    return 2 * x


def half(x):
    return x / 2


def square(x):
    return x * x


ZERO = 0
ONE = 1


def describe(shape, size, unit="cm", precision=2, verbose=False):
    """Describe a shape with its area and perimeter in the given unit."""
    value = round(area(size), precision)
    text = f"{shape} of size {size}{unit} has area {value}{unit}^2"
    if verbose:
        text += f" (computed with pi={math.pi:.5f} and precision {precision})"
    return text
