"""The export adapter drives engine.formats when it exists (checked here with a stand-in)."""

from dataclasses import dataclass

import numpy as np

from app import exporting
from engine.skeletons import MONOCAP_BODY
from engine.take import Take


def _take(n=10):
    j = np.zeros((n, MONOCAP_BODY.num_joints, 3))
    return Take(j, MONOCAP_BODY, 30.0, np.arange(n) / 30, np.ones(n, bool))


def test_fallback_writes_npz_and_csv_with_a_frame_range(tmp_path, monkeypatch):
    monkeypatch.setattr(exporting, "HAVE_FORMATS", False)
    paths = exporting.export(_take(), exporting.ExportRequest(str(tmp_path), "t", ("npz", "csv"), frame_range=(2, 6)))
    assert [p.name for p in paths] == ["t.npz", "t.csv"]
    assert len((tmp_path / "t.csv").read_text().strip().splitlines()) == 1 + 4
    assert exporting.available_formats() == ["npz", "csv"]


def test_uses_engine_formats_when_present(tmp_path, monkeypatch):
    calls = []

    @dataclass(frozen=True)
    class Options:
        rig: str = "default"
        units: str = "cm"
        fps: float | None = None
        frame_range: tuple | None = None

    def export_take(take, path, fmt, options):
        calls.append((take.num_frames, path.name, fmt, options))
        path.write_text("x")
        return path

    monkeypatch.setattr(exporting, "HAVE_FORMATS", True)
    monkeypatch.setattr(exporting, "FORMATS", {"bvh": None, "csv": None, "trc": None})
    monkeypatch.setattr(exporting, "ExportOptions", Options)
    monkeypatch.setattr(exporting, "export_take", export_take)
    assert exporting.available_formats() == ["bvh", "csv", "trc"]
    req = exporting.ExportRequest(str(tmp_path), "t", ("bvh", "csv"), units="m", fps=24.0, frame_range=(1, 5))
    paths = exporting.export(_take(), req)
    assert [p.name for p in paths] == ["t.bvh", "t.csv"]
    assert calls[0][2] == "bvh" and calls[0][3] == Options("default", "m", 24.0, (1, 5))
