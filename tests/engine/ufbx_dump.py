"""Run by the tests' Python (tests/engine/animation/export_clients.py):

    python ufbx_dump.py FILE.fbx OUT.npz

reads the FBX with ufbx (the strict reader newer game engines use), converted to right-handed
Y up and metres, and writes every bone's world position at every frame of the first animation
stack (frames at the scene's rate), the bone names, the rate, the number of stacks and the scene's
own axes and unit. Imports nothing from Monocap.

The ufbx 0.0.5 bindings free some of their objects wrongly when the garbage collector visits
them and crash on a null element reference (the root's parent): the collector stays off, every
object stays alive, no parent is asked for, and the script leaves with os._exit."""

import gc
import os
import sys

import numpy as np
import ufbx


def main() -> None:
    gc.disable()
    path, out = sys.argv[1], sys.argv[2]
    scene = ufbx.load_file(path, target_axes=ufbx.axes_right_handed_y_up, target_unit_meters=1.0)
    settings = scene.settings
    fps = float(settings.frames_per_second)
    stacks = scene.anim_stacks
    stack = stacks[0]
    anim = stack.anim
    begin, end = float(stack.time_begin), float(stack.time_end)
    count = int(round((end - begin) * fps)) + 1
    nodes = scene.nodes
    every = [nodes[i] for i in range(len(nodes))]
    attributes = [n.bone for n in every]
    bones = [i for i in range(len(every)) if attributes[i] is not None]
    names = [every[i].name for i in bones]
    positions = np.empty((count, len(bones), 3))
    keep = [scene, settings, stacks, stack, anim, nodes, every, attributes]
    for t in range(count):
        state = ufbx.evaluate_scene(scene, anim, begin + t / fps)
        state_nodes = state.nodes
        keep += [state, state_nodes]
        for k, i in enumerate(bones):
            node = state_nodes[i]
            keep.append(node)
            matrix = node.node_to_world
            c = matrix.c3
            keep += [matrix, c]
            positions[t, k] = (c.x, c.y, c.z)
    axes = settings.axes
    keep.append(axes)
    np.savez(out, names=np.array(names), positions=positions, fps=fps, stacks=len(stacks),
             unit_meters=float(settings.unit_meters),
             axes=np.array([int(axes.right), int(axes.up), int(axes.front)]))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
