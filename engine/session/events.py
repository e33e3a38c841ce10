"""What an engine session reports (engine/session/session.py), and the shape of a pose consumer.

Every event is a plain callable in `SessionEvents`; any left None is not reported. `pose`,
`recording` and `take_saved` are called on the session's tracking thread, in frame order; the
others on the thread that runs the session.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from engine.capture.frames import Frame
from engine.core.take import Take
from engine.session.pipeline import PoseFrame


@dataclass(frozen=True)
class SessionInfo:
    """The source a session opened, and where its networks run."""

    name: str
    fps: float
    frame_count: int | None
    is_live: bool
    device: str  # for people: "CPU", "CUDA (card)"
    notes: tuple[str, ...] = ()  # what the user should know about the source (a frame rate not believed...)
    lift_notice: str = ""  # one line when the 3D mode chosen could not load its model and another runs instead


@dataclass(frozen=True, eq=False)
class TrackedFrame:
    """One live frame through the whole chain. frame.image: (H, W, 3) uint8 BGR."""

    frame: Frame
    pose: PoseFrame  # pose.joints_m: (J, 3) world metres, or None when nobody is in view
    detect_s: float  # the detector's time on this frame
    track_s: float  # the 3D mode and the causal temporal stage's time on this frame
    latency_s: float  # frame picked up -> pose ready
    engine_fps: float  # frames finished per second, recent average
    dropped: int  # live sources: frames skipped because a newer one had arrived
    recording: bool  # this frame went into the take being recorded
    people: tuple = ()  # engine.capture.people.TrackedPerson: everyone tracked in this frame
    person_id: int | None = None  # the tracker id of the person followed (None before anyone was seen)
    merges: tuple = ()  # (newcomer id, id): a newcomer of earlier frames was found to be that person
    captured_ns: int = 0  # time.monotonic_ns() the frame was captured (the source's clock, else when picked up)
    frame_count: int | None = None  # the source's frames in all (None: live or unknown)
    everyone: tuple = ()  # engine.session.live_people.PersonPose of everyone in 3D, one world (when asked)


@dataclass(frozen=True, eq=False)
class DetectedFrame:
    """What the detection step hands the tracking step with a frame (engine/session/live_stage.py)."""

    picked_up_s: float  # time.perf_counter() the frame was taken from the source
    detect_s: float  # the detector's time on it
    people: tuple  # engine.capture.people.TrackedPerson: everyone tracked in it
    person_id: int | None  # the person followed
    merges: tuple  # (newcomer id, id) pairs found since the last frame
    captured_ns: int


@dataclass(frozen=True)
class RecordingState:
    recording: bool
    name: str = ""
    frames: int = 0


@dataclass(frozen=True, eq=False)
class TakeSaved:
    name: str
    path: Path
    take: Take
    video_path: Path | None
    recovered: bool = False
    source_path: Path | None = None  # the video file the frames came from (None: a camera)
    source_frames: tuple[int, ...] = ()  # the source's frame index of each of the take's frames


@dataclass(frozen=True)
class SessionEnd:
    name: str
    frames: int  # frames the session finished
    error: BaseException | None = None  # what ended it, when a problem did
    cancelled: bool = False


@dataclass
class SessionEvents:
    opened: Callable[[SessionInfo], None] | None = None
    progress: Callable[[int, int | None], None] | None = None  # frames done, frames in all (None: unknown)
    pose: Callable[[TrackedFrame], None] | None = None
    recording: Callable[[RecordingState], None] | None = None
    take_saved: Callable[[TakeSaved], None] | None = None
    error: Callable[[BaseException], None] | None = None
    ended: Callable[[SessionEnd], None] | None = None


class PoseSink(Protocol):
    """A consumer of every live pose (a streamer, a tracker of several people...), attached with
    `Session.add_sink`. Both calls run on the session's tracking thread; an exception in either
    ends the session with that error."""

    def on_pose(self, frame: TrackedFrame) -> None: ...

    def close(self) -> None:
        """The session has ended (after its last pose)."""
