"""A table of passes: numpy columns, and their CSV and JSON forms.

Hundreds of thousands of passes are normal, so the table stays columnar and
its text forms are built column by column: numpy formats each column at
once, and rows are only joined (``str.join`` over ``zip``), never formatted
one by one.

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
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import TypeVar

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
        return select_rows(self, rows)

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

    def text_columns(self) -> dict[str, list[str]]:
        """Every column of :data:`COLUMNS` as a list of strings, as CSV and JSON show them.

        Times are ISO-8601 UTC with millisecond precision and a ``Z``; angles
        and durations have 3 decimals.
        """
        names = [s.name for s in self.satellites]
        norad = [str(s.norad_cat_id) for s in self.satellites]
        station_names = [st.name for st, _ in self.antennas]
        antenna_ids = [a.id for _, a in self.antennas]
        sat, ant = self.satellite_index.tolist(), self.antenna_index.tolist()
        return {
            "satellite": [names[i] for i in sat],
            "norad_id": [norad[i] for i in sat],
            "station": [station_names[i] for i in ant],
            "antenna": [antenna_ids[i] for i in ant],
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
        rows = map(",".join, zip(*(text[c] for c in COLUMNS), strict=True))
        return "".join(line + "\n" for line in [",".join(COLUMNS), *rows])

    def to_json(self) -> str:
        """The table as a JSON array of objects keyed by :data:`COLUMNS`."""
        if len(self) == 0:
            return "[]"
        text = self.text_columns()
        quoted = {"satellite", "station", "antenna", "aos", "tca", "los"}
        pieces: list[list[str]] = []
        for i, name in enumerate(COLUMNS):
            column = _json_quote(text[name]) if name in quoted else text[name]
            key = ("{" if i == 0 else ", ") + json.dumps(name) + ": "
            pieces += [[key] * len(self), column]
        pieces.append(["}"] * len(self))
        rows = map("".join, zip(*pieces, strict=True))
        return "[\n" + ",\n".join(rows) + "\n]"


_Table = TypeVar("_Table")


def select_rows(table: _Table, rows: npt.ArrayLike) -> _Table:
    """A copy of a columnar dataclass keeping the rows ``rows`` of every numpy column.

    ``rows`` are indices or a boolean mask; fields that are not numpy arrays
    (metadata such as the satellites) are kept as they are.
    """
    picked = np.asarray(rows)
    columns = {
        f.name: getattr(table, f.name)[picked]
        for f in fields(table)  # type: ignore[arg-type]
        if isinstance(getattr(table, f.name), np.ndarray)
    }
    return replace(table, **columns)  # type: ignore[type-var]


def iso_utc_ms(unix_s: FloatArray) -> list[str]:
    """POSIX seconds as ISO-8601 UTC strings with milliseconds and ``Z``."""
    milliseconds = np.round(np.asarray(unix_s) * 1000.0).astype("datetime64[ms]")
    return [text + "Z" for text in np.datetime_as_string(milliseconds, unit="ms").tolist()]


def unix_seconds(moment: datetime) -> float:
    """A timezone-aware datetime as POSIX seconds."""
    return moment.astimezone(UTC).timestamp()


def _to_datetime(unix_s: float) -> datetime:
    return datetime.fromtimestamp(round(float(unix_s), 6), tz=UTC)


def _decimal(values: FloatArray) -> list[str]:
    return [f"{value:.3f}" for value in (np.asarray(values, dtype=np.float64) + 0.0).tolist()]


def _boolean(values: BoolArray) -> list[str]:
    return ["true" if value else "false" for value in values.tolist()]


def _csv_quote(values: list[str]) -> list[str]:
    unique = set(values)
    needs = {v for v in unique if any(c in v for c in ',"\n\r')}
    if not needs:
        return values
    escaped = {v: '"' + v.replace('"', '""') + '"' for v in needs}
    return [escaped.get(v, v) for v in values]


def _json_quote(values: list[str]) -> list[str]:
    cache: dict[str, str] = {}
    return [cache.get(v) or cache.setdefault(v, json.dumps(v)) for v in values]
