"""A small module: imports, constants, functions and a small class."""

from __future__ import annotations

import os.path
from collections import OrderedDict as OD

from .helpers import clean, parse as p
from ..base import *

MAX_DEPTH = 8
registry: dict[str, int] = {}


def load(path: str) -> str:
    """Read a file and clean it."""
    with open(path) as handle:
        text = handle.read()
    return clean(text)


# Memoised because parsing is slow.
@functools.cache
def parsed(path: str) -> object:
    return p(load(path))


class Config:
    """Settings read from disk."""

    def __init__(self, root: str) -> None:
        self.root = root

    def path(self, name: str) -> str:
        return os.path.join(self.root, name)
