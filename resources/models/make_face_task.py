"""Builds resources/models/face_landmarker.task from the mediapipe 0.10.21 wheel.

The wheel (Apache-2.0, on PyPI) carries MediaPipe Face Mesh as raw TFLite graphs: the short-range
face detector (BlazeFace, 128x128) and the face landmark model with attention (468 mesh points
plus 10 iris points, 478 in all). MediaPipe Tasks' FaceLandmarker wants them in a `.task` zip,
each carrying image NormalizationOptions metadata: the detector's input is the image scaled to
[-1, 1] (mean 127.5, std 127.5), the landmark model's to [0, 1] (mean 0, std 255). The wheel has
no blendshape model; the expressions come from the landmarks' geometry (docs/FACE.md).

    python resources/models/make_face_task.py            # downloads the wheel with pip
    python resources/models/make_face_task.py --wheel W  # from a wheel already on disk

Needs mediapipe (1.2.x) installed for its metadata writer. Not used at run time.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np
from make_pose_task import add_image_normalization, run_recipe, write_task

DETECTOR_MEMBER = "mediapipe/modules/face_detection/face_detection_short_range.tflite"
LANDMARKER_MEMBER = "mediapipe/modules/face_landmark/face_landmark_with_attention.tflite"
OUTPUT = Path(__file__).with_name("face_landmarker.task")


def merge_iris(model_bytes: bytes) -> bytes:
    """The attention model with its mesh and both irises as one (1, 1, 1, 1434) output: 478 points,
    x, y, z each (the irises' z 0), then the face flag, the two outputs MediaPipe Tasks'
    FaceLandmarker reads. Appends RESHAPE, PAD and CONCATENATION operators; the weights are untouched."""
    import flatbuffers
    from mediapipe.tasks.metadata import schema_py_generated as s

    m = s.ModelT.InitFromObj(s.Model.GetRootAsModel(model_bytes, 0))
    g = m.subgraphs[0]
    names = {g.tensors[i].name.decode(): i for i in g.outputs}
    mesh, flag = names["output_mesh_identity"], names["conv_faceflag"]
    irises = [names["output_left_iris"], names["output_right_iris"]]

    def opcode(builtin):
        for k, c in enumerate(m.operatorCodes):
            if max(c.builtinCode, c.deprecatedBuiltinCode) == builtin:
                return k
        c = s.OperatorCodeT()
        c.builtinCode = builtin
        c.deprecatedBuiltinCode = min(builtin, 127)
        c.version = 1
        m.operatorCodes.append(c)
        return len(m.operatorCodes) - 1

    def buffer(data=None):
        b = s.BufferT()
        if data is not None:
            b.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), np.uint8)
        m.buffers.append(b)
        return len(m.buffers) - 1

    def tensor(name, shape, dtype=s.TensorType.FLOAT32, data=None):
        t = s.TensorT()
        t.name = name.encode()
        t.shape = np.array(shape, np.int32)
        t.type = dtype
        t.buffer = buffer(data)
        g.tensors.append(t)
        return len(g.tensors) - 1

    def const_i32(name, values):
        arr = np.array(values, np.int32)
        return tensor(name, arr.shape, s.TensorType.INT32, arr)

    def op(builtin, inputs, outputs, options_type=0, options=None):
        o = s.OperatorT()
        o.opcodeIndex = opcode(builtin)
        o.inputs = np.array(inputs, np.int32)
        o.outputs = np.array(outputs, np.int32)
        o.builtinOptionsType = options_type
        o.builtinOptions = options
        g.operators.append(o)

    def reshape(src, shape, name):
        out = tensor(name, shape)
        opts = s.ReshapeOptionsT()
        opts.newShape = np.array(shape, np.int32)
        op(s.BuiltinOperator.RESHAPE, [src, const_i32(name + "_shape", shape)], [out],
           s.BuiltinOptions.ReshapeOptions, opts)
        return out

    parts = [reshape(mesh, [468, 3], "mesh_points")]
    for k, iris in enumerate(irises):
        flat = reshape(iris, [5, 2], f"iris{k}_points")
        padded = tensor(f"iris{k}_points_xyz", [5, 3])
        op(s.BuiltinOperator.PAD, [flat, const_i32(f"iris{k}_pad", [[0, 0], [0, 1]])], [padded],
           s.BuiltinOptions.PadOptions, s.PadOptionsT())
        parts.append(padded)
    merged = tensor("face_points", [478, 3])
    copts = s.ConcatenationOptionsT()
    copts.axis = 0
    op(s.BuiltinOperator.CONCATENATION, parts, [merged], s.BuiltinOptions.ConcatenationOptions, copts)
    final = reshape(merged, [1, 1, 1, 1434], "face_landmarks")
    g.outputs = np.array([final, flag], np.int32)
    b = flatbuffers.Builder(1 << 20)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def build(wheel: Path, output: Path = OUTPUT) -> Path:
    with zipfile.ZipFile(wheel) as zf:
        detector = zf.read(DETECTOR_MEMBER)
        landmarker = zf.read(LANDMARKER_MEMBER)
    detector = add_image_normalization(detector, "face_detector", "MediaPipe face detection short range model",
                                   127.5, 127.5)
    landmarker = add_image_normalization(merge_iris(landmarker), "face_landmarks_detector",
                                     "MediaPipe face landmark model with attention (mesh and irises)", 0.0, 255.0)
    return write_task(output, {"face_detector.tflite": detector, "face_landmarks_detector.tflite": landmarker})


def main() -> None:
    run_recipe(build, __doc__.splitlines()[0], OUTPUT)


if __name__ == "__main__":
    main()
