"""Monocap's engine: frames in, poses and animation files out. No Qt here."""

__version__ = "0.1.0"
