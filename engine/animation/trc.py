"""Writes a take's joint positions as an OpenSim TRC marker file.

Tab-separated, as OpenSim's TRCFileAdapter reads it:

    PathFileType  4  (X/Y/Z)  <file name>
    DataRate  CameraRate  NumFrames  NumMarkers  Units  OrigDataRate  OrigDataStartFrame  OrigNumFrames
    <values of those eight keys>
    Frame#  Time  <marker 1>  <tab>  <tab>  <marker 2> ...
    <tab>  <tab>  X1  Y1  Z1  X2  Y2  Z2 ...
    <empty line>
    1  0.000000  x  y  z ...

Markers are the take's joints, named as in its skeleton. Coordinates are Monocap's world frame
(Y up, which is also OpenSim's), in `units` ("mm" by default, "m" or "cm"). Frames in which
nobody was in view have empty fields, which OpenSim reads as missing markers (NaN).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from engine.core.atomic import atomic_path
from engine.core.skeletons import frame_joints
from engine.core.take import Take

TRC_UNITS = {"mm": 1000.0, "cm": 100.0, "m": 1.0}
METADATA_KEYS = ("DataRate", "CameraRate", "NumFrames", "NumMarkers", "Units", "OrigDataRate",
                 "OrigDataStartFrame", "OrigNumFrames")


def marker_name(name: str) -> str:
    """Marker names cannot hold whitespace in TRC; anything else is kept."""
    return re.sub(r"\s+", "_", name)


def write_trc(take: Take, path: str | Path, units: str = "mm", start_frame: int = 1) -> Path:
    if units not in TRC_UNITS:
        raise ValueError(f"unknown TRC unit {units!r}; use one of {', '.join(TRC_UNITS)}")
    path = Path(path)
    scale = TRC_UNITS[units]
    names = [marker_name(n) for n in take.skeleton.joint_names]
    t_count, j_count = take.num_frames, len(names)
    rate = f"{take.fps:.6g}"
    lines = [
        f"PathFileType\t4\t(X/Y/Z)\t{path.name}",
        "\t".join(METADATA_KEYS),
        "\t".join([rate, rate, str(t_count), str(j_count), units, rate, str(start_frame), str(t_count)]),
        "\t".join(["Frame#", "Time"] + [f"{n}\t\t" for n in names]).rstrip("\t"),
        "\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, j_count + 1)),
        "",
    ]
    data = take.joints_m.reshape(t_count, -1) * scale
    ok = take.valid & np.isfinite(take.joints_m[:, frame_joints(take.skeleton)]).all(axis=(1, 2))
    complete = np.isfinite(data).all(axis=1)
    row_fmt = "\t".join(["%.4f"] * data.shape[1])
    empty = "\t".join([""] * data.shape[1])
    times = take.timestamps_s - (take.timestamps_s[0] if t_count else 0.0)
    for i in range(t_count):
        if not ok[i]:
            values = empty
        elif complete[i]:
            values = row_fmt % tuple(data[i])
        else:  # a hand out of view: its markers are missing, the rest are there
            values = "\t".join("" if not np.isfinite(v) else f"{v:.4f}" for v in data[i])
        lines.append(f"{i + start_frame}\t{times[i]:.6f}\t{values}")
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_trc(path: str | Path) -> Take:
    """Reads a TRC marker file (as written above, or by other tools) into a take in metres.
    Markers become the take's joints; a frame with any empty marker field is invalid."""
    from engine.core.errors import InputError
    from engine.core.skeletons import MONOCAP_BODY, MONOCAP_HANDS, Skeleton

    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        if not lines or not lines[0].startswith("PathFileType"):
            raise ValueError("first line must start with PathFileType")
        keys = [k for k in lines[1].split("\t") if k.strip()]
        values = [v for v in lines[2].split("\t") if v.strip()]
        meta = dict(zip(keys, values))
        fps = float(meta["DataRate"])
        units = meta["Units"].strip()
        if units not in TRC_UNITS:
            raise ValueError(f"unknown units {units!r}")
        names = tuple(n.strip() for n in lines[3].split("\t")[2:] if n.strip())
        if len(names) != int(meta["NumMarkers"]):
            raise ValueError(f"{len(names)} marker names but NumMarkers is {meta['NumMarkers']}")
        rows = []
        for line in lines[5:]:
            if not line.strip():
                if rows:
                    break
                continue
            fields = line.split("\t")
            if len(fields) < 2 + 3 * len(names):
                raise ValueError(f"a data row has {len(fields)} fields, expected {2 + 3 * len(names)}")
            rows.append([float(f) if f.strip() else np.nan for f in fields[1:2 + 3 * len(names)]])
        data = np.array(rows, dtype=float).reshape(len(rows), 1 + 3 * len(names))
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise InputError(f"{path}: not a valid TRC file ({exc})") from None
    joints = data[:, 1:].reshape(len(rows), len(names), 3) / TRC_UNITS[units]
    skeleton = next((s for s in (MONOCAP_BODY, MONOCAP_HANDS) if s.joint_names == names),
                    None) or Skeleton(path.stem, names, (-1,) * len(names))
    valid = np.isfinite(joints[:, frame_joints(skeleton)]).all(axis=(1, 2))
    return Take(joints, skeleton, fps, data[:, 0], valid, metadata={"source": str(path), "source_units": units})
