"""Takes of several people played back together: a STEM_people.json listing (written by
`monocap process --people all` or by recording everyone in the app) and its STEM_pN takes, on one
timeline, each person in their own colour in the 3D view.

The timeline runs over the listing's frames (0 to the last frame of anyone); each person is shown
on their own frames, from `first_frame` on. The person chosen (the take opened, or rank 1 when
the listing itself is opened) is the window's take: their take padded to the whole timeline
(invalid where they are not there), so the angle plot, the 2D view and export follow them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from engine.core.errors import InputError, MonocapError
from engine.core.input_checks import DEFAULT_LIMITS
from engine.core.take import Take

LISTING_SUFFIX = "_people.json"
_PERSON_STEM = re.compile(r"^(?P<stem>.+)_p(?P<number>\d+)$")
_TAKE_SUFFIXES = (".npz", ".bvh", ".csv", ".trc")  # the readers tried for a person's take, in this order


@dataclass(frozen=True, eq=False)
class GroupPerson:
    number: int
    take: Take
    first_frame: int
    path: Path


@dataclass(frozen=True, eq=False)
class PeopleGroup:
    listing: Path
    people: tuple[GroupPerson, ...]  # by number
    fps: float
    num_frames: int
    video: Path | None
    ranked: tuple[int, ...]  # numbers, rank 1 first

    @property
    def stem(self) -> str:
        return self.listing.name[: -len(LISTING_SUFFIX)]

    def person(self, number: int) -> GroupPerson:
        return next(p for p in self.people if p.number == number)

    def poses_at(self, frame: int) -> dict[int, np.ndarray]:
        """Number -> (J, 3) of everyone with a valid pose at this timeline frame."""
        out = {}
        for p in self.people:
            i = frame - p.first_frame
            if 0 <= i < p.take.num_frames and p.take.valid[i]:
                out[p.number] = p.take.joints_m[i]
        return out

    def padded(self, number: int) -> Take:
        """Person `number`'s take over the whole timeline."""
        p = self.person(number)
        t, take, s = self.num_frames, p.take, slice(p.first_frame, p.first_frame + p.take.num_frames)

        def pad(a, fill):
            if a is None:
                return None
            out = np.full((t,) + a.shape[1:], fill, dtype=a.dtype)
            out[s] = a
            return out

        timestamps = np.arange(t) / self.fps
        timestamps[s] = take.timestamps_s
        return replace(take, joints_m=pad(take.joints_m, np.nan), timestamps_s=timestamps,
                       valid=pad(take.valid, False), keypoints_px=pad(take.keypoints_px, np.nan),
                       keypoint_scores=pad(take.keypoint_scores, 0.0),
                       hand_keypoints_px=pad(take.hand_keypoints_px, np.nan),
                       joint_confidence=pad(take.joint_confidence, 0.0), face_curves=pad(take.face_curves, np.nan),
                       metadata={**take.metadata, "people_listing": self.listing.name})


def listing_for(path: str | Path) -> Path | None:
    """The STEM_people.json that `path` is (or, for a take STEM_pN.*, that lies beside it)."""
    path = Path(path)
    if path.name.endswith(LISTING_SUFFIX):
        return path
    m = _PERSON_STEM.match(path.stem)
    if m is None:
        return None
    listing = path.with_name(m["stem"] + LISTING_SUFFIX)
    return listing if listing.is_file() else None


def person_number(path: str | Path) -> int | None:
    m = _PERSON_STEM.match(Path(path).stem)
    return int(m["number"]) if m else None


