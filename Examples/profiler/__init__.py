"""profiler: a toy sampling profiler for the freerace demo (see collector.pyx and sampler.py)."""
