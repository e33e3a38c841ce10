"""Each reader on small files in its release format, written here."""

import json

import cv2
import numpy as np
import pytest
import scipy.io

from engine.core import skeletons
from engine.core.errors import InputError
from engine.core.skeletons import LSP_14_FILE_ORDER, MPI_INF_3DHP_17_FILE_ORDER, MPI_INF_3DHP_28_FILE_ORDER, MPII_16_FILE_ORDER
from training.image_net.datasets.coco import read_coco
from training.image_net.datasets.h36m import read_h36m
from training.image_net.datasets.image_samples import JointMap, subject_bone_lengths
from training.image_net.datasets.lsp import read_lsp
from training.image_net.datasets.mpi_inf_3dhp import read_calibration, read_mpi_inf_3dhp_test, read_mpi_inf_3dhp_train
from training.image_net.datasets.mpii import read_mpii


def _img(path, w=40, h=30):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((h, w, 3), 90, np.uint8))


def test_h36m_json(tmp_path):
    rng = np.random.default_rng(0)
    world = rng.normal(size=(17, 3)) * 300 + np.array([0, 0, 0.0])
    R = np.eye(3)[[0, 2, 1]] * np.array([[1], [-1], [1]])  # a proper rotation: det = +1
    assert np.isclose(np.linalg.det(R), 1)
    t = np.array([10.0, 20.0, 5000.0])
    ann = tmp_path / "annotations"
    ann.mkdir()
    images = [{"id": i, "file_name": f"s_01_act_02/img_{i}.jpg", "width": 40, "height": 30, "subject": 1,
               "action_idx": 2, "subaction_idx": 1, "cam_idx": 1, "frame_idx": i} for i in range(4)]
    (ann / "Human36M_subject1_data.json").write_text(json.dumps({
        "images": images, "annotations": [{"id": i, "image_id": i, "bbox": [1, 2, 10, 20]} for i in range(4)]}))
    (ann / "Human36M_subject1_camera.json").write_text(json.dumps(
        {"1": {"R": R.tolist(), "t": t.tolist(), "f": [1000.0, 1000.0], "c": [20.0, 15.0]}}))
    (ann / "Human36M_subject1_joint_3d.json").write_text(json.dumps(
        {"2": {"1": {str(i): (world + i).tolist() for i in range(4)}}}))
    samples = read_h36m(tmp_path, subjects=(1,), frame_step=2)
    assert [s.meta["frame"] for s in samples] == [0, 2]
    s = samples[1]
    cam = ((world + 2) @ R.T + t) / 1000
    np.testing.assert_allclose(s.joints3d_m, cam)
    np.testing.assert_allclose(s.joints2d_px[0], 1000 * cam[0, :2] / cam[0, 2] + [20, 15])
    np.testing.assert_allclose(s.box_xyxy, [1, 2, 11, 22])
    assert s.skeleton == "h36m_17" and s.subject == "S1" and s.group == "Directions"
    assert s.image_path.endswith("images/s_01_act_02/img_2.jpg")
    with pytest.raises(InputError, match="subject9"):
        read_h36m(tmp_path, subjects=(9,))


def _calibration(path, cams):
    lines = ["Skeletool Camera Calibration File V1.0"]
    for c in cams:
        lines += [f"name          {c}", "  sensor      10 10", "  size        64 48",
                  f"  intrinsic   {500 + c} 0 32 0 0 {500 + c} 24 0 0 0 1 0 0 0 0 1",
                  "  extrinsic   1 0 0 0 0 1 0 0 0 0 1 0 0 0 0 1"]
    path.write_text("\n".join(lines) + "\n")


