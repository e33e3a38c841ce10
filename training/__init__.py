"""Training and evaluation of the networks the engine runs. Imports engine; never imported by it."""
