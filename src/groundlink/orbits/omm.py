"""OMM (CCSDS 502.0-B Orbit Mean-Elements Message) in CelesTrak's four encodings.

Reads and writes the GP/OMM records that CelesTrak and Space-Track publish,
with their field names exactly (see ``OMM_FIELDS``) and TLE units (rev/day,
degrees, 1/earth radii):

* JSON: a list of flat objects, or a single object;
* CSV: CelesTrak's header line, then one row per element set;
* XML: ``ndm > omm > body > segment > metadata + data > meanElements +
  tleParameters`` (a bare ``<omm>`` too; XML namespaces are ignored);
* KVN: ``KEY = value`` lines, ``COMMENT`` lines, units in brackets
  (``MEAN_MOTION = 15.5 [rev/day]``), several messages concatenated, each
  starting with ``CCSDS_OMM_VERS``.

Why hand-written: ``sgp4.omm`` reads CSV and XML only, returns every value as
unchecked text, and stops at the first bad record. Here every record is
checked (:func:`elements_from_omm`): a missing required field, a value that
is not a finite number (``NaN``, ``inf``, ``"fast"``), a negative
eccentricity, a mean motion given in rad/min, or a frame or time system
SGP4 cannot use is an :class:`~groundlink.errors.InvalidInput` naming the
field and value, located at the line of that field where the format allows
(KVN, JSON, XML) or the record's line (CSV). The ``read_omm_*`` functions
report a bad record and go on with the rest.

An EPOCH without a zone is UTC (CelesTrak writes none; ``TIME_SYSTEM`` is UTC).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import xml.etree.ElementTree as ET
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from itertools import accumulate
from typing import Any

from groundlink.errors import InvalidInput
from groundlink.orbits.elements import (
    OMM_FIELDS,
    OrbitalElements,
    format_omm_epoch,
    parse_utc,
    validate_elements,
)

#: Fields without which no element set can be built.
REQUIRED_FIELDS: tuple[str, ...] = (
    "EPOCH",
    "MEAN_MOTION",
    "ECCENTRICITY",
    "INCLINATION",
    "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER",
    "MEAN_ANOMALY",
    "NORAD_CAT_ID",
)

#: Metadata that, when present, must have the value SGP4 assumes.
_METADATA_VALUES: dict[str, tuple[str, ...]] = {
    "CENTER_NAME": ("EARTH",),
    "REF_FRAME": ("TEME",),
    "TIME_SYSTEM": ("UTC",),
    "MEAN_ELEMENT_THEORY": ("SGP4", "SGP/SGP4"),
}

#: Units accepted in KVN brackets and XML ``units``, per field (compared without case and blanks).
_UNITS: dict[str, tuple[str, ...]] = {
    "MEAN_MOTION": ("rev/day",),
    "INCLINATION": ("deg",),
    "RA_OF_ASC_NODE": ("deg",),
    "ARG_OF_PERICENTER": ("deg",),
    "MEAN_ANOMALY": ("deg",),
    "BSTAR": ("1/er",),
    "MEAN_MOTION_DOT": ("rev/day**2", "rev/day^2"),
    "MEAN_MOTION_DDOT": ("rev/day**3", "rev/day^3"),
}

_NUMBER_RE = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)
_NON_FINITE_RE = re.compile(r"[+-]?(nan|inf|infinity)", re.IGNORECASE)
_INTEGER_RE = re.compile(r"[+-]?\d+", re.ASCII)
_KVN_LINE_RE = re.compile(r"([A-Z][A-Z0-9_]*)\s*=\s*(.*?)\s*")
_KVN_UNIT_RE = re.compile(r"(.*?)\s*\[([^\]]*)\]")
#: KVN keys whose values are free text: a bracket there is part of the value, not a unit.
_KVN_TEXT_KEYS = frozenset({"OBJECT_NAME", "OBJECT_ID", "ORIGINATOR", "MESSAGE_ID"})
_KVN_MARKERS = ("META_START", "META_STOP", "DATA_START", "DATA_STOP")

#: What a reader returns: the good element sets in file order, and the located problems.
Parsed = tuple[list[OrbitalElements], list[InvalidInput]]


# --- one record ------------------------------------------------------------------------------


def elements_from_omm(record: Mapping[str, object]) -> OrbitalElements:
    """Build checked :class:`OrbitalElements` from one OMM record with CelesTrak's keys.

    Values may be text (CSV, XML, KVN) or JSON numbers; ``None`` or empty text
    counts as absent. Absent optional fields take the defaults CelesTrak would
    write (``CLASSIFICATION_TYPE`` U, ``ELEMENT_SET_NO`` 999, zeros).

    Raises:
        InvalidInput: naming the first bad field: missing, not a finite number,
            out of range (:func:`validate_elements`), or metadata SGP4 cannot use.
    """
    for key, allowed in _METADATA_VALUES.items():
        value = _text(record, key)
        if value and value.upper() not in allowed:
            expected = " or ".join(allowed) + " (SGP4 elements are Earth-centred TEME in UTC)"
            raise InvalidInput(key, value, expected)
    for key in REQUIRED_FIELDS:
        if _text(record, key) is None:
            raise InvalidInput(key, "", "a value: this field is required")
    elements = OrbitalElements(
        object_name=_text(record, "OBJECT_NAME") or "",
        object_id=_text(record, "OBJECT_ID") or "",
        epoch=parse_utc(_text(record, "EPOCH") or "", "EPOCH"),
        mean_motion=_number(record, "MEAN_MOTION"),
        eccentricity=_number(record, "ECCENTRICITY"),
        inclination=_number(record, "INCLINATION"),
        ra_of_asc_node=_number(record, "RA_OF_ASC_NODE"),
        arg_of_pericenter=_number(record, "ARG_OF_PERICENTER"),
        mean_anomaly=_number(record, "MEAN_ANOMALY"),
        norad_cat_id=_integer(record, "NORAD_CAT_ID"),
        bstar=_number(record, "BSTAR", 0.0),
        mean_motion_dot=_number(record, "MEAN_MOTION_DOT", 0.0),
        mean_motion_ddot=_number(record, "MEAN_MOTION_DDOT", 0.0),
        ephemeris_type=_integer(record, "EPHEMERIS_TYPE", 0),
        classification_type=(_text(record, "CLASSIFICATION_TYPE") or "U").upper(),
        element_set_no=_integer(record, "ELEMENT_SET_NO", 999),
        rev_at_epoch=_integer(record, "REV_AT_EPOCH", 0),
    )
    problems = validate_elements(elements)
    if problems:
        raise problems[0]
    return elements


def _text(record: Mapping[str, object], key: str) -> str | None:
    """The value as stripped text, or ``None`` when absent, null or empty."""
    value = record.get(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _number(record: Mapping[str, object], key: str, default: float | None = None) -> float:
    value = record.get(key)
    if isinstance(value, str):
        value = value.strip()
    if value is None or value == "":
        if default is None:
            raise InvalidInput(key, "", "a value: this field is required")
        return default
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidInput(key, value, "a number")
    if isinstance(value, str) and not (
        _NUMBER_RE.fullmatch(value) or _NON_FINITE_RE.fullmatch(value)
    ):
        raise InvalidInput(key, value, "a decimal number such as 15.4934 or .1568E-2")
    number = float(value)  # NaN and infinity get through to here, to be named as such
    if not math.isfinite(number):
        raise InvalidInput(key, value, "a finite number (not NaN or infinity)")
    return number


def _integer(record: Mapping[str, object], key: str, default: int | None = None) -> int:
    value = record.get(key)
    if isinstance(value, str):
        value = value.strip()
    if value is None or value == "":
        if default is None:
            raise InvalidInput(key, "", "a value: this field is required")
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER_RE.fullmatch(value):
        return int(value)
    raise InvalidInput(key, value, "an integer")


# --- line numbers ----------------------------------------------------------------------------


class _Lines:
    """Map character offsets in a text to 1-based line numbers (``\\n`` ends a line)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._ends = list(accumulate(len(line) + 1 for line in text.split("\n")))

    def at(self, offset: int) -> int:
        return bisect_right(self._ends, offset) + 1

    def of_key(self, pattern: str, start: int, end: int, default: int) -> int:
        """The line where regex ``pattern`` first matches in ``[start, end)``, else ``default``."""
        match = re.compile(pattern).search(self._text, start, end)
        return self.at(match.start()) if match else default


