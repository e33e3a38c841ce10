"""A live pose that glides, not jumps, when its source changes between the triangulated views and the
first camera alone.

The two place one body at different depths: the views measure it through the calibration, the first
camera alone guesses it from its detector's idea of the body's size (about 10-15 % apart). When the
source changes, the difference is carried and fades out over HANDOVER_S: the new pose is scaled about
the first camera's centre (along its rays, so it still lies on the keypoints that camera saw) and
shifted by what the scale leaves, so its root starts where the last pose's root was; scale and shift
fade linearly to none, and from then on the pose is its source's own (the triangulated one while the
views see the person). Causal: each pose depends on the poses before it alone.
"""

from __future__ import annotations

import numpy as np

HANDOVER_S = 0.4  # seconds over which a change of source fades out


class Handover:
    """One call per pose, camera axes of the first camera: (root-relative joints, root) in and out."""

    def __init__(self, fade_s: float = HANDOVER_S):
        self.fade_s = fade_s
        self._source: str | None = None
        self._last: tuple[np.ndarray, float] | None = None  # the root given last, and when
        self._scale, self._shift, self._since = 1.0, np.zeros(3), None

    def __call__(self, rel: np.ndarray, root: np.ndarray, source: str,
                 timestamp_s: float) -> tuple[np.ndarray, np.ndarray]:
        recent = self._last is not None and timestamp_s - self._last[1] <= self.fade_s
        if not recent:
            self._since = None  # the person was lost for a while: nothing to glide from
        elif source != self._source:
            before = self._last[0]
            depth = float(np.linalg.norm(root))
            scale = float(np.linalg.norm(before)) / depth if depth > 1e-6 else 1.0
            self._scale, self._shift, self._since = scale, before - scale * root, timestamp_s
        self._source = source
        weight = self.weight(timestamp_s)
        if weight > 0.0:
            scale = 1.0 + (self._scale - 1.0) * weight
            rel, root = rel * scale, root * scale + self._shift * weight
        self._last = (np.asarray(root, float), timestamp_s)
        return rel, root

    def weight(self, timestamp_s: float) -> float:
        """How much of the last change of source is still carried: 1 at the change, 0 after fade_s."""
        if self._since is None or self.fade_s <= 0:
            return 0.0
        return max(0.0, 1.0 - (timestamp_s - self._since) / self.fade_s)
