from setuptools import Extension, setup

setup(
    name="bufrace",
    version="0.1",
    ext_modules=[Extension("bufrace", ["bufrace.c"])],
)
