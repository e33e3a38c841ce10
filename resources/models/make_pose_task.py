"""Builds resources/models/pose_landmarker_full.task from the mediapipe 0.10.21 wheel.

The wheel (Apache-2.0, on PyPI) carries BlazePose GHUM "full" as two raw TFLite graphs.
mediapipe's Tasks PoseLandmarker wants them in a `.task` zip, the landmark graph carrying
image NormalizationOptions metadata (mean 0, std 255).

    python resources/models/make_pose_task.py            # downloads the wheel with pip
    python resources/models/make_pose_task.py --wheel W  # from a wheel already on disk

Needs mediapipe (1.2.x) installed for its metadata writer. Not used at run time.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
import time
import types
import zipfile
from pathlib import Path

WHEEL_SPEC = "mediapipe==0.10.21"
DETECTOR_MEMBER = "mediapipe/modules/pose_detection/pose_detection.tflite"
LANDMARKER_MEMBER = "mediapipe/modules/pose_landmark/pose_landmark_full.tflite"
OUTPUT = Path(__file__).with_name("pose_landmarker_full.task")
# The metadata fields written below (image normalisation, colour space) need parser 1.0.0.
MIN_PARSER_VERSION = "1.0.0"


def _install_parser_version_shim() -> None:
    """mediapipe 1.2.2's metadata writer imports a compiled helper its wheel lacks.

    The helper only reports the minimum parser version of the metadata being written.
    """
    name = "mediapipe.tasks.cc.metadata.python._pywrap_metadata_version"
    try:
        __import__(name)
        return
    except ImportError:
        pass
    parts = name.split(".")
    for depth in range(3, len(parts)):
        package = ".".join(parts[:depth])
        if package not in sys.modules:
            module = types.ModuleType(package)
            module.__path__ = []
            sys.modules[package] = module
    shim = types.ModuleType(name)
    shim.GetMinimumMetadataParserVersion = lambda _buf: MIN_PARSER_VERSION
    sys.modules[name] = shim
    setattr(sys.modules[".".join(parts[:-1])], parts[-1], shim)


# Every zip member, the metadata writer's own archives included, gets this date, so the same
# wheel always gives the same bytes.
ZIP_DATE = (2025, 1, 31, 0, 0, 0)


@contextlib.contextmanager
def fixed_zip_dates():
    real = time.localtime
    time.localtime = lambda *_args: time.struct_time(ZIP_DATE + (4, 31, 0))
    try:
        yield
    finally:
        time.localtime = real


def add_image_normalization(model: bytes, name: str = "pose_landmarks_detector",
                            description: str = "BlazePose GHUM full landmark model",
                            mean: float = 0.0, std: float = 255.0) -> bytes:
    """The model with metadata saying its float input is (the image's RGB - mean) / std."""
    _install_parser_version_shim()
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer

    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    writer.add_general_info(name, description)
    writer.add_image_input(norm_mean=[mean], norm_std=[std])
    with fixed_zip_dates():
        model_with_metadata, _json = writer.populate()
    return bytes(model_with_metadata)


def download_wheel(folder: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
         "--python-version", "3.11", "--platform", "manylinux_2_28_x86_64",
         WHEEL_SPEC, "-d", str(folder)],
        check=True,
    )
    return next(folder.glob("mediapipe-0.10.21-*.whl"))


def build(wheel: Path, output: Path = OUTPUT) -> Path:
    with zipfile.ZipFile(wheel) as zf:
        detector = zf.read(DETECTOR_MEMBER)
        landmarker = zf.read(LANDMARKER_MEMBER)
    return write_task(output, {"pose_detector.tflite": detector,
                               "pose_landmarks_detector.tflite": add_image_normalization(landmarker)})


def write_task(output: Path, members: dict[str, bytes]) -> Path:
    """A `.task` zip of the members, in their order, stored with fixed dates (a rebuild is byte for
    byte the same), written whole or not at all."""
    tmp = output.with_suffix(".task.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, ZIP_DATE), data)
    tmp.replace(output)
    return output


def run_recipe(build_task, description: str, default_output: Path) -> None:
    """The command line of a model recipe: `build_task(wheel, output)` from --wheel or a downloaded wheel."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--wheel", type=Path, help="a mediapipe 0.10.21 wheel on disk")
    parser.add_argument("-o", "--output", type=Path, default=default_output)
    args = parser.parse_args()
    if args.wheel:
        print(build_task(args.wheel, args.output))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            print(build_task(download_wheel(Path(tmp)), args.output))


def main() -> None:
    run_recipe(build, __doc__.splitlines()[0], OUTPUT)


if __name__ == "__main__":
    main()
