"""Readers of the public pose data sets (each turns a release folder into PoseSample lists)."""
