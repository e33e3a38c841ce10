"""Lengths at the program's edges: metres inside, and the units files are read and written in."""

from __future__ import annotations

from typing import Iterable

# Metres in one unit; "cmu" is the CMU ASF unit (1/0.45 inch), found in BVH files made from it.
METRES_PER_UNIT = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": 0.0254, "ft": 0.3048, "cmu": 0.0254 / 0.45}


def units_per_metre(units: Iterable[str]) -> dict[str, float]:
    """{unit: how many of it make one metre} for `units`, in their order (the multipliers a writer
    scales metres by)."""
    return {u: 1.0 / METRES_PER_UNIT[u] for u in units}
