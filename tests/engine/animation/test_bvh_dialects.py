"""BVH as other tools write it: spacing, line ends, channel spellings, position channels below the
root (repeating the offset or adding to it), names with spaces, wrapped motion rows."""

from __future__ import annotations

import re

import numpy as np
import pytest

from engine.animation.bvh_reader import parse_bvh

TEMPLATE = """HIERARCHY
ROOT {root}
{{
  OFFSET 0 90 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT {child}
  {{
    OFFSET 0 -40 0
    CHANNELS {child_channels}
    End Site
    {{
      OFFSET 0 -40 0
    }}
  }}
}}
MOTION
{frames}
{frame_time}
{rows}
"""


def _bvh(root="hip", child="knee", child_channels="3 Zrotation Xrotation Yrotation", frames="Frames: 2",
         frame_time="Frame Time: 0.04", rows="0 90 0 0 0 0 0 0 0\n5 90 0 0 0 0 0 0 90") -> str:
    return TEMPLATE.format(root=root, child=child, child_channels=child_channels, frames=frames,
                           frame_time=frame_time, rows=rows)


def test_spacing_line_ends_and_short_headers():
    plain = parse_bvh(_bvh())
    odd = parse_bvh(_bvh(frames="Frames:2", frame_time="Frame Time:.04").replace("  ", "\t").replace("\n", "\r\n"))
    assert odd.num_frames == 2 and odd.frame_time_s == pytest.approx(0.04)
    np.testing.assert_allclose(odd.positions(include_end_sites=True), plain.positions(include_end_sites=True))


def test_channel_names_in_any_case():
    upper = parse_bvh(_bvh(child_channels="3 ZROTATION XRotation yrotation"))
    np.testing.assert_allclose(upper.positions(), parse_bvh(_bvh()).positions())


def test_position_channels_below_the_root_replace_or_add():
    six = "6 Xposition Yposition Zposition Zrotation Xrotation Yrotation"
    repeats = parse_bvh(_bvh(child_channels=six, rows="0 90 0 0 0 0 0 -40 0 0 0 0\n5 90 0 0 0 0 0 -40 0 0 0 90"))
    adds = parse_bvh(_bvh(child_channels=six, rows="0 90 0 0 0 0 0 0 0 0 0 0\n5 90 0 0 0 0 2 0 0 0 0 90"))
    expected = parse_bvh(_bvh()).positions(include_end_sites=True)
    np.testing.assert_allclose(repeats.positions(include_end_sites=True), expected, atol=1e-9)
    moved = adds.positions(include_end_sites=True)
    np.testing.assert_allclose(moved[0], expected[0], atol=1e-9)
    np.testing.assert_allclose(moved[1, 1], expected[1, 1] + [2, 0, 0], atol=1e-9)
    assert repeats.rest_positions()[1] == pytest.approx([0, 50, 0])


def test_names_with_spaces_and_wrapped_rows():
    motion = parse_bvh(_bvh(root="Bip01 Pelvis", child="Bip01 L Calf", rows="0 90 0 0\n0 0 0 0 0\n5 90 0 0 0 0 0 0 90"))
    assert [j.name for j in motion.joints] == ["Bip01_Pelvis", "Bip01_L_Calf", "Bip01_L_Calf_end"]
    assert motion.num_frames == 2 and motion.channels[1, 8] == 90


def test_joints_placed_by_position_channels_with_zero_offsets(tmp_path):
    from engine.animation.formats import read_take
    from engine.animation.rig_mappings import find_mapping
    from tests.engine.humanoid_rigs import families, synthetic_motion, write_family

    mixamo = next(f for f in families() if f.name == "mixamo")
    mixamo.positions_everywhere = True
    written = write_family(mixamo, synthetic_motion(frames=10), tmp_path / "p.bvh")
    (tmp_path / "z.bvh").write_text(re.sub(r"OFFSET [^\n]*", "OFFSET 0 0 0", written.path.read_text()))
    take = read_take(tmp_path / "z.bvh")
    assert take.metadata["source_units"] == "cm"
    np.testing.assert_allclose(take.joints_m, read_take(written.path).joints_m, atol=1e-6)
    assert find_mapping(take).describe("left_knee") == "mixamorig:LeftLeg"
