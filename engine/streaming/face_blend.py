"""The face's values as VMC blend shape messages: `/VMC/Ext/Blend/Val` (name, value) for each
expression, then one `/VMC/Ext/Blend/Apply`. Each value goes out under its VRM 0.x preset name,
its VRM 1.0 expression name and, where one exists, its ARKit (perfect sync) name; a receiver
applies the names its avatar has and ignores the others. docs/STREAMING.md lists them.
"""

from __future__ import annotations

import numpy as np
from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from engine.motion.face_expressions import FACE_INDEX

BLEND_VALUE_ADDRESS = "/VMC/Ext/Blend/Val"
BLEND_APPLY_ADDRESS = "/VMC/Ext/Blend/Apply"
LOOK_FULL_DEG = 20.0  # the gaze angle at which a Look expression is full
# expression name -> how its value comes from the face's values (FACE_CURVES)
_FROM = {
    "blink_left": ("Blink_L", "blinkLeft", "eyeBlinkLeft"),
    "blink_right": ("Blink_R", "blinkRight", "eyeBlinkRight"),
    "mouth_a": ("A", "aa"), "mouth_i": ("I", "ih"), "mouth_u": ("U", "ou"), "mouth_e": ("E", "ee"),
    "mouth_o": ("O", "oh"),
    "mouth_open": ("jawOpen",),
    "brow_down_left": ("browDownLeft",), "brow_down_right": ("browDownRight",),
    "brow_up_left": ("browOuterUpLeft",), "brow_up_right": ("browOuterUpRight",),
}


def blend_values(face: np.ndarray) -> dict[str, float]:
    """Every expression name -> its value 0-1; all 0 (the neutral face) when `face` is not finite."""
    names = [n for aliases in _FROM.values() for n in aliases] + [
        "browInnerUp", "LookUp", "lookUp", "LookDown", "lookDown", "LookLeft", "lookLeft", "LookRight", "lookRight"]
    if not np.isfinite(face).all():
        return {n: 0.0 for n in names}
    out = {}
    for curve, aliases in _FROM.items():
        for name in aliases:
            out[name] = float(np.clip(face[FACE_INDEX[curve]], 0.0, 1.0))
    out["browInnerUp"] = float(np.clip(0.5 * (face[FACE_INDEX["brow_up_left"]] + face[FACE_INDEX["brow_up_right"]]), 0, 1))
    yaw, pitch = face[FACE_INDEX["gaze_yaw_deg"]] / LOOK_FULL_DEG, face[FACE_INDEX["gaze_pitch_deg"]] / LOOK_FULL_DEG
    for names, value in ((("LookUp", "lookUp"), -pitch), (("LookDown", "lookDown"), pitch),
                         (("LookLeft", "lookLeft"), yaw), (("LookRight", "lookRight"), -yaw)):
        for name in names:
            out[name] = float(np.clip(value, 0.0, 1.0))
    return out


def add_blend_messages(bundle: OscBundleBuilder, face: np.ndarray) -> None:
    for name, value in blend_values(face).items():
        msg = OscMessageBuilder(BLEND_VALUE_ADDRESS)
        msg.add_arg(name, OscMessageBuilder.ARG_TYPE_STRING)
        msg.add_arg(value, OscMessageBuilder.ARG_TYPE_FLOAT)
        bundle.add_content(msg.build())
    bundle.add_content(OscMessageBuilder(BLEND_APPLY_ADDRESS).build())