def load_group(listing: str | Path) -> PeopleGroup:
    """Reads the listing and every take it names; raises InputError (one line) for a bad one."""
    from engine.session.recorder import load_take

    listing = Path(listing)

    def bad(why: str) -> InputError:
        return InputError(f"{listing}: not a listing of people's takes ({why})")

    try:
        data = json.loads(listing.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{listing}: cannot read it ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad(f"not JSON: {exc}") from None
    entries = data.get("people") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise bad("no list of people")
    people, ranks = [], {}
    for k, e in enumerate(entries):
        if not isinstance(e, dict) or not all(isinstance(e.get(key), int) and not isinstance(e.get(key), bool)
                                              for key in ("number", "first_frame")) \
                or not isinstance(e.get("stem"), str) or e["first_frame"] < 0 or e["number"] < 1:
            raise bad(f"entry {k + 1} needs a number, a stem and a first_frame of 0 or more")
        DEFAULT_LIMITS.check_frames(e["first_frame"], f"{listing}: person {e['number']}'s first_frame")
        stem = e["stem"]
        if Path(stem).name != stem:
            raise bad(f"person {e['number']}'s stem {stem!r} is not a file name")
        candidates = [listing.with_name(stem + suffix) for suffix in _TAKE_SUFFIXES]
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            raise bad(f"person {e['number']}'s take {stem}.npz (or .bvh, .csv, .trc) is not beside it")
        try:
            take, _ = load_take(path)
        except MonocapError:
            raise
        except Exception as exc:  # noqa: BLE001 - any reader's failure: one line naming the file
            raise InputError(f"{path}: cannot read it ({exc})") from None
        if take.num_frames == 0:
            raise bad(f"person {e['number']}'s take {path.name} has no frames")
        people.append(GroupPerson(e["number"], take, e["first_frame"], path))
        ranks[e["number"]] = e.get("rank") if isinstance(e.get("rank"), int) else len(entries) + k
    numbers = [p.number for p in people]
    if len(set(numbers)) != len(numbers):
        raise bad("a person is listed twice")
    fps = people[0].take.fps
    for p in people:
        if p.take.skeleton.joint_names != people[0].take.skeleton.joint_names:
            raise bad(f"person {p.number}'s take is on skeleton {p.take.skeleton.name}, "
                      f"person {people[0].number}'s on {people[0].take.skeleton.name}")
        if abs(p.take.fps - fps) > 1e-6 * fps:
            raise bad(f"person {p.number}'s take runs at {p.take.fps:g} fps, person {people[0].number}'s at {fps:g}")
    total = max(p.first_frame + p.take.num_frames for p in people)
    DEFAULT_LIMITS.check_frames(total, str(listing))
    video = listing.with_name(listing.name[: -len(LISTING_SUFFIX)] + ".avi")
    return PeopleGroup(listing, tuple(sorted(people, key=lambda p: p.number)), fps, total,
                       video if video.is_file() else None, tuple(sorted(numbers, key=lambda n: (ranks[n], n))))


class PeoplePlayback:
    """The window's playback of a group: `open` when a take is selected, `show` each frame."""

    def __init__(self, view3d):
        self.view3d = view3d
        self.group: PeopleGroup | None = None
        self.chosen: int | None = None

    def take_path(self, path: str | Path) -> Path:
        """The take file to list for `path`: a listing opens as its rank 1 person's take."""
        path = Path(path)
        if not path.name.endswith(LISTING_SUFFIX):
            return path
        group = load_group(path)
        return group.person(group.ranked[0]).path

    def open(self, path: Path, take: Take, video: Path | None) -> tuple[Take, Path | None]:
        """The take and video to play for the take file `path`: a person's take of a group plays
        the group (their take padded to its timeline, the group's video)."""
        self.close()
        listing = listing_for(path)
        if listing is None or person_number(path) is None:
            return take, video
        group = load_group(listing)
        number = person_number(path)
        if number not in {p.number for p in group.people}:
            return take, video
        self.group, self.chosen = group, number
        return group.padded(number), group.video or video

    def show(self, frame: int) -> None:
        if self.group is not None:
            skeleton = self.group.person(self.chosen).take.skeleton
            self.view3d.set_people(self.group.poses_at(frame), skeleton, self.chosen)

    def close(self) -> None:
        if self.group is not None:
            self.group, self.chosen = None, None
            self.view3d.set_people({}, None, None)
