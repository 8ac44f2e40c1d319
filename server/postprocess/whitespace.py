"""The completion's first characters must fit where the cursor is."""

from __future__ import annotations

_NO_SPACE_AFTER = (".", "(", "[")


def trim_leading_whitespace(completion: str, prefix: str) -> str:
    """No blank run at the start when the cursor's line already ends in the whitespace the
    user typed (indentation, the space after ``=``), nor right after ``.``, ``(`` or
    ``[``. A newline stays: it is the model's choice of a new line."""
    line = prefix.rpartition("\n")[2]
    if not line:
        return completion
    if line[-1] in " \t" or line.endswith(_NO_SPACE_AFTER):
        return completion.lstrip(" \t")
    return completion
