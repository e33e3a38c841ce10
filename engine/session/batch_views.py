"""Multi-camera takes in a batch (`monocap batch FOLDER --calibration FILE`, or `--multi-camera`): each
take is a folder holding its calibrated cameras' videos, one a camera, and, where the cameras moved
since another take, its own calibration file; each becomes the files `monocap process A.mp4 B.mp4
--calibration FILE` writes, named after the folder, through the one-camera batch's jobs, manifest,
atomic sets, locks and interrupts (engine/session/batch.py runs them; docs/MULTICAMERA.md).

    takes/rig.toml                                 # given with --calibration
    takes/monday_walk/cam01.mp4, cam02.mp4         # -> OUT/monday_walk.npz/.csv/.bvh/.json
    takes/tuesday_jump/cam01.mp4, cam02.mp4, calibration.toml   # its own calibration wins
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Callable

from engine.core.errors import InputError
from engine.core.take import Take
from engine.core.video_files import is_video_file

CALIBRATION_SUFFIXES = (".toml", ".qca.txt")  # and EasyMocap's intri.yml (with extri.yml) in the folder
MIN_VIEWS = 2


def find_takes(inputs: list[str]) -> list[Path]:
    """The take folders of the inputs (folders, or glob patterns of folders): each folder at or
    under an input that holds videos itself, in order, each once. InputError (one line) for an
    input that is not a folder, or when no folder holds any video."""
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        matches = [path] if path.exists() or not any(ch in item for ch in "*?[") else \
            sorted(Path(p) for p in glob.glob(item, recursive=True))
        for folder in matches:
            if not folder.exists():
                raise InputError(f"{folder}: no such folder")
            if not folder.is_dir():
                raise InputError(f"{folder}: multi-camera takes are folders (one a take, holding its cameras' "
                                 "videos); give the folder of takes, or drop --calibration for single videos")
            found += [f for f in [folder, *sorted(p for p in folder.rglob("*") if p.is_dir())] if _videos(f)]
    unique = list(dict.fromkeys(f.resolve() for f in found))
    if not unique:
        raise InputError("batch: no take folders (folders holding their cameras' videos) in " + " ".join(inputs))
    by_resolved = {f.resolve(): f for f in found}
    return [by_resolved[f] for f in unique]


def _videos(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and is_video_file(p))


def own_calibration(folder: Path) -> Path | None:
    """The calibration file a take's folder holds (None: none). InputError when it holds several."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(CALIBRATION_SUFFIXES))
    if (folder / "intri.yml").is_file():
        files.append(folder)  # EasyMocap's pair, read from the folder
    if len(files) > 1:
        raise InputError(f"{folder}: holds {len(files)} calibration files ({', '.join(p.name for p in files)}); "
                         "keep the one its cameras were calibrated with")
    return files[0] if files else None


def take_inputs(folder: str | Path, calibration: str = "") -> tuple[list[Path], Path]:
    """A take folder's videos and the calibration they go with (its own file, else `calibration`).
    InputError (one line) for a folder of fewer than two videos or without a calibration."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such take folder")
    videos = _videos(folder)
    if len(videos) < MIN_VIEWS:
        held = f"one video ({videos[0].name})" if videos else "no video"
        raise InputError(f"{folder}: holds {held}; a multi-camera take needs a video from each of {MIN_VIEWS} or "
                         "more calibrated cameras")
    own = own_calibration(folder)
    if own is None and not calibration:
        raise InputError(f"{folder}: no calibration: put the cameras' calibration file in the folder (.toml, "
                         ".qca.txt or intri.yml/extri.yml) or give --calibration FILE")
    return videos, own or Path(calibration)


def process_take(item, job, notes: list[str], progress: Callable[[int, int | None], None] | None = None,
                 cancel=None) -> tuple[Take, list[Path]]:
    """One take folder (a BatchItem of a multi-camera BatchJob) -> its take and the files written,
    as `monocap process` writes them for the same videos and calibration; notes get what the user
    should know (views left out, a decoder's crop, offsets found). Raises MonocapError for bad input."""
    from engine.multiview.calibration_files import read_calibration
    from engine.session.multi_camera import process_views
    from engine.session.outputs import write_outputs

    videos, calibration = take_inputs(item.input, job.calibration)
    settings = job.settings | {"input": item.input, "videos": [v.name for v in videos], "calibration": str(calibration)}
    if job.people != 1:  # one take per person, STEM_pN.* and STEM_people.json
        from engine.session.multi_camera_people import process_views_people, write_views_people

        people = process_views_people(videos, read_calibration(calibration), job.config, job.people, progress=progress,
                                      cancel=cancel)
        notes += people.notes
        written = write_views_people(people, job.out_dir, item.stem, job.formats, settings=settings,
                                     options=job.options, notes=notes)
        return people.people[0].take, written
    result = process_views(videos, read_calibration(calibration), job.config, progress=progress, cancel=cancel)
    notes += result.notes
    written = write_outputs(result.take, job.out_dir, item.stem, job.formats, settings=settings, options=job.options,
                            notes=notes)
    return result.take, written
