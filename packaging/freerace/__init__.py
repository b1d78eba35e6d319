"""freerace: the command-line analyzer is the `freerace` program installed with this package."""
import os
import sys
import sysconfig

__all__ = ["find_freerace_bin"]


def find_freerace_bin() -> str:
    """The path of the installed `freerace` program (in this environment's scripts folder)."""
    name = "freerace.exe" if sys.platform == "win32" else "freerace"
    candidates = [sysconfig.get_path("scripts")]
    user = sysconfig.get_path("scripts", f"{os.name}_user")
    if user:
        candidates.append(user)
    candidates.append(os.path.join(os.path.dirname(sys.executable)))
    for folder in candidates:
        path = os.path.join(folder, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise FileNotFoundError(f"the freerace program is not installed next to this Python ({', '.join(candidates)})")