def _unit_problem(key: str, unit: str | None, *, line: int | None = None) -> InvalidInput | None:
    """A problem when ``unit`` (KVN brackets, XML ``units``) is not the one SGP4 expects."""
    allowed = _UNITS.get(key)
    if unit is None or allowed is None or unit.replace(" ", "").lower() in allowed:
        return None
    return InvalidInput(f"{key} unit", unit, " or ".join(allowed), line=line)


def _convert(
    record: Mapping[str, object],
    source: str | None,
    line_of: Callable[[str], int | None],
) -> OrbitalElements | InvalidInput:
    """Convert one record; a problem comes back located at ``line_of(problem.field)``."""
    try:
        return elements_from_omm(record)
    except InvalidInput as problem:
        return problem.located(source=source, line=line_of(problem.field))


def _split(results: Iterable[OrbitalElements | InvalidInput]) -> Parsed:
    elements: list[OrbitalElements] = []
    problems: list[InvalidInput] = []
    for result in results:
        if isinstance(result, InvalidInput):
            problems.append(result)
        else:
            elements.append(result)
    return elements, problems


# --- JSON ------------------------------------------------------------------------------------


def read_omm_json(text: str, *, source: str | None = None) -> Parsed:
    """Parse OMM JSON: a list of CelesTrak-keyed objects, or one object.

    Returns:
        ``(elements, problems)``: good element sets in file order; one problem
        per bad record, at the line of the bad field (or the record's first
        line). Invalid JSON is one problem at the line where parsing stopped,
        after the records read before it.
    """
    lines = _Lines(text)
    decoder = json.JSONDecoder()
    results: list[OrbitalElements | InvalidInput] = []
    position = _skip_blanks(text, 0)
    single = text.startswith("{", position)
    if not single:
        if not text.startswith("[", position):
            return [], [
                InvalidInput(
                    "JSON",
                    text[position : position + 20],
                    "[ or {",
                    source=source,
                    line=lines.at(position),
                )
            ]
        position = _skip_blanks(text, position + 1)
        if text.startswith("]", position):
            return [], []
    while True:
        try:
            record, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            results.append(
                InvalidInput("JSON", error.msg, "valid JSON", source=source, line=error.lineno)
            )
            break
        results.append(_json_record(record, position, end, lines, source))
        position = _skip_blanks(text, end)
        if single or text.startswith("]", position):
            break
        if not text.startswith(",", position):
            results.append(
                InvalidInput(
                    "JSON",
                    text[position : position + 20],
                    "',' or ']' between records",
                    source=source,
                    line=lines.at(position),
                )
            )
            break
        position = _skip_blanks(text, position + 1)
    return _split(results)


