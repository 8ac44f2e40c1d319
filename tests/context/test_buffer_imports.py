"""The imports of an unsaved Python buffer, read from its import lines only."""

from __future__ import annotations

from server.context.buffer import buffer_imports

BUFFER = '''

"""Module doc.

    from doc.example import NotAnImport
"""
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .console import (
        Console,
        RenderableType,
    )

try:
    from .fast import speedup
except ImportError:
    speedup = None


def f():
    from .local import helper \\
        as h
    return h
'''


def test_nested_multiline_and_doc_example_imports() -> None:
    got = [(r.local_name, r.module, r.line) for r in buffer_imports("pkg/mod.py", BUFFER)]
    assert got == [
        ("os", "os", 7),
        ("TYPE_CHECKING", "typing", 8),
        ("Console", ".console", 11),
        ("RenderableType", ".console", 11),
        ("speedup", ".fast", 17),
        ("h", ".local", 23),
    ]
