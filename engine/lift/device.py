"""The one choice of torch device, from a `LiftConfig.device` setting (training runs there; the
program's 3D modes run their exported networks in numpy on the CPU, see `describe_device`)."""

from __future__ import annotations

AUTO_DEVICE = "auto"  # CUDA when present, else the CPU: the default
DEVICES = (AUTO_DEVICE, "cpu", "cuda")


def pick_device(device: str = AUTO_DEVICE):
    """"auto": CUDA when present, else the CPU; otherwise the device named ("cpu", "cuda").
    -> torch.device"""
    import torch

    if device == AUTO_DEVICE:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def describe_device(device: str = AUTO_DEVICE) -> str:
    """What a person reads about where the program's networks run: "CPU". The 3D modes run their
    exported networks in numpy (engine.lift.nets.exported), with or without torch and CUDA; the
    setting picks the device of training (`pick_device`)."""
    return "CPU"
