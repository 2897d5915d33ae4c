"""One element set: the OMM mean elements that SGP4 consumes.

groundlink stores OMM (CCSDS 502.0-B Orbit Mean-Elements Message) as the
canonical form; TLE is an import/export view of the same record
(``groundlink.orbits.tle``), and the OMM text formats live in
``groundlink.orbits.omm``. Units are TLE units, as CelesTrak uses them:

* ``mean_motion``: rev/day; ``mean_motion_dot``: ṅ/2 in rev/day²;
  ``mean_motion_ddot``: n̈/6 in rev/day³;
* angles in degrees; ``bstar`` in 1/earth radii;
* ``epoch``: a timezone-aware UTC :class:`datetime` (microsecond resolution,
  which represents every TLE epoch exactly: a TLE's last epoch digit is
  1e-8 day = 864 µs).

:func:`validate_elements` checks ranges and returns the list of problems as
:class:`~groundlink.errors.InvalidInput` objects naming the OMM field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

from groundlink.errors import InvalidInput

#: OMM keys in CelesTrak's order and spelling (JSON keys, CSV header, XML tags).
OMM_FIELDS: tuple[str, ...] = (
    "OBJECT_NAME",
    "OBJECT_ID",
    "EPOCH",
    "MEAN_MOTION",
    "ECCENTRICITY",
    "INCLINATION",
    "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER",
    "MEAN_ANOMALY",
    "EPHEMERIS_TYPE",
    "CLASSIFICATION_TYPE",
    "NORAD_CAT_ID",
    "ELEMENT_SET_NO",
    "REV_AT_EPOCH",
    "BSTAR",
    "MEAN_MOTION_DOT",
    "MEAN_MOTION_DDOT",
)

#: Largest catalogue number a TLE can hold (Alpha-5 reaches Z9999).
MAX_TLE_CATALOG_NUMBER = 339_999
#: Largest catalogue number groundlink accepts (OMM allows 9 digits).
MAX_CATALOG_NUMBER = 999_999_999


@dataclass(frozen=True, slots=True)
class OrbitalElements:
    """One SGP4 element set, field for field the OMM mean elements.

    Attributes are the lower-case OMM names; angles in degrees, mean motion
    in rev/day, ``bstar`` in 1/earth radii, ``epoch`` timezone-aware UTC.
    """

    object_name: str
    object_id: str
    epoch: datetime
    mean_motion: float
    eccentricity: float
    inclination: float
    ra_of_asc_node: float
    arg_of_pericenter: float
    mean_anomaly: float
    norad_cat_id: int
    bstar: float = 0.0
    mean_motion_dot: float = 0.0
    mean_motion_ddot: float = 0.0
    ephemeris_type: int = 0
    classification_type: str = "U"
    element_set_no: int = 999
    rev_at_epoch: int = 0

    @property
    def name(self) -> str:
        """The display name: ``object_name``, or the catalogue number if unnamed."""
        return self.object_name or str(self.norad_cat_id)

    @property
    def period_min(self) -> float:
        """Orbital period in minutes (from the mean motion)."""
        return 1440.0 / self.mean_motion

    def to_omm(self) -> dict[str, Any]:
        """Return the OMM record as CelesTrak's JSON has it (EPOCH without zone, UTC)."""
        record: dict[str, Any] = {}
        for key in OMM_FIELDS:
            value = getattr(self, key.lower())
            if key == "EPOCH":
                value = format_omm_epoch(value)
            record[key] = value
        return record

    def with_name(self, object_name: str) -> OrbitalElements:
        """Return a copy with another ``object_name``."""
        return replace(self, object_name=object_name)


