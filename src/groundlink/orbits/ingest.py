"""Element ingest: one entry point for every element format groundlink reads.

:func:`parse_elements` takes the text of a file in any of the formats users
bring (TLE/3LE, CelesTrak OMM JSON, CSV, XML or KVN), recognises the format,
and returns an :class:`ElementsReport`: the good element sets, one located
problem per bad record (a bad record never stops the others: one corrupt
TLE in 10,000 costs that TLE only), and warnings. Duplicate catalogue numbers
within one input are resolved here, keeping the newest epoch.

:func:`epoch_age_warnings` says which element sets are too old (or too new)
for a prediction window: SGP4's error grows by kilometres per day away from
the epoch.

Pure: parsing works on text handed in; only :func:`read_elements_file` opens a file.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from groundlink.errors import InvalidInput
from groundlink.orbits import omm, tle
from groundlink.orbits.elements import OrbitalElements

#: Format names :func:`parse_elements` accepts in ``fmt`` (``"3le"``, ``"2le"`` mean ``"tle"``).
FORMATS: tuple[str, ...] = ("tle", "json", "csv", "xml", "kvn")
_ALIASES = {"3le": "tle", "2le": "tle"}

_KVN_FIRST_LINE_RE = re.compile(r"(CCSDS_OMM_VERS|[A-Z][A-Z0-9_]*)\s*=")


@dataclass
class ElementsReport:
    """What came out of one input.

    Attributes:
        elements: the good element sets, in input order (duplicates resolved).
        problems: one :class:`InvalidInput` per bad record, with ``source`` and
            the 1-based line of the bad field or record.
        warnings: things that were accepted but deserve a look (duplicates,
            an empty input), one sentence each.
        fmt: the format read: one of :data:`FORMATS`, or ``""`` when unknown.
    """

    elements: list[OrbitalElements] = field(default_factory=list)
    problems: list[InvalidInput] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fmt: str = ""

    @property
    def ok(self) -> bool:
        """True when no record was rejected."""
        return not self.problems


def detect_format(text: str) -> str | None:
    """Return the format of ``text``, one of :data:`FORMATS`, or ``None`` if none fits.

    Looks only at the start: ``<`` is XML, ``[`` or ``{`` JSON, a ``KEY =``
    line KVN, a header naming ``NORAD_CAT_ID`` or ``OBJECT_NAME`` with commas
    CSV, and a line starting ``1 `` or ``2 `` TLE.
    """
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("<"):
        return "xml"
    if stripped.startswith(("[", "{")):
        return "json"
    first_line = next(
        (line.strip() for line in stripped.splitlines() if not line.startswith("COMMENT")), ""
    )
    if _KVN_FIRST_LINE_RE.match(first_line):
        return "kvn"
    if "," in first_line and ("NORAD_CAT_ID" in first_line or "OBJECT_NAME" in first_line):
        return "csv"
    if any(line.startswith(("1 ", "2 ")) for line in stripped.splitlines()):
        return "tle"
    return None


def parse_elements(
    text: str,
    *,
    source: str = "<input>",
    fmt: str | None = None,
    verify_checksum: bool = True,
) -> ElementsReport:
    """Parse element sets from ``text`` in any supported format; never raises on bad records.

    Args:
        text: the whole input.
        source: a name for the input in problems and warnings (a file name).
        fmt: one of :data:`FORMATS` (or ``"3le"``/``"2le"``); ``None`` detects it.
        verify_checksum: for TLE input; ``False`` reads TLEs leniently, as
            sgp4's own ``SGP4-VER.TLE`` needs: no checksum check, text after
            column 69 ignored, blank optional fields allowed.

    Returns:
        An :class:`ElementsReport`. An input whose format cannot be recognised
        gives a report with one problem at line 1.

    Raises:
        InvalidInput: only for a ``fmt`` that is not a known format name.
    """
    text = text.removeprefix("\ufeff")
    if not text.strip():
        return ElementsReport(warnings=[f"{source}: no element sets found (empty input)"])
    chosen = _format_name(fmt) if fmt is not None else detect_format(text)
    if chosen is None:
        first = text.strip().splitlines()[0]
        problem = InvalidInput(
            "format", first, "TLE/3LE, or OMM as JSON, CSV, XML or KVN", source=source, line=1
        )
        return ElementsReport(problems=[problem])
    if chosen == "tle":
        elements, problems = tle.read_tle(text, source=source, strict=verify_checksum)
    else:
        reader = {
            "json": omm.read_omm_json,
            "csv": omm.read_omm_csv,
            "xml": omm.read_omm_xml,
            "kvn": omm.read_omm_kvn,
        }[chosen]
        elements, problems = reader(text, source=source)
    elements, warnings = _drop_duplicates(elements, source)
    if not elements and not problems:
        warnings.append(f"{source}: no element sets found")
    return ElementsReport(elements, problems, warnings, chosen)


def read_elements_file(
    path: str | os.PathLike[str], *, fmt: str | None = None, verify_checksum: bool = True
) -> ElementsReport:
    """Read a file (UTF-8) and :func:`parse_elements` it, with the path as ``source``.

    Raises:
        InvalidInput: (field ``"path"``) when the file cannot be read or is not UTF-8 text.
    """
    name = os.fspath(path)
    try:
        text = Path(name).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(
            "file", Path(name).name, f"UTF-8 text ({error.reason})", source=name
        ) from None
    except OSError as error:
        raise InvalidInput(
            "file", Path(name).name, f"a readable file ({error.strerror})", source=name
        ) from None
    return parse_elements(text, source=name, fmt=fmt, verify_checksum=verify_checksum)


def _format_name(fmt: str) -> str:
    name = fmt.strip().lower()
    name = _ALIASES.get(name, name)
    if name not in FORMATS:
        raise InvalidInput("fmt", fmt, "one of " + ", ".join(FORMATS) + " (or 3le, 2le)")
    return name


def _drop_duplicates(
    elements: list[OrbitalElements], source: str
) -> tuple[list[OrbitalElements], list[str]]:
    """Keep one element set per catalogue number: the newest epoch (the first of equals)."""
    newest: dict[int, int] = {}  # catalogue number -> index of its newest element set
    for index, item in enumerate(elements):
        best = newest.get(item.norad_cat_id)
        if best is None or item.epoch > elements[best].epoch:
            newest[item.norad_cat_id] = index
    counts = Counter(item.norad_cat_id for item in elements)
    warnings = [
        f"{source}: {_label(elements[index])} appears {counts[number]} times; "
        f"kept the newest epoch {_utc(elements[index].epoch)}"
        for number, index in newest.items()
        if counts[number] > 1
    ]
    return [elements[index] for index in sorted(newest.values())], warnings


def epoch_age_warnings(
    elements: Iterable[OrbitalElements],
    window_start: datetime,
    max_age_days: float = 14.0,
) -> list[str]:
    """Warn for every element set whose epoch is more than ``max_age_days`` from ``window_start``.

    Both directions count: SGP4's error grows with the time from the epoch,
    before it as after it.

    Returns:
        One sentence per element set, in input order, like ``"ISS (ZARYA)
        (25544): epoch 2024-05-01T00:00:00Z is 31.0 days from the prediction
        window start; SGP4 accuracy degrades with age"``; empty when all are fresh.

    Raises:
        InvalidInput: when ``window_start`` has no timezone (time is UTC, explicit).
    """
    if window_start.tzinfo is None:
        raise InvalidInput(
            "window_start", window_start.isoformat(), "a timezone-aware UTC datetime"
        )
    warnings: list[str] = []
    for item in elements:
        age_days = abs((window_start - item.epoch).total_seconds()) / 86_400.0
        if age_days > max_age_days:
            warnings.append(
                f"{_label(item)}: epoch {_utc(item.epoch)} is {age_days:.1f} days from the "
                "prediction window start; SGP4 accuracy degrades with age"
            )
    return warnings


def _label(item: OrbitalElements) -> str:
    """``"ISS (ZARYA) (25544)"``, or ``"NORAD 25544"`` for an unnamed object."""
    if item.object_name:
        return f"{item.object_name} ({item.norad_cat_id})"
    return f"NORAD {item.norad_cat_id}"


def _utc(moment: datetime) -> str:
    """ISO 8601 UTC with ``Z``; microseconds only when there are any."""
    text = moment.astimezone(UTC).isoformat().removesuffix("+00:00")
    return text + "Z"


def demo_fleet() -> list[OrbitalElements]:
    """The demo fleet shipped with groundlink: 12 satellites from the reference population.

    Nine sun-synchronous Earth-observation satellites (``EO-SSO-*``) and three
    Walker-shell satellites (``SHELL*``), read from the package's
    ``data/demo_fleet.tle``; their epochs lie within 36 hours before 2024-06-01T00:00Z.
    """
    resource = resources.files("groundlink") / "data" / "demo_fleet.tle"
    text = resource.read_text(encoding="utf-8")
    return parse_elements(text, source="groundlink/data/demo_fleet.tle").elements