def test_mpi_inf_3dhp_train_annot_mat(tmp_path):
    seq = tmp_path / "S1" / "Seq1"
    seq.mkdir(parents=True)
    frames = 5
    rng = np.random.default_rng(1)
    a2 = np.empty((3, 1), dtype=object)
    a3 = np.empty((3, 1), dtype=object)
    truth3 = {}
    for c in range(3):
        p3 = rng.normal(size=(frames, 28, 3)) * 200 + [0, 0, 4000]
        truth3[c] = p3
        a3[c, 0] = p3.reshape(frames, 84)
        a2[c, 0] = (p3[..., :2] / p3[..., 2:] * 500 + 32).reshape(frames, 56)
    scipy.io.savemat(seq / "annot.mat", {"annot2": a2, "annot3": a3, "cameras": np.array([[0, 1, 2]]),
                                         "frames": np.arange(frames)[:, None]})
    _calibration(seq / "camera.calibration", [0, 1, 2])
    assert read_calibration(seq / "camera.calibration")[2][0, 0] == 502
    samples = read_mpi_inf_3dhp_train(tmp_path, subjects=(1,), sequences=(1,), cameras=(0, 2), frame_step=2)
    assert len(samples) == 2 * 3  # cameras 0 and 2, frames 0, 2, 4
    s = [x for x in samples if x.meta["camera"] == 2 and x.meta["frame"] == 4][0]
    skel = skeletons.get("mpi_inf_3dhp_28")
    for name in ("pelvis", "head_top", "left_wrist", "right_toe"):
        np.testing.assert_allclose(s.joints3d_m[skel.index(name)],
                                   truth3[2][4, MPI_INF_3DHP_28_FILE_ORDER.index(name)] / 1000)
    assert s.K_cam[0, 0] == 502
    assert s.image_path.endswith("S1/Seq1/imageSequence/video_2/frame_000005.jpg")
    # the 2D labels agree with the 3D ones projected by the intrinsics of that camera
    proj = s.joints3d_m[:, :2] / s.joints3d_m[:, 2:] * 500 + 32
    np.testing.assert_allclose(s.joints2d_px, proj)


@pytest.mark.parametrize("orientation", ["scipy", "hdf5_like"])
def test_mpi_inf_3dhp_test_annot_data(tmp_path, orientation):
    ts = tmp_path / "mpi_inf_3dhp_test_set" / "TS5"
    ts.mkdir(parents=True)
    n = 4
    rng = np.random.default_rng(2)
    p3 = rng.normal(size=(n, 17, 3)) * 200
    p2 = rng.uniform(0, 100, size=(n, 17, 2))
    if orientation == "scipy":  # MATLAB's own layout: coords x joints x 1 x frames
        u3, u2 = p3.transpose(2, 1, 0)[:, :, None, :], p2.transpose(2, 1, 0)[:, :, None, :]
    else:  # the orientation h5py gives for a v7.3 file: frames x 1 x joints x coords
        u3, u2 = p3[:, None], p2[:, None]
    scipy.io.savemat(ts / "annot_data.mat", {
        "univ_annot3": u3, "annot2": u2, "valid_frame": np.array([[1, 0, 1, 1]]),
        "activity_annotation": np.array([[1, 2, 3, 7]])})
    samples = read_mpi_inf_3dhp_test(tmp_path, sequences=(5,))
    assert [s.meta["frame"] for s in samples] == [0, 2, 3]
    assert {s.group for s in samples} == {"outdoor"}
    assert samples[-1].meta["activity"] == "miscellaneous"
    skel = skeletons.get("mpi_inf_3dhp_17")
    s = samples[1]
    for name in ("head_top", "pelvis", "left_ankle"):
        k = MPI_INF_3DHP_17_FILE_ORDER.index(name)
        np.testing.assert_allclose(s.joints3d_m[skel.index(name)], p3[2, k] / 1000)
        np.testing.assert_allclose(s.joints2d_px[skel.index(name)], p2[2, k])
    assert s.image_path.endswith("TS5/imageSequence/img_000003.jpg")
    assert s.K_cam is None


def test_mpii_json(tmp_path):
    joints = np.arange(32, dtype=float).reshape(16, 2) + 5
    vis = [1] * 16
    vis[MPII_16_FILE_ORDER.index("left_wrist")] = 0
    (tmp_path / "annot").mkdir()
    (tmp_path / "annot" / "train.json").write_text(json.dumps([
        {"image": "a.jpg", "center": [50, 60], "scale": 0.5, "joints": joints.tolist(), "joints_vis": vis}]))
    (s,) = read_mpii(tmp_path)
    skel = skeletons.get("mpii_16")
    np.testing.assert_allclose(s.joints2d_px[skel.index("head_top")], joints[MPII_16_FILE_ORDER.index("head_top")])
    assert not s.visible2d[skel.index("left_wrist")] and s.visible2d.sum() == 15
    np.testing.assert_allclose(s.box_xyxy, [0, 10, 100, 110])
    assert s.image_path.endswith("images/a.jpg") and not s.has3d


