"""Geometry primitives; the public names are re-exported here."""

from .polygon import Polygon
from .vector import Vector, dot

__all__ = ["Polygon", "Vector", "dot"]
