"""Calibration files: Qualisys import, Monocap's TOML, Pose2Sim/anipose/FreeMoCap TOML and EasyMocap
YAML written and read back, and the image-size check a video makes of a calibration."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.errors import InputError
from engine.multiview.calibration_files import WRITE_FORMATS, read_calibration, write_calibration
from engine.multiview.cameras import Camera, Rig, check_image_size
from tests.conftest import SHARED_DATA, shared_missing

QCA = SHARED_DATA / "truth" / "pose2sim_single" / "Calib.qca.txt"


def _rig() -> Rig:
    """Two cameras 3 m apart looking at the origin (no shared data needed)."""
    import cv2

    cams = []
    for i, yaw in enumerate((0.4, -0.5)):
        R = cv2.Rodrigues(np.array([0.1, yaw, 0.02]))[0]
        cams.append(Camera(f"cam{i + 1}", (1280, 720), [[900.0 + i, 0, 641.5], [0, 901.0, 359.0], [0, 0, 1]],
                           [-0.1, 0.05, 0.001, -0.002, 0.0], R, R @ -np.array([3 * np.sin(yaw), 0.2, -3.0])))
    return Rig(tuple(cams))


def _same(a: Rig, b: Rig) -> None:
    assert a.names == b.names
    for x, y in zip(a.cameras, b.cameras):
        assert x.image_size == y.image_size
        np.testing.assert_allclose(x.K, y.K, atol=1e-9)
        np.testing.assert_allclose(x.R, y.R, atol=1e-9)
        np.testing.assert_allclose(x.t, y.t, atol=1e-9)
        np.testing.assert_allclose(x.dist[:4], y.dist[:4], atol=1e-12)


@pytest.mark.parametrize("fmt", WRITE_FORMATS)
def test_every_format_reads_back_what_was_written(tmp_path, fmt):
    rig = _rig()
    target = tmp_path / ("calib" if fmt == "easymocap" else "calib.toml")
    written = write_calibration(rig, target, fmt)
    assert all(p.is_file() for p in written)
    _same(rig, read_calibration(target if fmt != "easymocap" else target / "intri.yml"))


def test_freemocap_files_are_in_millimetres_and_pose2sim_in_metres(tmp_path):
    from engine.multiview.calibration_files import tomllib

    rig = _rig()
    write_calibration(rig, tmp_path / "f.toml", "freemocap")
    write_calibration(rig, tmp_path / "p.toml", "pose2sim")
    f = tomllib.loads((tmp_path / "f.toml").read_text())
    p = tomllib.loads((tmp_path / "p.toml").read_text())
    np.testing.assert_allclose(f["cam1"]["translation"], np.array(p["cam1"]["translation"]) * 1000)
    assert "metadata" in p


def test_easymocap_file_is_opencv_yaml(tmp_path):
    import cv2

    write_calibration(_rig(), tmp_path, "easymocap")
    fs = cv2.FileStorage(str(tmp_path / "extri.yml"), cv2.FILE_STORAGE_READ)
    assert fs.getNode("T_cam2").mat().shape == (3, 1)
    assert fs.getNode("names").size() == 2


@pytest.mark.skipif(not QCA.is_file(), reason=shared_missing("pose2sim_single's Calib.qca.txt"))
def test_qualisys_import_matches_the_truths_opencv_cameras(tmp_path):
    rig = read_calibration(QCA)
    truth = np.load(QCA.parent / "truth.npz")
    assert rig.names == tuple(str(c) for c in truth["cams"])
    for i, cam in enumerate(rig.cameras):
        assert cam.image_size == (1088, 1920)
        np.testing.assert_allclose(cam.R, truth["R"][i], atol=1e-9)
        np.testing.assert_allclose(cam.t, truth["t"][i], atol=1e-9)
        np.testing.assert_allclose(cam.K, truth["K"][i], atol=1e-6)
        np.testing.assert_allclose(cam.dist, truth["dist"][i], atol=1e-9)
    # the truth's joints project onto the same pixels through every converted file
    for fmt in WRITE_FORMATS:
        target = tmp_path / fmt / ("calib" if fmt == "easymocap" else "calib.toml")
        target.parent.mkdir()
        write_calibration(rig, target, fmt)
        again = read_calibration(target)
        px = again[2].project(truth["joints_world"][0])
        np.testing.assert_allclose(px, rig[2].project(truth["joints_world"][0]), atol=1e-6)
        assert 0 < px[:, 0].min() and px[:, 0].max() < 1088


def test_projection_matches_opencv():
    import cv2

    cam = _rig()[0]
    pts = np.random.default_rng(1).normal(0, 0.5, (20, 3))
    expected = cv2.projectPoints(pts, cv2.Rodrigues(cam.R)[0], cam.t, cam.K, cam.dist)[0][:, 0]
    np.testing.assert_allclose(cam.project(pts), expected, atol=1e-6)
    np.testing.assert_allclose(cam.normalise(cam.project(pts)), (cam.to_camera(pts) / cam.to_camera(pts)[:, 2:])[:, :2],
                               atol=1e-7)


def test_image_size_a_decoders_crop_is_a_note_anything_else_an_error():
    cam = _rig()[0]
    assert check_image_size(cam, (1280, 720), "a.mp4") is None
    note = check_image_size(cam, (1272, 720), "a.mp4")
    assert "crop" in note and "1272x720" in note
    for size in ((640, 360), (720, 1280), (1290, 720), (1200, 720)):
        with pytest.raises(InputError, match="calibrated at 1280x720"):
            check_image_size(cam, size, "a.mp4")


def test_bad_files_are_one_line_errors(tmp_path):
    with pytest.raises(InputError, match="no such calibration file"):
        read_calibration(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[cam1]\nname = 'x'\n")
    with pytest.raises(InputError, match="no camera tables"):
        read_calibration(bad)
    bad.write_text("[cam1]\nmatrix = [[1, 0, 0]]\n")
    with pytest.raises(InputError, match="incomplete or malformed"):
        read_calibration(bad)
    (tmp_path / "intri.yml").write_text("%YAML:1.0\n---\nnames: []\n")
    with pytest.raises(InputError, match="both intri.yml and extri.yml"):
        read_calibration(tmp_path / "intri.yml")
