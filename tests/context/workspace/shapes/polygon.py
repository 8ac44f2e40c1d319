"""Closed polygons made of vectors."""

from .vector import Vector, cross


class Polygon:
    """A simple polygon given by its corners in order."""

    def __init__(self, corners: list[Vector]) -> None:
        self.corners = corners

    def area(self) -> float:
        """Shoelace formula."""
        total = 0.0
        n = len(self.corners)
        for i in range(n):
            total += cross(self.corners[i], self.corners[(i + 1) % n])
        return abs(total) / 2.0

    def perimeter(self) -> float:
        n = len(self.corners)
        return sum((self.corners[(i + 1) % n].scaled(-1.0)).length() for i in range(n))
