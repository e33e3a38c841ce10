"""`python -m engine.cli`: the `monocap` command line."""

from engine.cli import entry

if __name__ == "__main__":
    entry()
