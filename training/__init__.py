"""Trains and evaluates the networks the engine runs. Never imported by engine or app."""