def _json_record(
    record: object, start: int, end: int, lines: _Lines, source: str | None
) -> OrbitalElements | InvalidInput:
    first = lines.at(start)
    if not isinstance(record, dict):
        return InvalidInput(
            "JSON record", record, "an object with OMM keys", source=source, line=first
        )

    def line_of(field: str) -> int:
        return lines.of_key(f'"{re.escape(field)}"', start, end, first)

    return _convert(record, source, line_of)


def _skip_blanks(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def write_omm_json(elements: Iterable[OrbitalElements], *, indent: int | None = None) -> str:
    """Return OMM JSON: a list of CelesTrak-keyed objects (EPOCH UTC without zone, as CelesTrak)."""
    return json.dumps([item.to_omm() for item in elements], indent=indent)


# --- CSV -------------------------------------------------------------------------------------


def read_omm_csv(text: str, *, source: str | None = None) -> Parsed:
    """Parse OMM CSV with CelesTrak's header (columns in any order; extra columns ignored).

    Returns:
        ``(elements, problems)``: good element sets in file order; one problem
        per bad row, at the row's line. A header missing a required column is
        one problem at line 1 and no rows are read.
    """
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lstrip("\ufeff") for name in reader.fieldnames or ()]
    reader.fieldnames = header
    missing = [key for key in REQUIRED_FIELDS if key not in header]
    if missing:
        problem = InvalidInput(
            "CSV header", ",".join(header), "CelesTrak's OMM columns; missing " + ", ".join(missing)
        )
        return [], [problem.located(source=source, line=1)]
    results: list[OrbitalElements | InvalidInput] = []
    for row in reader:
        line = reader.line_num
        if None in row or None in row.values():
            results.append(
                InvalidInput(
                    "CSV row",
                    ",".join(str(v) for v in row.values()),
                    f"{len(header)} columns as in the header",
                    source=source,
                    line=line,
                )
            )
            continue
        results.append(_convert(row, source, _at_line(line)))
    return _split(results)


