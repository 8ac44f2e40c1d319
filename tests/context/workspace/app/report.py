"""Reports about shapes, printed for people."""

from shapes import Polygon
from shapes.vector import Vector, dot


def describe(name: str, size: float) -> str:
    """One line about a shape."""
    label = name.strip().title()
    if size <= 0:
        return f"{label}: empty"
    if size < 1:
        return f"{label}: small ({size:.2f})"
    if size < 100:
        return f"{label}: medium ({size:.1f})"
    return f"{label}: large ({size:.0f})"


def square(side: float) -> Polygon:
    corners = [Vector(0, 0), Vector(side, 0), Vector(side, side), Vector(0, side)]
    return Polygon(corners)


def alignment(a: Vector, b: Vector) -> float:
    return dot(a, b) / (a.length() * b.length())


def summary_table(rows: list[tuple[str, float]]) -> str:
    """Aligned text columns: one row per shape."""
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  {size:>10.2f}" for name, size in rows]
    return "\n".join(lines)
