"""Opening the sample clip draws a skeleton in the 3D view (read back from the GL framebuffer)."""

import numpy as np

from app.view3d import CENTRE_RGBA, LEFT_RGBA, RIGHT_RGBA


def _rgb(qimage):
    img = qimage.convertToFormat(qimage.Format.Format_RGB888)
    w, h = img.width(), img.height()
    buf = np.frombuffer(img.constBits(), np.uint8, count=img.bytesPerLine() * h).reshape(h, img.bytesPerLine())
    return buf[:, : w * 3].reshape(h, w, 3).astype(int)


def _near_colour(rgb, xy, colours, radius=3, tol=40):
    x, y = int(round(xy[0])), int(round(xy[1]))
    h, w = rgb.shape[:2]
    if not (0 <= x < w and 0 <= y < h):
        return False
    patch = rgb[max(0, y - radius): y + radius + 1, max(0, x - radius): x + radius + 1].reshape(-1, 3)
    return any((np.abs(patch - np.array(c)).max(axis=1) <= tol).any() for c in colours)


def test_sample_clip_draws_bones_in_3d_view(window, qtbot):
    view = window.view3d
    bone_colours = [tuple(int(255 * v) for v in c[:3]) for c in (LEFT_RGBA, RIGHT_RGBA, CENTRE_RGBA)]
    window.open_sample()
    qtbot.waitUntil(lambda: view.last_joints_m is not None and window.frames_rendered >= 5, timeout=30000)
    window.stop_source()
    qtbot.waitUntil(lambda: not window.source_running, timeout=5000)
    joints = view.last_joints_m
    skeleton = view.skeleton
    qtbot.wait(50)
    rgb = _rgb(view.grabFramebuffer())
    # the midpoint of every bone projects onto a pixel drawn in a bone colour
    mids = np.array([(joints[a] + joints[b]) / 2 for a, b in skeleton.edges])
    hits = [_near_colour(rgb, xy, bone_colours) for xy in view.project(mids)]
    assert np.mean(hits) >= 0.8, f"bone colour found at {sum(hits)} of {len(hits)} bone midpoints"
    # and the same places are background when the skeleton is cleared (the check can fail)
    view.clear_pose()
    view.clear_trails()
    qtbot.wait(50)
    empty = _rgb(view.grabFramebuffer())
    misses = [_near_colour(empty, xy, bone_colours[:2], radius=1, tol=30) for xy in view.project(mids)]
    assert sum(misses) <= 2
    # the image view shows the clip with its size
    assert window.last_frame is not None and window.last_frame.frame.image.shape == (360, 640, 3)
