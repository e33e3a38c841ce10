"""The take shown: which one (a take listed, a take file opened, another person of a group), and
playing it on the timeline: its pose and trails in the 3D view, its video and keypoints in the
image view, the angle plot's curves and cursor; a take of a group of people plays with everyone
in it (app/people_playback.py). A take that cannot be read is a message in the banner."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Slot

from engine.core.errors import describe_error
from engine.session.recorder import load_take

from .angle_plot import AnglePlot
from .image_view import ImageView
from .people_playback import GroupPerson, PeoplePlayback
from .playback import TakeVideo
from .timeline import Timeline
from .view3d import SkeletonView
from .window_state import WindowState
from .window_values import Banner, ListedTake, Mode, TakeFiles

TRAIL_FRAMES = 90  # the trails show this many frames before the one shown


class TakePlayer(QObject):
    def __init__(self, state: WindowState, timeline: Timeline, image_view: ImageView, view3d: SkeletonView,
                 angle_plot: AnglePlot, parent: QObject | None = None):
        super().__init__(parent)
        self._state = state
        self._timeline = timeline
        self._image_view = image_view
        self._view3d = view3d
        self._angle_plot = angle_plot
        self.people = PeoplePlayback(view3d)
        self.take_video: TakeVideo | None = None
        timeline.frameChanged.connect(self.show_frame)
        timeline.playingChanged.connect(state.set_playing)

    def select(self, name: str) -> None:
        """Shows the listed take `name`; the take shown already stays where it is."""
        st = self._state
        if st.mode is Mode.PLAYBACK and name == st.take_name and st.current_take is not None:
            return
        try:
            self.open(name, st.takes[name].path)
        except Exception as exc:  # noqa: BLE001 - a take Monocap cannot read: one clear line
            st.show(Banner(describe_error(exc), "error"))

    def open_file(self, path: str | Path) -> Path | None:
        """Lists a take file (any BVH, CSV, TRC, NPZ) and shows it; returns the file listed (a
        listing of people's takes: its first person's), None when it cannot be read."""
        try:
            path = self.people.take_path(path)
            take, video = load_take(path)
        except Exception as exc:  # noqa: BLE001
            self._state.show(Banner(describe_error(exc), "error"))
            return None
        self._state.list_take(ListedTake(path.name, TakeFiles(path, video), take.num_frames, take.fps))
        self.select(path.name)
        return path

    @Slot(object)
    def play_person(self, person: GroupPerson) -> None:
        """Another person of the group shown: their take, at the same frame."""
        frame = self._timeline.frame
        name = person.path.stem
        if name not in self._state.takes:
            self._state.list_take(ListedTake(name, TakeFiles(person.path, None), person.take.num_frames,
                                             person.take.fps))
        self.select(name)
        self._timeline.slider.setValue(frame)

    def open(self, name: str, path: Path) -> None:
        """Shows the take file `path` (listed as `name`) at its first frame; raises what reading it raised."""
        take, video = load_take(path)
        take, video = self.people.open(path, take, video)  # several people's takes play together
        self.stop(keep_people=True)
        self._image_view.set_people((), None)  # the live source's people are not the take's
        self.take_video = TakeVideo(video) if video else None
        self._state.select_take(name, take)
        self._angle_plot.set_take(take.timestamps_s, take.joints_m, take.skeleton, take.face_curves, take.face_curve_names)
        self._view3d.clear_trails()
        self._view3d.show_take(take.joints_m)
        if self.take_video is None:  # a take from elsewhere: no frame of some other video stays in the image
            self._image_view.clear(f"{name} has no video: its motion plays in the 3D view.")
        self._timeline.set_take(take.num_frames, take.fps)

    def reload(self, name: str) -> None:
        """The take file of `name` changed on disk: shown again where it was, if it is the take shown."""
        st = self._state
        if st.mode is not Mode.PLAYBACK or st.take_name != name or name not in st.takes:
            return
        take, _ = load_take(st.takes[name].path)
        if st.current_take is None or take.num_frames != st.current_take.num_frames:
            self.open(name, st.takes[name].path)
            return
        st.take_replaced(take)  # the same frames and video: playing and the timeline go on where they are
        self._angle_plot.set_take(take.timestamps_s, take.joints_m, take.skeleton, take.face_curves, take.face_curve_names)
        self.show_frame(self._timeline.frame)

    def stop(self, keep_people: bool = False) -> None:
        """Pauses and lets the take's video go (and the group's people, unless kept)."""
        if not keep_people:
            self.people.close()
        self._timeline.set_playing(False)
        if self.take_video is not None:
            self.take_video.close()
            self.take_video = None

    @Slot()
    def close(self) -> None:
        """No take on the timeline any more."""
        self.stop()
        self._timeline.clear()

    def toggle_play(self) -> None:
        if self._state.mode is Mode.PLAYBACK:
            self._timeline.toggle_play()

    @Slot(int)
    def show_frame(self, i: int) -> None:
        take = self._state.current_take
        if take is None or self._state.mode is not Mode.PLAYBACK or not 0 <= i < take.num_frames:
            return
        if take.valid[i]:
            self._view3d.set_pose(take.joints_m[i], take.skeleton, trail=False)
        else:
            self._view3d.clear_pose()
        self._view3d.set_trail_history(take.joints_m[max(0, i - TRAIL_FRAMES): i + 1], take.skeleton)
        self.people.show(i)
        image = self.take_video.read(i) if self.take_video is not None else None
        if image is not None:
            kp = take.keypoints_px[i] if take.keypoints_px is not None else None
            scores = take.keypoint_scores[i] if take.keypoint_scores is not None else None
            hands = take.hand_keypoints_px[i] if take.hand_keypoints_px is not None else None
            self._image_view.set_frame(image, kp, scores, hands_px=hands)
        self._angle_plot.set_cursor(float(take.timestamps_s[i]))
        self._state.take_frame_shown(bool(take.valid[i]), i)
