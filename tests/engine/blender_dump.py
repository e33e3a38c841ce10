"""Run by a Python that has Blender's `bpy` module (tests/engine/animation/test_blender_import.py):

    python blender_dump.py FILE.bvh OUT.npz SCALE

imports the BVH with Blender's own importer (File > Import > Motion Capture, Y up, -Z forward)
and writes every bone's head per frame, back in the file's axes (Y up) and multiplied by SCALE,
with the bone names and the scene's frame rate. Imports nothing from Monocap."""

import sys

import bpy
import numpy as np


def main() -> None:
    path, out, scale = sys.argv[1], sys.argv[2], float(sys.argv[3])
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_anim.bvh(filepath=path, global_scale=scale, axis_forward="-Z", axis_up="Y",
                            update_scene_fps=True, update_scene_duration=True, rotate_mode="NATIVE")
    armature = next(o for o in bpy.context.scene.objects if o.type == "ARMATURE")
    scene = bpy.context.scene
    frames = range(scene.frame_start, scene.frame_end + 1)
    bones = armature.pose.bones
    heads = np.empty((len(frames), len(bones), 3))
    for i, frame in enumerate(frames):
        scene.frame_set(frame)
        for j, bone in enumerate(bones):
            h = armature.matrix_world @ bone.head
            heads[i, j] = (h.x, h.z, -h.y)  # Blender's Z-up (x, y, z) is the file's (x, -z, y)
    np.savez(out, names=np.array([b.name for b in bones]), heads=heads,
             fps=scene.render.fps / scene.render.fps_base, version=bpy.app.version_string)


if __name__ == "__main__":
    main()
