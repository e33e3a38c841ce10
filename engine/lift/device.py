"""Where the networks run: the one choice of torch device, from a `LiftConfig.device` setting."""

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
    """What a person reads: "CPU" or "CUDA (the card's name)"."""
    if device == "cpu":
        return "CPU"
    try:
        import torch

        if pick_device(device).type == "cuda" and torch.cuda.is_available():
            return f"CUDA ({torch.cuda.get_device_name(0)})"
    except Exception:  # noqa: BLE001 - no torch, or a broken driver: the CPU it is
        pass
    return "CPU"
