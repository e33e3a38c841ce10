"""PyInstaller run-time hook of the desktop bundle (build.spec), run before the launcher.

mediapipe's vision package imports `matplotlib.pyplot` when it is imported, for one 3D plotting
helper (`drawing_utils.plot_landmarks`) that Monocap never calls. The bundle leaves matplotlib out
(with Pillow, fontTools and kiwisolver: about 40 MB); this puts an empty `matplotlib.pyplot` in
its place, so the import succeeds and any use of it says plainly that it is not there.
"""

import sys
import types


class _Absent(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(f"{self.__name__}.{name}: matplotlib is not part of the Monocap desktop bundle")


if "matplotlib" not in sys.modules:
    sys.modules["matplotlib"] = _Absent("matplotlib")
    sys.modules["matplotlib.pyplot"] = sys.modules["matplotlib"].pyplot = _Absent("matplotlib.pyplot")
