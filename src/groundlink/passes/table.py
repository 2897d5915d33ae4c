"""A table of passes: numpy columns, and their CSV and JSON forms.

Hundreds of thousands of passes are normal, so the table stays columnar and
its text forms are built column by column with numpy's string functions, not
with a Python loop over rows.

Columns (one entry per pass):

* ``satellite_index`` into :attr:`PassTable.satellites`, ``antenna_index``
  into :attr:`PassTable.antennas` (pairs of station and antenna);
* ``aos_unix_s``, ``tca_unix_s``, ``los_unix_s``: UTC instants as POSIX
  seconds (float64, sub-microsecond resolution for this century);
* ``max_elevation_deg`` and the azimuths at AOS, TCA and LOS in degrees
  (clockwise from true north, [0, 360));
* ``aos_clipped`` / ``los_clipped``: the pass was already in progress at the
  window's start, or still in progress at its end, and was cut there;
* ``sunlit``: the satellite is in sunlight at TCA; ``sun_elevation_deg``: the
  Sun's elevation at the station at TCA (daylight when above -0.833°).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from groundlink.orbits.elements import OrbitalElements
from groundlink.stations.model import Antenna, GroundStation

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: The CSV/JSON columns, in order.
COLUMNS: tuple[str, ...] = (
    "satellite",
    "norad_id",
    "station",
    "antenna",
    "aos",
    "tca",
    "los",
    "duration_s",
    "max_elevation_deg",
    "aos_azimuth_deg",
    "tca_azimuth_deg",
    "los_azimuth_deg",
    "aos_clipped",
    "los_clipped",
    "sunlit",
    "sun_elevation_deg",
)


@dataclass(frozen=True)
class Pass:
    """One pass, as a row of a :class:`PassTable` (times are timezone-aware UTC)."""

    satellite: OrbitalElements
    station: GroundStation
    antenna: Antenna
    aos: datetime
    tca: datetime
    los: datetime
    max_elevation_deg: float
    aos_azimuth_deg: float
    tca_azimuth_deg: float
    los_azimuth_deg: float
    aos_clipped: bool
    los_clipped: bool
    sunlit: bool
    sun_elevation_deg: float

    @property
    def duration_s(self) -> float:
        """LOS minus AOS, in seconds."""
        return (self.los - self.aos).total_seconds()


@dataclass(frozen=True)
class PassTable:
    """Every pass of a prediction, column by column, sorted by AOS.

    ``satellites`` and ``antennas`` are the inputs the indices refer to;
    ``problems`` lists human-readable notes about satellites that SGP4
    could not propagate over the whole window (which satellite, which
    error code, from what time).
    """

    satellites: tuple[OrbitalElements, ...]
    antennas: tuple[tuple[GroundStation, Antenna], ...]
    satellite_index: IntArray
    antenna_index: IntArray
    aos_unix_s: FloatArray
    tca_unix_s: FloatArray
    los_unix_s: FloatArray
    max_elevation_deg: FloatArray
    aos_azimuth_deg: FloatArray
    tca_azimuth_deg: FloatArray
    los_azimuth_deg: FloatArray
    aos_clipped: BoolArray
    los_clipped: BoolArray
    sunlit: BoolArray
    sun_elevation_deg: FloatArray
    problems: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.aos_unix_s.shape[0])

    @property
    def duration_s(self) -> FloatArray:
        """LOS minus AOS for every pass, seconds."""
        return self.los_unix_s - self.aos_unix_s

    def select(self, rows: npt.ArrayLike) -> PassTable:
        """A table of the passes at ``rows`` (indices or a boolean mask), in that order."""
        picked = np.asarray(rows)
        values: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            values[f.name] = value[picked] if isinstance(value, np.ndarray) else value
        return PassTable(**values)

    def __iter__(self) -> Iterator[Pass]:
        for i in range(len(self)):
            yield self.row(i)

    def row(self, i: int) -> Pass:
        """Pass number ``i`` as a :class:`Pass`."""
        station, antenna = self.antennas[int(self.antenna_index[i])]
        return Pass(
            satellite=self.satellites[int(self.satellite_index[i])],
            station=station,
            antenna=antenna,
            aos=_to_datetime(self.aos_unix_s[i]),
            tca=_to_datetime(self.tca_unix_s[i]),
            los=_to_datetime(self.los_unix_s[i]),
            max_elevation_deg=float(self.max_elevation_deg[i]),
            aos_azimuth_deg=float(self.aos_azimuth_deg[i]),
            tca_azimuth_deg=float(self.tca_azimuth_deg[i]),
            los_azimuth_deg=float(self.los_azimuth_deg[i]),
            aos_clipped=bool(self.aos_clipped[i]),
            los_clipped=bool(self.los_clipped[i]),
            sunlit=bool(self.sunlit[i]),
            sun_elevation_deg=float(self.sun_elevation_deg[i]),
        )

    def text_columns(self) -> dict[str, npt.NDArray[np.str_]]:
        """Every column of :data:`COLUMNS` as an array of strings, as CSV and JSON show them.

        Times are ISO-8601 UTC with millisecond precision and a ``Z``; angles
        are rounded to 3 decimals, durations to milliseconds.
        """
        names = np.array([s.name for s in self.satellites], dtype=np.str_)
        norad = np.array([s.norad_cat_id for s in self.satellites], dtype=np.int64)
        station_names = np.array([st.name for st, _ in self.antennas], dtype=np.str_)
        antenna_ids = np.array([a.id for _, a in self.antennas], dtype=np.str_)
        sat, ant = self.satellite_index, self.antenna_index
        return {
            "satellite": names[sat],
            "norad_id": norad[sat].astype(np.str_),
            "station": station_names[ant],
            "antenna": antenna_ids[ant],
            "aos": iso_utc_ms(self.aos_unix_s),
            "tca": iso_utc_ms(self.tca_unix_s),
            "los": iso_utc_ms(self.los_unix_s),
            "duration_s": _decimal(self.duration_s),
            "max_elevation_deg": _decimal(self.max_elevation_deg),
            "aos_azimuth_deg": _decimal(self.aos_azimuth_deg),
            "tca_azimuth_deg": _decimal(self.tca_azimuth_deg),
            "los_azimuth_deg": _decimal(self.los_azimuth_deg),
            "aos_clipped": _boolean(self.aos_clipped),
            "los_clipped": _boolean(self.los_clipped),
            "sunlit": _boolean(self.sunlit),
            "sun_elevation_deg": _decimal(self.sun_elevation_deg),
        }

    def to_csv(self) -> str:
        """The table as CSV text with a header row of :data:`COLUMNS`."""
        text = self.text_columns()
        for name in ("satellite", "station", "antenna"):
            text[name] = _csv_quote(text[name])
        header = ",".join(COLUMNS) + "\n"
        if len(self) == 0:
            return header
        rows = _concatenate(
            [text[c] if i == 0 else np.strings.add(",", text[c]) for i, c in enumerate(COLUMNS)]
        )
        return header + "\n".join(rows.tolist()) + "\n"

    def to_json(self) -> str:
        """The table as a JSON array of objects keyed by :data:`COLUMNS`."""
        text = self.text_columns()
        quoted = {"satellite", "station", "antenna", "aos", "tca", "los"}
        pieces = []
        for i, name in enumerate(COLUMNS):
            column = text[name]
            if name in quoted:
                column = _json_quote(column)
            prefix = ("{" if i == 0 else ", ") + json.dumps(name) + ": "
            pieces.append(np.strings.add(prefix, column))
        if len(self) == 0:
            return "[]"
        rows = _concatenate(pieces)
        return "[\n" + ",\n".join(np.strings.add(rows, "}").tolist()) + "\n]"


def iso_utc_ms(unix_s: FloatArray) -> npt.NDArray[np.str_]:
    """POSIX seconds as ISO-8601 UTC strings with milliseconds and ``Z``."""
    milliseconds = np.round(np.asarray(unix_s) * 1000.0).astype("datetime64[ms]")
    return np.strings.add(np.datetime_as_string(milliseconds, unit="ms"), "Z")


def unix_seconds(moment: datetime) -> float:
    """A timezone-aware datetime as POSIX seconds."""
    return moment.astimezone(UTC).timestamp()


def _to_datetime(unix_s: float) -> datetime:
    return datetime.fromtimestamp(round(float(unix_s), 6), tz=UTC)


def _decimal(values: FloatArray, places: int = 3) -> npt.NDArray[np.str_]:
    rounded = np.round(np.asarray(values, dtype=np.float64), places) + 0.0  # no "-0.0"
    return rounded.astype(np.str_)


def _boolean(values: BoolArray) -> npt.NDArray[np.str_]:
    return np.where(values, "true", "false").astype(np.str_)


def _csv_quote(values: npt.NDArray[np.str_]) -> npt.NDArray[np.str_]:
    needs = (
        (np.strings.find(values, ",") >= 0)
        | (np.strings.find(values, '"') >= 0)
        | (np.strings.find(values, "\n") >= 0)
    )
    if not needs.any():
        return values
    escaped = np.strings.add(np.strings.add('"', np.strings.replace(values, '"', '""')), '"')
    return np.where(needs, escaped, values)


def _json_quote(values: npt.NDArray[np.str_]) -> npt.NDArray[np.str_]:
    unique, inverse = np.unique(values, return_inverse=True)
    return np.array([json.dumps(str(v)) for v in unique], dtype=np.str_)[inverse]


def _concatenate(columns: Sequence[npt.NDArray[np.str_]]) -> npt.NDArray[np.str_]:
    out = columns[0]
    for column in columns[1:]:
        out = np.strings.add(out, column)
    return out
