"""Run by a Python that has Blender's `bpy` module (tests/engine/animation/test_blender_import.py):

    python blender_dump.py FILE OUT.npz SCALE [FPS]

imports a BVH with Blender's own importer (File > Import > Motion Capture, Y up, -Z forward), or
an FBX or glTF with Blender's own importers and their defaults, and writes every bone's head per
frame (every frame of the animation's keys), back in Monocap's axes (Y up) and multiplied by SCALE
(BVH; FBX and glTF import in metres and ignore it), with the bone names and the scene's frame rate.
Imports nothing from Monocap."""

import os
import sys

import bpy
import numpy as np


def import_file(path: str, scale: float, fps: float) -> None:
    """Blender's own importer for the file's extension, with its default settings (FBX and glTF:
    the axes and units the file says; glTF keys are placed at the scene's rate, set to `fps`)."""
    if path.lower().endswith(".bvh"):
        bpy.ops.import_anim.bvh(filepath=path, global_scale=scale, axis_forward="-Z", axis_up="Y",
                                update_scene_fps=True, update_scene_duration=True, rotate_mode="NATIVE")
    elif path.lower().endswith(".fbx"):
        bpy.ops.import_scene.fbx(filepath=path)
    else:
        scene = bpy.context.scene
        scene.render.fps = round(fps)
        scene.render.fps_base = round(fps) / fps
        bpy.ops.import_scene.gltf(filepath=path)


def main() -> None:
    path, out, scale = sys.argv[1], sys.argv[2], float(sys.argv[3])
    fps = float(sys.argv[4]) if len(sys.argv) > 4 else 30.0
    bpy.ops.wm.read_factory_settings(use_empty=True)
    import_file(path, scale, fps)
    armature = next(o for o in bpy.context.scene.objects if o.type == "ARMATURE")
    scene = bpy.context.scene
    frames = range(scene.frame_start, scene.frame_end + 1)
    action = armature.animation_data.action if armature.animation_data else None
    if not path.lower().endswith(".bvh") and action is not None:  # the keys' own range
        first, last = action.frame_range
        frames = range(int(round(first)), int(round(last)) + 1)
    bones = armature.pose.bones
    heads = np.empty((len(frames), len(bones), 3))
    for i, frame in enumerate(frames):
        scene.frame_set(frame)
        for j, bone in enumerate(bones):
            h = armature.matrix_world @ bone.head
            heads[i, j] = (h.x, h.z, -h.y)  # Blender's Z-up (x, y, z) is the file's (x, -z, y)
    np.savez(out, names=np.array([b.name for b in bones]), heads=heads,
             fps=scene.render.fps / scene.render.fps_base, version=bpy.app.version_string)
    sys.stdout.flush()
    os._exit(0)  # bpy 4.2 as a module can crash while the interpreter shuts down after a glTF import


if __name__ == "__main__":
    main()
