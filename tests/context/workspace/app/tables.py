"""Tables of numbers, formatted."""


def format_rows(rows: list[tuple[str, float]]) -> str:
    """Aligned text columns: one row per entry."""
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  {size:>10.2f}" for name, size in rows]
    return "\n".join(lines)


def total(rows: list[tuple[str, float]]) -> float:
    return sum(size for _, size in rows)
