"""Two-dimensional vectors."""

import math


class Vector:
    """An immutable 2-D vector."""

    def __init__(self, x: float, y: float) -> None:
        self.x = x
        self.y = y

    def length(self) -> float:
        return math.hypot(self.x, self.y)

    def scaled(self, factor: float) -> "Vector":
        return Vector(self.x * factor, self.y * factor)


def dot(a: Vector, b: Vector) -> float:
    """The dot product of two vectors."""
    return a.x * b.x + a.y * b.y


def cross(a: Vector, b: Vector) -> float:
    """The z component of the cross product."""
    return a.x * b.y - a.y * b.x
