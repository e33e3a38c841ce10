"""Calibration files: Monocap's own TOML, and those other tools write (docs/MULTICAMERA.md).

    rig = read_calibration(path)                 # any of the formats below, found from the file
    write_calibration(rig, path, "monocap")      # or "pose2sim", "anipose", "freemocap", "easymocap"

- monocap   (.toml) `format = "monocap-calibration"`, one [[cameras]] table each: name,
            image_size [w, h], focal_px [fx, fy], principal_px [cx, cy], distortion
            [k1, k2, p1, p2, k3], rotation (3 rows, world to camera), translation_m.
- pose2sim, anipose, freemocap (.toml) one table per camera: name, size [w, h], matrix (K),
            distortions, rotation (Rodrigues vector), translation, all world to camera. Pose2Sim
            writes metres and a [metadata] table; anipose and FreeMoCap write the board's unit,
            which is millimetres for FreeMoCap (and, read here, whenever the cameras sit more than
            LENGTH_IN_MM_ABOVE units from the origin).
- easymocap intri.yml + extri.yml (OpenCV FileStorage) side by side: names, K_<name>,
            dist_<name>, H_<name>/W_<name> (when written); R_<name> (Rodrigues), T_<name> (metres).
- qualisys  .qca.txt (QTM's XML export): the camera's transform (position in mm, rotation whose
            rows are its axes), intrinsics in sub-pixels of 1/64 px. Read only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from engine.core.atomic import write_text_atomic
from engine.core.errors import InputError
from engine.multiview.cameras import Camera, Rig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

WRITE_FORMATS = ("monocap", "pose2sim", "anipose", "freemocap", "easymocap")
MONOCAP_FORMAT = "monocap-calibration"
LENGTH_IN_MM_ABOVE = 50.0  # a toml whose cameras sit further than this from the origin is in mm
QUALISYS_SUBPIXELS = 64.0
# Qualisys cameras look down their -z axis with y up; OpenCV's look down +z with y down.
QUALISYS_TO_OPENCV = np.diag([1.0, -1.0, -1.0])


def read_calibration(path: str | Path) -> Rig:
    """The rig in any supported file (a folder: its intri.yml/extri.yml). InputError (one line)
    when the file is missing, unreadable or none of the formats."""
    path = Path(path)
    if path.is_dir():
        path = path / "intri.yml"
    if not path.is_file():
        raise InputError(f"{path}: no such calibration file")
    name = path.name.lower()
    try:
        if name.endswith((".yml", ".yaml")):
            rig = _read_easymocap(path)
        else:
            text = path.read_text(encoding="utf-8", errors="replace")
            if text.lstrip().startswith("<") and "<calibration" in text:
                rig = _read_qualisys(text, path)
            elif name.endswith(".toml"):
                rig = _read_toml(tomllib.loads(text), path)
            else:
                raise InputError(f"{path}: not a calibration file Monocap reads "
                                 "(.toml, intri.yml/extri.yml or Qualisys .qca.txt)")
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not a readable TOML file ({exc})") from None
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise InputError(f"{path}: a camera's entry is incomplete or malformed ({exc})") from None
    if len(rig) == 0:
        raise InputError(f"{path}: holds no cameras")
    return rig


def write_calibration(rig: Rig, path: str | Path, fmt: str = "monocap", note: str = "") -> list[Path]:
    """Writes the rig in `fmt` (easymocap: intri.yml and extri.yml in the folder `path`, or beside
    it), each file written whole or not at all. Returns the files written."""
    path = Path(path)
    if fmt == "monocap":
        return [write_text_atomic(path, _monocap_toml(rig, note))]
    if fmt in ("pose2sim", "anipose", "freemocap"):
        return [write_text_atomic(path, _pose2sim_toml(rig, 1000.0 if fmt == "freemocap" else 1.0, fmt == "pose2sim"))]
    if fmt == "easymocap":
        folder = path if path.suffix == "" else path.parent
        folder.mkdir(parents=True, exist_ok=True)
        return _write_easymocap(rig, folder)
    raise InputError(f"calibration format {fmt!r}: choose from {', '.join(WRITE_FORMATS)}")


def _toml_value(value) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, np.ndarray)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return repr(float(value))


def _monocap_toml(rig: Rig, note: str) -> str:
    lines = ["# Monocap camera calibration (docs/MULTICAMERA.md): world to camera, OpenCV camera axes, metres",
             f"format = {_toml_value(MONOCAP_FORMAT)}", "version = 1"]
    if note:
        lines.append(f"note = {_toml_value(note)}")
    for cam in rig.cameras:
        lines += ["", "[[cameras]]", f"name = {_toml_value(cam.name)}",
                  f"image_size = {_toml_value(list(cam.image_size))}",
                  f"focal_px = {_toml_value([cam.K[0, 0], cam.K[1, 1]])}",
                  f"principal_px = {_toml_value([cam.K[0, 2], cam.K[1, 2]])}",
                  f"distortion = {_toml_value(cam.dist)}",
                  f"rotation = {_toml_value([list(r) for r in cam.R])}",
                  f"translation_m = {_toml_value(cam.t)}",
                  f"# centre_m = {_toml_value(np.round(cam.centre_m, 4))}"]
    return "\n".join(lines) + "\n"


def _pose2sim_toml(rig: Rig, unit_per_m: float, metadata: bool) -> str:
    import cv2

    lines = []
    for cam in rig.cameras:
        rvec = cv2.Rodrigues(cam.R)[0].ravel()
        lines += [f"[{cam.name}]", f"name = {_toml_value(cam.name)}",
                  f"size = {_toml_value([float(v) for v in cam.image_size])}",
                  f"matrix = {_toml_value([list(r) for r in cam.K])}",
                  f"distortions = {_toml_value(cam.dist[:4])}",
                  f"rotation = {_toml_value(rvec)}",
                  f"translation = {_toml_value(cam.t * unit_per_m)}", "fisheye = false", ""]
    if metadata:
        lines += ["[metadata]", "adjusted = false", "error = 0.0", ""]
    return "\n".join(lines)


def _read_toml(data: dict, path: Path) -> Rig:
    if data.get("format") == MONOCAP_FORMAT:
        cams = []
        for i, entry in enumerate(data.get("cameras", [])):
            (fx, fy), (cx, cy) = entry["focal_px"], entry["principal_px"]
            cams.append(Camera(str(entry.get("name", f"camera{i + 1}")), tuple(entry["image_size"]),
                               [[fx, 0, cx], [0, fy, cy], [0, 0, 1]], entry.get("distortion", []),
                               entry["rotation"], entry["translation_m"]))
        return Rig(tuple(cams))
    import cv2

    tables = [(key, v) for key, v in data.items() if isinstance(v, dict) and "matrix" in v]
    if not tables:
        raise InputError(f"{path}: no camera tables (Monocap's [[cameras]], or Pose2Sim/anipose's with a matrix)")
    cams = []
    for key, v in tables:
        R = cv2.Rodrigues(np.asarray(v["rotation"], dtype=np.float64).reshape(3, 1))[0]
        cams.append(Camera(str(v.get("name", key)), tuple(int(round(s)) for s in v["size"]), v["matrix"],
                           v.get("distortions", []), R, v["translation"]))
    centres = [np.linalg.norm(c.centre_m) for c in cams]
    if "metadata" not in data and np.median(centres) > LENGTH_IN_MM_ABOVE:  # anipose/FreeMoCap in mm
        cams = [c.with_pose(c.R, c.t / 1000.0) for c in cams]
    return Rig(tuple(cams))


def _read_qualisys(text: str, path: Path) -> Rig:
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise InputError(f"{path}: not a readable Qualisys calibration ({exc})") from None
    cams = []
    for i, tag in enumerate(root.iter("camera")):
        if tag.get("active", "1") == "0":
            continue
        fov, intr, tr = tag.find("fov_video"), tag.find("intrinsic"), tag.find("transform")
        if fov is None or intr is None or tr is None:
            raise InputError(f"{path}: camera {tag.get('serial', i + 1)} lacks fov_video, intrinsic or transform")
        left, top = float(fov.get("left")), float(fov.get("top"))
        size = (int(float(fov.get("right")) - left + 1), int(float(fov.get("bottom")) - top + 1))
        f = {k: float(intr.get(k, 0.0)) for k in ("focalLengthU", "focalLengthV", "centerPointU", "centerPointV",
                                                   "radialDistortion1", "radialDistortion2", "radialDistortion3",
                                                   "tangentalDistortion1", "tangentalDistortion2")}
        K = [[f["focalLengthU"] / QUALISYS_SUBPIXELS, 0, f["centerPointU"] / QUALISYS_SUBPIXELS - left],
             [0, f["focalLengthV"] / QUALISYS_SUBPIXELS, f["centerPointV"] / QUALISYS_SUBPIXELS - top], [0, 0, 1]]
        dist = [f["radialDistortion1"], f["radialDistortion2"], f["tangentalDistortion1"], f["tangentalDistortion2"],
                f["radialDistortion3"]]
        rows = np.array([[float(tr.get(f"r{r}{c}")) for c in (1, 2, 3)] for r in (1, 2, 3)])
        R = QUALISYS_TO_OPENCV @ rows
        centre = np.array([float(tr.get(k)) for k in ("x", "y", "z")]) / 1000.0
        cams.append(Camera(tag.get("serial") or f"camera{i + 1}", size, K, dist, R, -R @ centre))
    return Rig(tuple(cams))


def _node_matrix(fs, key: str) -> np.ndarray | None:
    node = fs.getNode(key)
    return None if node.empty() else node.mat()


def _read_easymocap(path: Path) -> Rig:
    import cv2

    folder = path.parent
    intri, extri = folder / "intri.yml", folder / "extri.yml"
    if not intri.is_file() or not extri.is_file():
        raise InputError(f"{folder}: an EasyMocap calibration needs both intri.yml and extri.yml there")
    fi = cv2.FileStorage(str(intri), cv2.FILE_STORAGE_READ)
    fe = cv2.FileStorage(str(extri), cv2.FILE_STORAGE_READ)
    try:
        names_node = fi.getNode("names")
        names = [names_node.at(i).string() for i in range(names_node.size())]
        cams = []
        for name in names:
            K, dist = _node_matrix(fi, f"K_{name}"), _node_matrix(fi, f"dist_{name}")
            rvec, rot, T = _node_matrix(fe, f"R_{name}"), _node_matrix(fe, f"Rot_{name}"), _node_matrix(fe, f"T_{name}")
            if K is None or T is None or (rvec is None and rot is None):
                raise InputError(f"{folder}: camera {name} lacks K_{name}, R_{name} or T_{name}")
            R = rot if rot is not None else cv2.Rodrigues(rvec.reshape(3, 1))[0]
            h, w = fi.getNode(f"H_{name}"), fi.getNode(f"W_{name}")
            size = (int(w.real()), int(h.real())) if not (h.empty() or w.empty()) else _size_from_centre(K)
            cams.append(Camera(name, size, K, dist if dist is not None else [], R, T))
    finally:
        fi.release()
        fe.release()
    return Rig(tuple(cams))


def _size_from_centre(K: np.ndarray) -> tuple[int, int]:
    """An EasyMocap file without H_/W_: the image size its principal point at the centre implies."""
    return int(round(2 * K[0, 2])), int(round(2 * K[1, 2]))


def _write_easymocap(rig: Rig, folder: Path) -> list[Path]:
    import cv2

    written = []
    for fname, extrinsic in (("intri.yml", False), ("extri.yml", True)):
        fs = cv2.FileStorage(".yml", cv2.FILE_STORAGE_WRITE | cv2.FILE_STORAGE_MEMORY)
        fs.startWriteStruct("names", cv2.FileNode_SEQ)
        for cam in rig.cameras:
            fs.write("", cam.name)
        fs.endWriteStruct()
        for cam in rig.cameras:
            if extrinsic:
                fs.write(f"R_{cam.name}", cv2.Rodrigues(cam.R)[0])
                fs.write(f"Rot_{cam.name}", cam.R)
                fs.write(f"T_{cam.name}", cam.t.reshape(3, 1))
            else:
                fs.write(f"K_{cam.name}", cam.K)
                fs.write(f"dist_{cam.name}", cam.dist.reshape(1, 5))
                fs.write(f"H_{cam.name}", cam.image_size[1])
                fs.write(f"W_{cam.name}", cam.image_size[0])
        written.append(write_text_atomic(folder / fname, fs.releaseAndGetString()))
    return written
