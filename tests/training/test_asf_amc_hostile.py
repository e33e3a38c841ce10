"""Damaged ASF skeletons and AMC motions give one clear error naming the file and the line."""

import pytest

from engine.core.errors import InputError
from training.common.asf_amc import read_amc, read_asf

ASF = """:version 1.10
:name tiny
:units
  mass 1.0
  length 0.45
  angle deg
:root
   order TX TY TZ RX RY RZ
   axis XYZ
   position 0 0 0
   orientation 0 0 0
:bonedata
  begin
     id 1
     name lfemur
     direction 0 -1 0
     length 7
     axis 0 0 20 XYZ
     dof rx ry rz
  end
  begin
     id 2
     name ltibia
     direction 0 -1 0
     length 7
     axis 0 0 20 XYZ
     dof rx
  end
:hierarchy
  begin
    root lfemur
    lfemur ltibia
  end
"""
AMC = """:FULLY-SPECIFIED
:DEGREES
1
root 0 10 0 0 0 0
lfemur 10 0 0
ltibia 20
2
root 0 10 1 0 0 0
lfemur 12 0 0
ltibia 25
"""


def files(tmp_path, asf=ASF, amc=AMC):
    (tmp_path / "t.asf").write_text(asf)
    (tmp_path / "t_01.amc").write_text(amc)
    return tmp_path / "t.asf", tmp_path / "t_01.amc"


def test_the_tiny_files_read(tmp_path):
    asf, amc = files(tmp_path)
    motion = read_amc(amc, read_asf(asf))
    assert motion.positions().shape == (2, 3, 3)


@pytest.mark.parametrize("change, match", [
    (("name ltibia", "name lfemur"), "bone 'lfemur' is defined twice"),
    (("lfemur ltibia", "lfemur lfoot"), "bone 'lfoot', which :bonedata does not define"),
    (("lfemur ltibia", "lfemur ltibia\n    ltibia lfemur"), "two parents (or a loop)"),
    (("length 7\n     axis 0 0 20 XYZ\n     dof rx\n", "length inf\n     axis 0 0 20 XYZ\n     dof rx\n"), "finite"),
    (("length 0.45", "length 0"), "not a positive number"),
])
def test_damaged_asf(tmp_path, change, match):
    asf, _ = files(tmp_path, asf=ASF.replace(*change))
    with pytest.raises(InputError, match="t.asf") as info:
        read_asf(asf)
    assert match in str(info.value)


@pytest.mark.parametrize("change, match", [
    (("ltibia 20", "ltibia 20 5"), "line 6: 2 values for ltibia, which has 1 dof"),
    (("lfemur 12 0 0", "lfemur 12 inf 0"), "line 9: lfemur: values must be finite"),
    (("\n2\n", "\n5\n"), "line 7: frame 5 follows frame 1"),
    (("ltibia 25", "lhand 25"), "line 10: bone 'lhand' is not in t.asf"),
    (("ltibia 25\n", ""), "frame 2 does not give the bones frame 1 gives"),
])
def test_damaged_amc(tmp_path, change, match):
    asf, amc = files(tmp_path, amc=AMC.replace(*change))
    with pytest.raises(InputError, match="t_01.amc") as info:
        read_amc(amc, read_asf(asf))
    assert match in str(info.value)