def format_omm_epoch(epoch: datetime) -> str:
    """Format a UTC datetime as CelesTrak's OMM EPOCH: ``YYYY-MM-DDTHH:MM:SS.ffffff``."""
    return epoch.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def parse_utc(text: str, field: str = "EPOCH") -> datetime:
    """Parse an ISO-8601 time as UTC; a missing zone means UTC (CelesTrak's EPOCH).

    Accepts a trailing ``Z`` or an explicit offset (converted to UTC), and a
    day-of-year form ``YYYY-DDDTHH:MM:SS`` as CCSDS KVN allows.

    Raises:
        InvalidInput: naming ``field`` when the text is not such a time.
    """
    raw = text.strip()
    candidate = raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        parsed = _parse_day_of_year(raw.removesuffix("Z").removesuffix("z"))
    if parsed is None:
        raise InvalidInput(field, text, "an ISO-8601 UTC time such as 2024-06-01T00:00:00Z")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _parse_day_of_year(text: str) -> datetime | None:
    for fmt in ("%Y-%jT%H:%M:%S.%f", "%Y-%jT%H:%M:%S"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


#: 17.5 rev/day in rad/min: a LEO mean motion mistakenly given in rad/min falls below this.
_MAX_MEAN_MOTION_RAD_PER_MIN = 17.5 * 2.0 * math.pi / 1440.0


def validate_elements(elements: OrbitalElements) -> list[InvalidInput]:
    """Check physical ranges and unit traps; return every problem found (empty if fine).

    Catches the classic mistakes of hand-written OMM: radians where degrees are
    expected (inclination below π with a non-equatorial name is not flagged, but
    mean motion in rad/min is: for MEO and GEO it falls below 0.05 rev/day, for
    LEO it lands in 0.05..0.076 "rev/day", which with an eccentricity below 0.1
    would be a near-circular orbit beyond 200,000 km), NaN or infinite
    values, an eccentricity outside [0, 1), a catalogue number outside
    1..999,999,999.
    """
    problems: list[InvalidInput] = []
    for f in fields(OrbitalElements):
        value = getattr(elements, f.name)
        if isinstance(value, float) and not math.isfinite(value):
            problems.append(InvalidInput(f.name.upper(), value, "a finite number"))
    if problems:
        return problems

    def check(ok: bool, field: str, value: object, expected: str) -> None:
        if not ok:
            problems.append(InvalidInput(field, value, expected))

    e = elements
    check(
        0.0 <= e.eccentricity < 1.0,
        "ECCENTRICITY",
        e.eccentricity,
        "0 <= e < 1 (unitless)",
    )
    check(
        0.05 <= e.mean_motion <= 17.5,
        "MEAN_MOTION",
        e.mean_motion,
        "an Earth orbit's mean motion in rev/day, 0.05..17.5 (not rad/min)",
    )
    if 0.05 <= e.mean_motion < _MAX_MEAN_MOTION_RAD_PER_MIN and e.eccentricity < 0.1:
        as_rev_per_day = e.mean_motion * 1440.0 / (2.0 * math.pi)
        expected = (
            f"rev/day; this looks like rad/min ({as_rev_per_day:.4f} rev/day), since a "
            "near-circular orbit with a period over 13 days is not an Earth satellite's"
        )
        problems.append(InvalidInput("MEAN_MOTION", e.mean_motion, expected))
    check(0.0 <= e.inclination <= 180.0, "INCLINATION", e.inclination, "degrees in [0, 180]")
    for name in ("ra_of_asc_node", "arg_of_pericenter", "mean_anomaly"):
        value = getattr(e, name)
        check(0.0 <= value <= 360.0, name.upper(), value, "degrees in [0, 360]")
    check(
        1 <= e.norad_cat_id <= MAX_CATALOG_NUMBER,
        "NORAD_CAT_ID",
        e.norad_cat_id,
        f"an integer catalogue number in 1..{MAX_CATALOG_NUMBER:,}",
    )
    check(abs(e.bstar) < 1.0, "BSTAR", e.bstar, "|BSTAR| < 1 (1/earth radii)")
    check(
        e.classification_type in ("U", "C", "S"),
        "CLASSIFICATION_TYPE",
        e.classification_type,
        "U, C or S",
    )
    check(e.epoch.tzinfo is not None, "EPOCH", e.epoch, "a timezone-aware UTC time")
    return problems
