"""Stored chunk vectors held in memory as int8 codes with one float32 scale per row.

Why: a reader (the language server's index snapshot and context view) scores every stored
vector against a query at each completion, and 80,000 MiniLM vectors are 124 MB as float32
but 31 MB as int8. Each row's scale is its largest magnitude / 127, so a code's rounding
error is at most half a step: a score (dot product of unit vectors) moves by less than
~0.002, far below what the embedding's own precision moves it (bfloat16 vectors are within
a cosine of 0.998 of float32 ones). Scoring casts the codes block by block inside
``einsum`` (no float32 copy of the matrix), ~1.8x the float32 product's time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_STEPS = 127.0


@dataclass(frozen=True, slots=True)
class Int8Rows:
    """``n`` vectors of ``dim`` floats: ``codes[i] * scale[i]`` is row ``i``."""

    codes: np.ndarray  # (n, dim) int8
    scale: np.ndarray  # (n,) float32

    @classmethod
    def empty(cls, dim: int = 0) -> Int8Rows:
        return cls(np.zeros((0, dim), dtype=np.int8), np.zeros(0, dtype=np.float32))

    @classmethod
    def quantize(cls, rows: np.ndarray) -> Int8Rows:
        rows = np.asarray(rows, dtype=np.float32)
        codes = np.empty(rows.shape, dtype=np.int8)
        scale = np.empty(len(rows), dtype=np.float32)
        fill(codes, scale, 0, rows)
        return cls(codes, scale)

    @classmethod
    def stack(cls, parts: Sequence[Int8Rows]) -> Int8Rows:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        return cls(np.vstack([p.codes for p in parts]), np.concatenate([p.scale for p in parts]))

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def size(self) -> int:
        return int(self.codes.size)

    @property
    def nbytes(self) -> int:
        return int(self.codes.nbytes + self.scale.nbytes)

    def __getitem__(self, i: int) -> np.ndarray:
        """Row ``i`` as float32."""
        return self.codes[i].astype(np.float32) * self.scale[i]

    def scores(self, q: np.ndarray) -> np.ndarray:
        """Every row's dot product with ``q`` (float32). einsum, not BLAS: waking BLAS
        threads between keystrokes costs ~10 ms on a loaded machine."""
        return np.einsum("ij,j->i", self.codes, q.astype(np.float32)) * self.scale


def fill(codes: np.ndarray, scale: np.ndarray, at: int, rows: np.ndarray) -> None:
    """Quantize float32 ``rows`` into ``codes[at:]`` and ``scale[at:]`` (in place)."""
    top = np.abs(rows).max(axis=1) if rows.size else np.zeros(len(rows), dtype=np.float32)
    s = np.where(top > 0, top / _STEPS, 1.0).astype(np.float32)
    scale[at : at + len(rows)] = s
    codes[at : at + len(rows)] = np.rint(rows / s[:, None])