@pytest.mark.parametrize("layout", ["3x14xN", "14x3xN", "2x14xN"])
def test_lsp_joints_mat(tmp_path, layout):
    n = 3
    xy = np.random.default_rng(3).uniform(1, 30, size=(n, 14, 2))
    flag = np.ones((n, 14, 1))
    full = np.concatenate([xy, flag], axis=2)  # (N, 14, 3)
    arr = {"3x14xN": full.transpose(2, 1, 0), "14x3xN": full.transpose(1, 2, 0),
           "2x14xN": xy.transpose(2, 1, 0)}[layout]
    scipy.io.savemat(tmp_path / "joints.mat", {"joints": arr})
    for i in range(n):
        _img(tmp_path / "images" / f"im{i + 1:04d}.jpg")
    samples = read_lsp(tmp_path)
    assert len(samples) == n
    skel = skeletons.get("lsp_14")
    np.testing.assert_allclose(samples[2].joints2d_px[skel.index("right_ankle")],
                               xy[2, LSP_14_FILE_ORDER.index("right_ankle")])
    assert samples[2].image_path.endswith("im0003.jpg") and samples[2].visible2d.all()
    assert samples[0].load_image().shape == (30, 40, 3)


def test_coco_keypoints(tmp_path):
    kp = np.zeros((17, 3))
    kp[:, :2] = np.arange(34).reshape(17, 2) + 10
    kp[:, 2] = 2
    kp[3, 2] = 0
    anns = [
        {"id": 1, "image_id": 7, "keypoints": kp.ravel().tolist(), "num_keypoints": 16, "bbox": [5, 6, 50, 80], "iscrowd": 0},
        {"id": 2, "image_id": 7, "keypoints": kp.ravel().tolist(), "num_keypoints": 16, "bbox": [5, 6, 50, 80], "iscrowd": 1},
        {"id": 3, "image_id": 7, "keypoints": kp.ravel().tolist(), "num_keypoints": 3, "bbox": [5, 6, 50, 80], "iscrowd": 0},
    ]
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "person_keypoints_val2017.json").write_text(json.dumps(
        {"images": [{"id": 7, "file_name": "000000000007.jpg", "width": 100, "height": 100}],
         "annotations": anns, "categories": [{"id": 1, "name": "person"}]}))
    (s,) = read_coco(tmp_path, "val2017")
    assert s.meta["annotation_id"] == 1 and s.visible2d.sum() == 16 and not s.visible2d[3]
    np.testing.assert_allclose(s.box_xyxy, [5, 6, 55, 86])
    assert s.image_path.endswith("val2017/000000000007.jpg")


def test_joint_map_onto_h36m():
    coco = skeletons.get("coco_17")
    pts = np.random.default_rng(4).normal(size=(17, 2))
    m = JointMap("coco_17", "h36m_17")
    out, ok = m(pts)
    h36m = skeletons.get("h36m_17")
    np.testing.assert_allclose(out[h36m.index("pelvis")], (pts[coco.index("left_hip")] + pts[coco.index("right_hip")]) / 2)
    np.testing.assert_allclose(out[h36m.index("left_wrist")], pts[coco.index("left_wrist")])
    assert not ok[h36m.index("head_top")] and not ok[h36m.index("spine")]
    vis = np.ones(17, bool)
    vis[coco.index("left_hip")] = False
    _, ok = m(pts, vis)
    assert not ok[h36m.index("pelvis")] and not ok[h36m.index("left_hip")] and ok[h36m.index("right_hip")]
    # every H36M joint has a counterpart in the 3DHP 17-joint set
    assert JointMap("mpi_inf_3dhp_17", "h36m_17").labelled.all()
    assert JointMap("mpi_inf_3dhp_28", "h36m_17").labelled.all()
    assert JointMap("mpii_16", "h36m_17").labelled.sum() == 16


def test_subject_bone_lengths():
    from training.image_net.datasets.image_samples import PoseSample

    h = skeletons.get("h36m_17")
    pose = np.random.default_rng(5).normal(size=(17, 3))
    samples = [PoseSample("h36m_17", np.zeros((17, 2)), np.ones(17, bool), joints3d_m=pose * k, subject=s)
               for s, k in (("S1", 1.0), ("S1", 1.0), ("S5", 2.0))]
    bank = subject_bone_lengths(samples, "h36m_17")
    assert bank.shape == (2, 16)
    np.testing.assert_allclose(bank[1], 2 * bank[0])
    np.testing.assert_allclose(bank[0], h.bone_lengths(pose))
