"""Builds the demo extension so `freerace repro --build` can run its findings.

Each file of raceext/ is one module. Modules that need a newer Python than the one building them
(critical sections, PyMutex and Py_mod_gil arrived in 3.13) are optional: on an older Python they
are skipped and the rest still build. profiler/collector.pyx needs Cython and is not built here.
"""
from setuptools import Extension, setup

MODULES = ["buffer", "jit", "registry", "sampler", "table"]

setup(
    name="freerace-examples",
    version="0.1",
    packages=["raceext", "profiler"],
    ext_modules=[
        Extension(f"raceext.{name}", [f"raceext/{name}.c"], optional=True) for name in MODULES
    ],
)
