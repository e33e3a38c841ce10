"""Monocap's world is Y up (metres); pyqtgraph's GL scene is Z up. `to_gl` is the one place that
maps between them: world (x, y, z) -> GL (x, -z, y), so the ground y = 0 is GL's z = 0 plane and
the default camera looks from where the real camera was (world +Z, GL -Y)."""

from __future__ import annotations

import numpy as np


def to_gl(points_world: np.ndarray) -> np.ndarray:
    """(..., 3) Monocap world (Y up) -> (..., 3) pyqtgraph GL (Z up): (x, y, z) -> (x, -z, y)."""
    p = np.asarray(points_world, dtype=np.float64)
    return np.stack([p[..., 0], -p[..., 2], p[..., 1]], axis=-1)
