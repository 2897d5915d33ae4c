"""The ground-station model: sites, antennas, bands and horizon masks.

A :class:`GroundStation` sits at a WGS-84 geodetic position and carries one or
more :class:`Antenna`; passes are predicted per antenna, because each antenna
has its own minimum elevation and horizon mask. Values are validated on
construction: an impossible value raises :class:`~groundlink.errors.InvalidInput`
naming the field.

Units: degrees for angles (azimuth clockwise from true north in [0, 360),
elevation above the local horizon), metres for altitude, hertz for frequency,
degrees per second for slew rates.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from groundlink.errors import InvalidInput

Direction = Literal["uplink", "downlink", "both"]


def _require(ok: bool, field_name: str, value: object, expected: str) -> None:
    if not ok:
        raise InvalidInput(field_name, value, expected)


def _finite(value: float) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _whole(value: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class FrequencyBand:
    """A frequency range an antenna can use, in Hz, e.g. X-band downlink 8.025-8.4 GHz."""

    name: str
    min_hz: int
    max_hz: int
    direction: Direction = "downlink"

    def __post_init__(self) -> None:
        _require(
            _whole(self.min_hz) and self.min_hz > 0, "min_hz", self.min_hz, "a positive whole Hz"
        )
        _require(
            _whole(self.max_hz) and self.max_hz >= self.min_hz,
            "max_hz",
            self.max_hz,
            f"whole Hz >= min_hz ({self.min_hz})",
        )
        _require(
            self.direction in ("uplink", "downlink", "both"),
            "direction",
            self.direction,
            "uplink, downlink or both",
        )

    def contains(self, freq_hz: int) -> bool:
        """Whether ``freq_hz`` lies inside this band (bounds included)."""
        return self.min_hz <= freq_hz <= self.max_hz


@dataclass(frozen=True, slots=True)
class HorizonMask:
    """Minimum elevation as a function of azimuth, interpolated linearly and wrapping at 360°.

    ``azimuth_deg`` must be strictly increasing within [0, 360); ``elevation_deg``
    within [0, 90]. Between the last point and 360 + the first, the mask is
    interpolated across north.
    """

    azimuth_deg: tuple[float, ...]
    elevation_deg: tuple[float, ...]

    def __post_init__(self) -> None:
        az, el = self.azimuth_deg, self.elevation_deg
        _require(len(az) >= 1, "horizon_mask", az, "at least one azimuth→elevation point")
        _require(len(az) == len(el), "horizon_mask", az, "as many elevations as azimuths")
        for a in az:
            _require(_finite(a) and 0 <= a < 360, "horizon_mask.azimuth_deg", a, "[0, 360)")
        for e in el:
            _require(_finite(e) and 0 <= e <= 90, "horizon_mask.elevation_deg", e, "[0, 90]")
        _require(
            all(b > a for a, b in itertools.pairwise(az)),
            "horizon_mask.azimuth_deg",
            az,
            "strictly increasing azimuths",
        )

    @property
    def lowest_deg(self) -> float:
        """The lowest elevation anywhere on the mask, in degrees."""
        return min(self.elevation_deg)

    @property
    def is_flat(self) -> bool:
        """True when the mask is one constant elevation."""
        return max(self.elevation_deg) == min(self.elevation_deg)

    def elevation_at(self, azimuth_deg: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Mask elevation in degrees at the given azimuths (degrees, any shape)."""
        az = np.asarray(azimuth_deg, dtype=np.float64) % 360.0
        knots = np.asarray(self.azimuth_deg, dtype=np.float64)
        values = np.asarray(self.elevation_deg, dtype=np.float64)
        return np.interp(az, knots, values, period=360.0)


@dataclass(frozen=True, slots=True)
class Antenna:
    """One antenna of a station: what it can hear and how low it can look.

    ``min_elevation_deg`` applies everywhere; ``horizon_mask`` (optional) raises
    it by azimuth. Slew rates bound how fast it can move between contacts.
    """

    id: str
    min_elevation_deg: float = 0.0
    bands: tuple[FrequencyBand, ...] = ()
    horizon_mask: HorizonMask | None = None
    max_slew_azimuth_deg_s: float = 3.0
    max_slew_elevation_deg_s: float = 3.0

    def __post_init__(self) -> None:
        _require(bool(self.id), "antenna.id", self.id, "a non-empty id")
        _require(
            _finite(self.min_elevation_deg) and 0 <= self.min_elevation_deg <= 90,
            "min_elevation_deg",
            self.min_elevation_deg,
            "degrees in [0, 90]",
        )
        for name in ("max_slew_azimuth_deg_s", "max_slew_elevation_deg_s"):
            value = getattr(self, name)
            _require(_finite(value) and value > 0, name, value, "a positive rate in deg/s")

    @property
    def lowest_elevation_deg(self) -> float:
        """The lowest elevation this antenna can track anywhere, in degrees."""
        if self.horizon_mask is None:
            return self.min_elevation_deg
        return max(self.min_elevation_deg, self.horizon_mask.lowest_deg)

    @property
    def has_azimuth_mask(self) -> bool:
        """True when the usable elevation depends on azimuth (a non-flat mask above the floor)."""
        mask = self.horizon_mask
        return (
            mask is not None
            and not mask.is_flat
            and max(mask.elevation_deg) > self.min_elevation_deg
        )

    def elevation_limit_deg(self, azimuth_deg: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The lowest usable elevation in degrees at each azimuth: max(minimum, mask)."""
        az = np.asarray(azimuth_deg, dtype=np.float64)
        floor = np.full(az.shape, self.min_elevation_deg)
        if self.horizon_mask is None:
            return floor
        limit: npt.NDArray[np.float64] = np.maximum(floor, self.horizon_mask.elevation_at(az))
        return limit


@dataclass(frozen=True, slots=True)
class GroundStation:
    """A ground-station site at a WGS-84 geodetic position, with its antennas.

    ``latitude_deg`` in [-90, 90], ``longitude_deg`` in [-180, 180] (east
    positive), ``altitude_m`` above the WGS-84 ellipsoid in metres.
    """

    id: str
    name: str
    latitude_deg: float
    longitude_deg: float
    altitude_m: float = 0.0
    antennas: tuple[Antenna, ...] = field(default=())

    def __post_init__(self) -> None:
        _require(bool(self.id), "id", self.id, "a non-empty station id")
        _require(
            _finite(self.latitude_deg) and -90 <= self.latitude_deg <= 90,
            "latitude_deg",
            self.latitude_deg,
            "degrees in [-90, 90]",
        )
        _require(
            _finite(self.longitude_deg) and -180 <= self.longitude_deg <= 180,
            "longitude_deg",
            self.longitude_deg,
            "degrees in [-180, 180], east positive",
        )
        _require(
            _finite(self.altitude_m) and -500 <= self.altitude_m <= 10_000,
            "altitude_m",
            self.altitude_m,
            "metres above the WGS-84 ellipsoid in [-500, 10000]",
        )
        ids = [a.id for a in self.antennas]
        _require(len(set(ids)) == len(ids), "antennas", ids, "unique antenna ids per station")
