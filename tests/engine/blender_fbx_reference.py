"""Run by a Python that has Blender's `bpy` module (tests/engine/animation/test_fbx_export.py):

    python blender_fbx_reference.py IN.bvh OUT.fbx SCALE

imports the BVH with Blender's own importer (Y up, -Z forward, its lengths times SCALE in metres)
and writes it with Blender's own FBX exporter (its defaults: Y up, -Z forward, the animation baked,
no leaf bones), as the reference of an FBX that engines accept. Imports nothing from Monocap."""

import os
import sys

import bpy


def main() -> None:
    src, out, scale = sys.argv[1], sys.argv[2], float(sys.argv[3])
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_anim.bvh(filepath=src, global_scale=scale, axis_forward="-Z", axis_up="Y",
                            update_scene_fps=True, update_scene_duration=True, rotate_mode="NATIVE")
    bpy.ops.export_scene.fbx(filepath=out, object_types={"ARMATURE"}, add_leaf_bones=False, bake_anim=True,
                             bake_anim_use_all_actions=False, bake_anim_use_nla_strips=False,
                             bake_anim_simplify_factor=0.0)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
