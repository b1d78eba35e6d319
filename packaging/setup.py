"""The binary wheel: a platform wheel (py3-none-<platform>) whose `freerace` script is the binary.

The version and the binary come from build_wheel.sh (FREERACE_VERSION, FREERACE_BINARY).
"""
import os

import shutil

from setuptools import setup
try:
    from setuptools.command.build_scripts import build_scripts
except ImportError:  # setuptools < 74: its bundled distutils
    from distutils.command.build_scripts import build_scripts

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel


class BinaryWheel(bdist_wheel):
    """Not pure Python (it carries a native program), but not tied to a Python version either."""

    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, plat = super().get_tag()
        return "py3", "none", plat


class CopyProgram(build_scripts):
    """The script is a native program: copied as it is (setuptools would read it as Python)."""

    def copy_scripts(self):
        self.mkpath(self.build_dir)
        outfiles = []
        for script in self.scripts:
            target = os.path.join(self.build_dir, os.path.basename(script))
            shutil.copy2(script, target)
            os.chmod(target, 0o755)
            outfiles.append(target)
        return outfiles, outfiles


binary = os.environ["FREERACE_BINARY"]
setup(
    version=os.environ["FREERACE_VERSION"],
    scripts=[binary],
    cmdclass={"bdist_wheel": BinaryWheel, "build_scripts": CopyProgram},
)
