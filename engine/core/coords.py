"""The one place Monocap's coordinate frames are defined.

World frame (takes, exports, the 3D view): right-handed, metres, Y up. Seen from the camera,
X points to the camera's right and Z points back towards the camera; the ground plane is y = 0.

Camera frame (the detector, intrinsics, root estimation): OpenCV's, x right, y down, z forward.

With the camera level, a camera-frame point (x, y, z) is at world (x, -y, -z) relative to the
camera; `camera_to_world` applies that and a vertical shift that puts the floor at y = 0.
"""

from __future__ import annotations

import numpy as np

CAMERA_TO_WORLD = np.diag([1.0, -1.0, -1.0])


def camera_to_world(points_cam: np.ndarray, floor_offset_m: float = 0.0) -> np.ndarray:
    """(..., 3) camera-frame metres -> (..., 3) world metres, lifted by `floor_offset_m`."""
    world = points_cam @ CAMERA_TO_WORLD.T
    world[..., 1] += floor_offset_m
    return world
