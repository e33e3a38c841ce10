"""Desktop-bundle support (named `desktop`, not `packaging`: that name belongs to the PyPI
`packaging` library, which matplotlib, PyInstaller and pip import, and a folder of that name at the
repository root would shadow it).

Holds: the launcher PyInstaller freezes, and the user's standard folders.

Imports engine (lazily) and app (lazily, when present). Neither engine nor app imports this package
at import time; the integrator may let app read `desktop.user_dirs` for its log folder.
"""
