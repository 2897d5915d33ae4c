"""Orbits: element sets (TLE, OMM), SGP4 propagation, reference frames, the Sun.

Part of the core: pure functions of their inputs, no I/O beyond parsing text
handed to them, time always an explicit argument.
"""