def _at_line(line: int) -> Callable[[str], int]:
    """A ``line_of`` for formats that cannot place a field more precisely than its record."""
    return lambda _field: line


def write_omm_csv(elements: Iterable[OrbitalElements]) -> str:
    """Return OMM CSV: CelesTrak's header line, then one row per element set."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=OMM_FIELDS, lineterminator="\n")
    writer.writeheader()
    for item in elements:
        writer.writerow(item.to_omm())
    return out.getvalue()


# --- XML -------------------------------------------------------------------------------------


def read_omm_xml(text: str, *, source: str | None = None) -> Parsed:
    """Parse OMM XML: every ``segment`` under an ``ndm`` or a bare ``omm``.

    Returns:
        ``(elements, problems)``: good element sets in document order; one
        problem per bad segment, at the line of the bad field's tag, or the
        segment's first line. Malformed XML is one problem at its line.
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as error:
        return [], [
            InvalidInput(
                "XML", str(error), "well-formed XML", source=source, line=error.position[0]
            )
        ]
    lines = _Lines(text)
    starts = [match.start() for match in re.finditer(r"<(?:[\w.-]+:)?segment[\s>]", text)]
    segments = [node for node in root.iter() if _local(node.tag) == "segment"]
    if len(starts) != len(segments):  # e.g. a segment inside a comment: lines are a guess
        starts = [0] * len(segments)
    ends = [*starts[1:], len(text)][: len(starts)]
    results = [
        _xml_segment(segment, lines, start, end, source)
        for segment, start, end in zip(segments, starts, ends, strict=True)
    ]
    if not segments:
        results.append(
            InvalidInput(
                "XML", _local(root.tag), "an <omm> with a <segment>", source=source, line=1
            )
        )
    return _split(results)


def _xml_segment(
    segment: ET.Element, lines: _Lines, start: int, end: int, source: str | None
) -> OrbitalElements | InvalidInput:
    first = lines.at(start)

    def line_of(field: str) -> int:
        return lines.of_key(rf"<(?:[\w.-]+:)?{re.escape(field)}[\s>/]", start, end, first)

    record: dict[str, object] = {}
    for path in (("metadata",), ("data", "meanElements"), ("data", "tleParameters")):
        node = _child(segment, path)
        if node is None and path[-1] != "tleParameters":
            return InvalidInput(
                "/".join(path), "", "present in every segment", source=source, line=first
            )
        for item in node if node is not None else ():
            record[_local(item.tag)] = item.text
            problem = _unit_problem(_local(item.tag), item.get("units"))
            if problem is not None:
                return problem.located(source=source, line=line_of(_local(item.tag)))

    return _convert(record, source, line_of)


def _child(node: ET.Element, path: tuple[str, ...]) -> ET.Element | None:
    for name in path:
        found = next((child for child in node if _local(child.tag) == name), None)
        if found is None:
            return None
        node = found
    return node


def _local(tag: str) -> str:
    """``"{urn:ccsds}segment"`` → ``"segment"``."""
    return tag.rsplit("}", 1)[-1]


def write_omm_xml(elements: Iterable[OrbitalElements]) -> str:
    """Return an OMM XML document as CelesTrak writes it: one ``<omm>`` per element set."""
    root = ET.Element("ndm")
    for item in elements:
        record = item.to_omm()
        omm = ET.SubElement(root, "omm", id="CCSDS_OMM_VERS", version="2.0")
        header = ET.SubElement(omm, "header")
        ET.SubElement(header, "CREATION_DATE")
        ET.SubElement(header, "ORIGINATOR")
        segment = ET.SubElement(ET.SubElement(omm, "body"), "segment")
        metadata = ET.SubElement(segment, "metadata")
        _xml_fields(metadata, record, ("OBJECT_NAME", "OBJECT_ID"))
        for key, value in (
            ("CENTER_NAME", "EARTH"),
            ("REF_FRAME", "TEME"),
            ("TIME_SYSTEM", "UTC"),
            ("MEAN_ELEMENT_THEORY", "SGP4"),
        ):
            ET.SubElement(metadata, key).text = value
        data = ET.SubElement(segment, "data")
        _xml_fields(ET.SubElement(data, "meanElements"), record, OMM_FIELDS[2:9])
        _xml_fields(ET.SubElement(data, "tleParameters"), record, OMM_FIELDS[9:])
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _xml_fields(parent: ET.Element, record: Mapping[str, Any], keys: Iterable[str]) -> None:
    for key in keys:
        ET.SubElement(parent, key).text = str(record[key])


