"""Builds resources/models/hand_landmarker.task from the mediapipe 0.10.21 wheel.

The wheel (Apache-2.0, on PyPI) carries MediaPipe Hands "full" as two raw TFLite graphs: the palm
detector and the 21-keypoint hand landmark model. MediaPipe Tasks' HandLandmarker wants them in a
`.task` zip, each carrying image NormalizationOptions metadata (mean 0, std 255).

    python resources/models/make_hand_task.py            # downloads the wheel with pip
    python resources/models/make_hand_task.py --wheel W  # from a wheel already on disk

Needs mediapipe (1.2.x) installed for its metadata writer. Not used at run time.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_pose_task import add_image_normalization, run_recipe, write_task

DETECTOR_MEMBER = "mediapipe/modules/palm_detection/palm_detection_full.tflite"
LANDMARKER_MEMBER = "mediapipe/modules/hand_landmark/hand_landmark_full.tflite"
OUTPUT = Path(__file__).with_name("hand_landmarker.task")


def build(wheel: Path, output: Path = OUTPUT) -> Path:
    with zipfile.ZipFile(wheel) as zf:
        detector = zf.read(DETECTOR_MEMBER)
        landmarker = zf.read(LANDMARKER_MEMBER)
    detector = add_image_normalization(detector, "hand_detector", "MediaPipe palm detection full model")
    landmarker = add_image_normalization(landmarker, "hand_landmarks_detector",
                                         "MediaPipe hand landmark full model")
    return write_task(output, {"hand_detector.tflite": detector, "hand_landmarks_detector.tflite": landmarker})


def main() -> None:
    run_recipe(build, __doc__.splitlines()[0], OUTPUT)


if __name__ == "__main__":
    main()
