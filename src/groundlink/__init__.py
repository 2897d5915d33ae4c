"""groundlink: an open, self-hostable ground-station-as-a-service platform.

The core (orbits, stations, passes) is pure: no I/O, no global state, and
time is always an explicit argument. See ``DESIGN.md`` in the repository.
"""

from groundlink.errors import GroundlinkError, InvalidInput

__version__ = "0.1.0"

__all__ = ["GroundlinkError", "InvalidInput", "__version__"]
