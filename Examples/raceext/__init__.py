"""raceext: a demo C extension for freerace, one module per hazard (see ../README.md)."""
