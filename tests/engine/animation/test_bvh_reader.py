import re

import numpy as np
import pytest

from engine.animation.bvh_reader import guess_scale_to_m, parse_bvh, read_bvh
from engine.core.errors import InputError

TWO_BONES = """HIERARCHY
ROOT hip
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT knee
  {
    OFFSET 0 -40 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 -40 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.5
0 100 0 0 0 0 0 0 0
10 100 0 90 0 0 -90 0 0
"""


def test_forward_kinematics_by_hand():
    motion = parse_bvh(TWO_BONES)
    assert motion.num_frames == 2 and motion.fps == 2.0
    pos = motion.positions(include_end_sites=True)
    assert np.allclose(pos[0], [[0, 100, 0], [0, 60, 0], [0, 20, 0]])
    # root turned +90 degrees about Z: the leg points along +X; knee -90 about Z straightens it back down
    assert np.allclose(pos[1], [[10, 100, 0], [50, 100, 0], [50, 60, 0]], atol=1e-9)


def test_mocap_of_all_three_formats(mocap_file):
    for rel in ("cmu_iclone/001_01.bvh", "cmu_daz/salsa/01.bvh", "cmu_asf/01_01.bvh"):
        path = mocap_file(rel)
        motion = read_bvh(path)
        skeleton = motion.skeleton()
        declared = re.findall(r"^\s*(?:ROOT|JOINT)\s+(\S+)", path.read_text(), re.M)
        assert skeleton.joint_names == tuple(declared), rel
        pos = motion.positions(guess_scale_to_m(motion))
        height = np.ptp(pos[:, :, 1], axis=1).max()
        assert 1.2 < height < 2.2, (rel, height)  # a person, in metres
        assert len(skeleton.mirror_pairs) >= 8, rel


def test_corrupt_bvh_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.bvh"
    bad.write_text(TWO_BONES.replace("Frames: 2", "Frames: 5"))
    with pytest.raises(InputError, match="bad.bvh"):
        read_bvh(bad)
    (tmp_path / "junk.bvh").write_bytes(b"\x00\x01garbage")
    with pytest.raises(InputError, match="junk.bvh"):
        read_bvh(tmp_path / "junk.bvh")
