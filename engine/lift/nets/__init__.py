"""Network definitions the engine runs and training/ trains (so checkpoints load without training/)."""
