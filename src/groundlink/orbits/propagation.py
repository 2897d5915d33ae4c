"""SGP4 propagation of many satellites at once, on top of python-sgp4.

``sgp4``'s :class:`~sgp4.api.SatrecArray` runs Vallado's C++ SGP4/SDP4 over
a whole population and a whole time grid in one call; this module only turns
:class:`~groundlink.orbits.elements.OrbitalElements` into ``Satrec`` objects
(through ``sgp4init``, the same path as ``sgp4.omm``) and names the error
codes. Like ``sgp4`` itself, batch calls return error codes instead of
raising, so that one decayed satellite does not abort ten thousand.

Positions and velocities are in the TEME frame, km and km/s. Times are two-part
Julian dates on the UTC scale (SGP4 element epochs are UTC).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
from sgp4.api import WGS72, Satrec, SatrecArray

from groundlink.orbits.elements import OrbitalElements

FloatArray = npt.NDArray[np.float64]

#: Meaning of SGP4's error codes (Vallado's SGP4 and python-sgp4).
SGP4_ERRORS: dict[int, str] = {
    1: "mean eccentricity is outside the range 0 <= e < 1",
    2: "mean motion has fallen below zero",
    3: "perturbed eccentricity is outside the range 0 <= e <= 1",
    4: "semi-latus rectum has fallen below zero",
    5: "epoch elements are sub-orbital (not raised by current SGP4 versions)",
    6: "satellite has decayed (the position returned is not valid)",
}

_SGP4_EPOCH0 = datetime(1949, 12, 31, tzinfo=UTC)
_JD_SGP4_EPOCH0 = 2433281.5
_DEG = math.pi / 180.0
_NDOT_UNITS = 1036800.0 / math.pi  # rev/day² → rad/min², as in sgp4.omm
_NDDOT_UNITS = 2985984000.0 / 2.0 / math.pi  # rev/day³ → rad/min³
# rev/day per rad/min, written as SGP4's TLE reader writes it (xpdotp), so that
# elements read from a TLE reproduce the published verification runs bit for bit.
_REV_PER_DAY_PER_RAD_PER_MIN = 1440.0 / (2.0 * math.pi)

#: WGS-72 constants that SGP4 itself uses.
MU_KM3_S2 = 398600.8
EARTH_RADIUS_KM = 6378.135
J2 = 0.001082616


def split_julian_date(moment: datetime) -> tuple[float, float]:
    """Return ``moment`` (timezone-aware) as a two-part UTC Julian date (whole .5, fraction)."""
    delta = moment.astimezone(UTC) - _SGP4_EPOCH0
    fraction = (delta.seconds + delta.microseconds / 1e6) / 86400.0
    return _JD_SGP4_EPOCH0 + delta.days, fraction


def satrec_from_elements(elements: OrbitalElements) -> Satrec:
    """Initialise an SGP4 ``Satrec`` (WGS-72, improved mode) from one element set.

    The epoch is set exactly as a two-part Julian date, so that propagating to
    ``jdsatepoch + jdsatepochF + tsince`` reproduces the C++ verification runs.
    """
    jd_whole, jd_fraction = split_julian_date(elements.epoch)
    satrec = Satrec()
    satrec.sgp4init(
        WGS72,
        "i",
        elements.norad_cat_id,
        # Summed as Vallado's TLE reader sums it (rounding the Julian date to
        # ~40 µs): the epoch feeds only SDP4's lunisolar set-up, and this keeps
        # results bit for bit equal to the published verification runs.
        (jd_whole + jd_fraction) - _JD_SGP4_EPOCH0,
        elements.bstar,
        elements.mean_motion_dot / _NDOT_UNITS,
        elements.mean_motion_ddot / _NDDOT_UNITS,
        elements.eccentricity,
        elements.arg_of_pericenter * _DEG,
        elements.inclination * _DEG,
        elements.mean_anomaly * _DEG,
        elements.mean_motion / _REV_PER_DAY_PER_RAD_PER_MIN,
        elements.ra_of_asc_node * _DEG,
    )
    satrec.jdsatepoch = jd_whole
    satrec.jdsatepochF = jd_fraction
    return satrec


@dataclass(frozen=True)
class Propagation:
    """SGP4 states of N satellites at T times.

    Attributes:
        error: SGP4 error code per satellite and time, shape (N, T), 0 = valid.
        position_km: TEME position, shape (N, T, 3), km.
        velocity_km_s: TEME velocity, shape (N, T, 3), km/s.
    """

    error: npt.NDArray[np.uint8]
    position_km: FloatArray
    velocity_km_s: FloatArray


class SatelliteBatch:
    """A population of satellites ready to propagate together.

    Build it once from element sets; :meth:`propagate` then evaluates SGP4 for
    every satellite at every time of a grid in one C++ call.
    """

    def __init__(self, elements: Sequence[OrbitalElements]) -> None:
        self.elements: tuple[OrbitalElements, ...] = tuple(elements)
        self.satrecs: tuple[Satrec, ...] = tuple(satrec_from_elements(e) for e in elements)
        self._array = SatrecArray(list(self.satrecs)) if self.satrecs else None

    def __len__(self) -> int:
        return len(self.elements)

    def subset(self, indices: Sequence[int]) -> SatelliteBatch:
        """Return a batch of the satellites at ``indices`` (in that order)."""
        batch = SatelliteBatch.__new__(SatelliteBatch)
        batch.elements = tuple(self.elements[i] for i in indices)
        batch.satrecs = tuple(self.satrecs[i] for i in indices)
        batch._array = SatrecArray(list(batch.satrecs)) if batch.satrecs else None
        return batch

    def propagate(self, jd_whole: FloatArray, jd_fraction: FloatArray) -> Propagation:
        """Propagate every satellite to every time of a two-part UTC Julian date grid.

        Returns:
            A :class:`Propagation` with arrays shaped (N, T) and (N, T, 3).
        """
        jd_whole = np.ascontiguousarray(jd_whole, dtype=np.float64)
        jd_fraction = np.ascontiguousarray(jd_fraction, dtype=np.float64)
        if self._array is None:
            empty = np.zeros((0, jd_whole.size, 3))
            return Propagation(np.zeros((0, jd_whole.size), np.uint8), empty, empty.copy())
        error, position, velocity = self._array.sgp4(jd_whole, jd_fraction)
        return Propagation(error.astype(np.uint8), position, velocity)

    def radius_bound_km(self, sampled_position_km: FloatArray) -> FloatArray:
        """Upper bound of each satellite's geocentric distance between samples, km, (N,).

        The largest sampled distance (positions (3, N, T), NaN where SGP4 failed)
        plus the orbit's whole radial excursion 2ae and 10 km for short-period
        terms: the distance cannot exceed a sample by more than it varies. Where
        no sample is valid, the mean apogee with a 2% margin.
        """
        a = np.array([s.a for s in self.satrecs]) * EARTH_RADIUS_KM
        e = np.array([s.ecco for s in self.satrecs])
        radius = np.sqrt(np.sum(sampled_position_km**2, axis=0))
        with np.errstate(invalid="ignore"):
            sampled = np.nanmax(np.where(np.isnan(radius), -np.inf, radius), axis=1)
        fallback = a * (1.0 + e) * 1.02
        return np.where(np.isfinite(sampled), sampled + 2.0 * a * e + 10.0, fallback)

    def angular_rate_bound_rad_s(self) -> FloatArray:
        """Upper bound of each satellite's angular rate seen from Earth's centre, rad/s.

        The Keplerian rate peaks at perigee at sqrt(mu p)/r_p²; the bound adds
        Earth's rotation (rates are needed in the rotating frame) and a 5%
        margin for perturbations. Shape (N,).
        """
        a = np.array([s.a for s in self.satrecs]) * EARTH_RADIUS_KM
        e = np.clip(np.array([s.ecco for s in self.satrecs]), 0.0, 0.999)
        perigee = np.maximum(a * (1.0 - e), EARTH_RADIUS_KM * 0.9)
        semi_latus = a * (1.0 - e * e)
        inertial: FloatArray = np.sqrt(MU_KM3_S2 * semi_latus) / perigee**2
        return inertial * 1.05 + 7.2921159e-5


def gravity_acceleration_km_s2(position_km: FloatArray) -> FloatArray:
    """Two-body plus J2 acceleration (WGS-72) at TEME positions (3, ...), km/s², same shape.

    SGP4 trajectories obey this to within 1e-5 of the central term (a few
    1e-6 measured: SGP4's drag and higher zonal terms are missing here); it is used
    as the second derivative for quintic Hermite interpolation between SGP4
    states (see ``groundlink.passes.search``).
    """
    x, y, z = position_km
    r2 = x * x + y * y + z * z
    k = -MU_KM3_S2 / (r2 * np.sqrt(r2))
    j2_term = 1.5 * J2 * EARTH_RADIUS_KM**2 / r2
    z2_ratio = 5.0 * z * z / r2
    horizontal = k * (1.0 + j2_term * (1.0 - z2_ratio))
    return np.stack([horizontal * x, horizontal * y, k * (1.0 + j2_term * (3.0 - z2_ratio)) * z])
