"""Which satellites SGP4 cannot propagate through a window, and from when.

SGP4 returns an error code instead of a position when the elements stop
making sense (codes 1-6, :data:`~groundlink.orbits.propagation.SGP4_ERRORS`).
:func:`first_failures` evaluates every satellite on a regular grid (one
minute by default) and reports, per failing satellite, the first grid time
with a non-zero code and that code. It works through the fleet in chunks so
that memory stays bounded for long windows and large fleets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from groundlink.orbits.elements import OrbitalElements
from groundlink.orbits.propagation import SGP4_ERRORS, SatelliteBatch, split_julian_date

#: Bytes of SGP4 output (positions and velocities, float64) held at once.
_CHUNK_BYTES = 64 * 1024 * 1024
_BYTES_PER_STATE = 6 * 8


@dataclass(frozen=True)
class Sgp4Failure:
    """The first SGP4 failure of one satellite in a window.

    Attributes:
        satellite: the element set.
        code: SGP4's error code, 1-6.
        since: the first grid time (UTC) at which SGP4 returned ``code``.
    """

    satellite: OrbitalElements
    code: int
    since: datetime

    @property
    def meaning(self) -> str:
        """The error code in words."""
        return SGP4_ERRORS.get(self.code, "unknown error")


def first_failures(
    satellites: Sequence[OrbitalElements],
    start: datetime,
    end: datetime,
    step: timedelta = timedelta(minutes=1),
) -> list[Sgp4Failure]:
    """Propagate every satellite from ``start`` to ``end`` every ``step``; report the failures.

    Args:
        satellites: the element sets.
        start, end: the UTC window (timezone-aware); the grid is ``start``,
            ``start + step``, ... up to and including ``end`` when it falls on the grid.
        step: grid spacing.

    Returns:
        One :class:`Sgp4Failure` per satellite that fails somewhere on the
        grid, in input order; empty when all propagate cleanly.
    """
    steps = int((end - start) / step)
    offsets_day = np.arange(steps + 1, dtype=np.float64) * (step / timedelta(days=1))
    jd_whole, jd_fraction = split_julian_date(start)
    whole = np.full(offsets_day.shape, jd_whole)
    fraction = jd_fraction + offsets_day

    batch = SatelliteBatch(satellites)
    per_chunk = max(1, _CHUNK_BYTES // (_BYTES_PER_STATE * offsets_day.size))
    failures: list[Sgp4Failure] = []
    for first in range(0, len(batch), per_chunk):
        indices = range(first, min(first + per_chunk, len(batch)))
        errors = batch.subset(indices).propagate(whole, fraction).error
        failing = errors != 0
        for row in np.flatnonzero(failing.any(axis=1)):
            k = int(failing[row].argmax())
            failures.append(
                Sgp4Failure(
                    satellite=batch.elements[indices[row]],
                    code=int(errors[row, k]),
                    since=start + k * step,
                )
            )
    return failures