# --- KVN -------------------------------------------------------------------------------------


def read_omm_kvn(text: str, *, source: str | None = None) -> Parsed:
    """Parse OMM KVN: ``KEY = value [unit]`` lines; each ``CCSDS_OMM_VERS`` starts a message.

    ``COMMENT`` lines, blank lines and ``META_START``-style markers are
    skipped. A bracketed unit is checked for the fields whose unit SGP4 fixes
    (``MEAN_MOTION [rad/min]`` is rejected) and ignored elsewhere.

    Returns:
        ``(elements, problems)``: good element sets in file order; one problem
        per bad message, at the line of the bad key (or the message's first line).
    """
    results: list[OrbitalElements | InvalidInput] = []
    for first, entries, problem in _kvn_messages(text):
        if problem is not None:
            results.append(problem.located(source=source))
            continue
        record = {key: value for key, (value, _line) in entries.items()}

        def line_of(
            field: str, entries: dict[str, tuple[str, int]] = entries, first: int = first
        ) -> int:
            return entries[field][1] if field in entries else first

        results.append(_convert(record, source, line_of))
    return _split(results)


def _kvn_messages(
    text: str,
) -> Iterable[tuple[int, dict[str, tuple[str, int]], InvalidInput | None]]:
    """Yield ``(first line, {key: (value, line)}, problem or None)`` per message."""
    first = 0
    entries: dict[str, tuple[str, int]] = {}
    problem: InvalidInput | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("COMMENT") or line in _KVN_MARKERS:
            continue
        match = _KVN_LINE_RE.fullmatch(line)
        key = match[1] if match else ""
        if key == "CCSDS_OMM_VERS" and first:
            yield first, entries, problem
            first, entries, problem = 0, {}, None
        first = first or number
        if problem is not None:
            continue
        if match is None:
            problem = InvalidInput(
                "KVN line", line, "KEY = value [unit], or COMMENT ...", line=number
            )
        elif key in entries:
            problem = InvalidInput(
                key,
                match[2],
                "one value per message; start each OMM with CCSDS_OMM_VERS",
                line=number,
            )
        else:
            value, unit = _kvn_value(key, match[2])
            problem = _unit_problem(key, unit, line=number)
            entries[key] = (value, number)
    if first:
        yield first, entries, problem


def _kvn_value(key: str, text: str) -> tuple[str, str | None]:
    """Split ``"15.5 [rev/day]"`` into value and unit (text fields keep their brackets)."""
    match = None if key in _KVN_TEXT_KEYS else _KVN_UNIT_RE.fullmatch(text)
    return (match[1], match[2]) if match else (text, None)


def write_omm_kvn(
    elements: Iterable[OrbitalElements],
    *,
    creation_date: datetime | None = None,
    originator: str = "GROUNDLINK",
) -> str:
    """Return OMM KVN, one message per element set, with units in brackets.

    ``CREATION_DATE`` is written when ``creation_date`` is given (the core
    never reads the clock itself).
    """
    units = {key: allowed[0] for key, allowed in _UNITS.items()}
    units["BSTAR"] = "1/ER"
    out: list[str] = []
    for item in elements:
        record = item.to_omm()
        out.append("CCSDS_OMM_VERS = 2.0")
        if creation_date is not None:
            out.append(f"CREATION_DATE = {format_omm_epoch(creation_date)}")
        out.append(f"ORIGINATOR = {originator}")
        out.append(f"OBJECT_NAME = {record['OBJECT_NAME']}")
        out.append(f"OBJECT_ID = {record['OBJECT_ID']}")
        out.extend(
            (
                "CENTER_NAME = EARTH",
                "REF_FRAME = TEME",
                "TIME_SYSTEM = UTC",
                "MEAN_ELEMENT_THEORY = SGP4",
            )
        )
        for key in OMM_FIELDS[2:]:
            unit = f" [{units[key]}]" if key in units else ""
            out.append(f"{key} = {record[key]}{unit}")
        out.append("")
    return "\n".join(out)
