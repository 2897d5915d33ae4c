"""Two-line element sets (TLE, 3LE): parse and write, column by column.

A TLE is two fixed-width lines of 69 characters, optionally preceded by a
name line (a "3LE"; CelesTrak's name line may start with ``"0 "``). Every
field sits in fixed columns (1-based, as the format's documentation counts):

=====  ==========  ====================================================
line   columns     field
=====  ==========  ====================================================
1, 2   1           line number, ``1`` or ``2``
1, 2   3-7         catalogue number, 5 digits or Alpha-5 (``A0000`` = 100,000)
1      8           classification (U, C, S)
1      10-17       international designator, ``58002B`` = 1958-002B (may be blank)
1      19-32       epoch: two-digit year (57-99 → 19xx, else 20xx), day of year
1      34-43       ṅ/2 in rev/day², ``-.00000084``
1      45-52       n̈/6 in rev/day³, implied decimal and exponent: ``" 12345-3"``
1      54-61       BSTAR in 1/earth radii, same notation
1      63          ephemeris type
1      65-68       element set number
2      9-16        inclination, degrees
2      18-25       right ascension of the ascending node, degrees
2      27-33       eccentricity, implied leading decimal point
2      35-42       argument of perigee, degrees
2      44-51       mean anomaly, degrees
2      53-63       mean motion, rev/day
2      64-68       revolution number at epoch (wraps at 100,000)
1, 2   69          checksum: digits summed, ``-`` counts 1, modulo 10
=====  ==========  ====================================================

Why hand-written: ``sgp4.api.Satrec.twoline2rv`` does not verify the
checksum, does not check the column layout, and cannot say which field of
which line is wrong; it only returns a satellite record. Here every problem
is an :class:`~groundlink.errors.InvalidInput` naming the line and the field
(``"line 1 checksum: got '3', expected 7"``), and the result is an
:class:`~groundlink.orbits.elements.OrbitalElements`, groundlink's one
element type.

Strict mode (the default) checks everything above. ``strict=False`` reads
the way sgp4's own verification file ``SGP4-VER.TLE`` needs: no checksum
check, text after column 69 ignored, short lines padded, and blank
classification, ephemeris type, element set number or revolution number
read as their defaults.

Epochs are exact: the last epoch digit is 1e-8 day = 864 µs, so the epoch
becomes a whole number of microseconds and writes back to the same digits.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from groundlink.errors import InvalidInput
from groundlink.orbits.elements import (
    MAX_TLE_CATALOG_NUMBER,
    OrbitalElements,
    validate_elements,
)

#: Length of a TLE data line, checksum included.
TLE_LINE_LENGTH = 69

#: Alpha-5 letters: A-Z without I and O (they look like 1 and 0); A stands for 10.
_ALPHA5_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"

#: One epoch tick, the last of the 8 decimal places of the epoch day.
_EPOCH_TICK = timedelta(microseconds=864)
_TICKS_PER_DAY = 100_000_000

#: 0-based columns that must be blank in strict mode.
_BLANK_COLUMNS = {1: (1, 8, 17, 32, 43, 52, 61, 63), 2: (1, 7, 16, 25, 33, 42, 51)}

#: OMM fields that live on line 1 (the rest are on line 2), to locate problems.
_LINE1_FIELDS = frozenset(
    {
        "CLASSIFICATION_TYPE",
        "OBJECT_ID",
        "EPOCH",
        "MEAN_MOTION_DOT",
        "MEAN_MOTION_DDOT",
        "BSTAR",
        "EPHEMERIS_TYPE",
        "ELEMENT_SET_NO",
    }
)

_ALPHA5_RE = re.compile(r"[A-HJ-NP-Z]\d{4}", re.ASCII)
_DIGITS_RE = re.compile(r" *\d+", re.ASCII)
_DESIGNATOR_RE = re.compile(r"(\d\d)(\d{3})([A-Z]{1,3}) *", re.ASCII)
_OBJECT_ID_RE = re.compile(r"(\d{4})-(\d{3})([A-Z]{1,3})", re.ASCII)
_EPOCH_RE = re.compile(r"(\d\d)([ \d]{2}\d)\.(\d{8})", re.ASCII)
_NDOT_RE = re.compile(r"([ +-])\.(\d{8})", re.ASCII)
_EXPONENT_RE = re.compile(r"([ +-])(\d{5})([+-])(\d)", re.ASCII)
_ANGLE_RE = re.compile(r" *\d{1,3}\.\d{4}", re.ASCII)
_MEAN_MOTION_RE = re.compile(r" *\d{1,2}\.\d{8}", re.ASCII)


# --- Alpha-5 catalogue numbers and the checksum --------------------------------------------


def from_alpha5(text: str) -> int:
    """Return the catalogue number in a TLE's 5-character field (digits or Alpha-5).

    ``"25544"`` → 25544, ``"A0000"`` → 100000, ``"Z9999"`` → 339999.

    Raises:
        InvalidInput: (field ``"catalog number"``) when the text is neither.
    """
    if _ALPHA5_RE.fullmatch(text):
        return (_ALPHA5_LETTERS.index(text[0]) + 10) * 10_000 + int(text[1:])
    if _DIGITS_RE.fullmatch(text):
        return int(text)
    raise InvalidInput(
        "catalog number",
        text,
        "5 digits, or Alpha-5: a letter A-Z other than I and O, then 4 digits",
    )


def to_alpha5(number: int) -> str:
    """Return the 5-character TLE catalogue field: zero-padded digits, Alpha-5 above 99,999.

    Raises:
        InvalidInput: (field ``"NORAD_CAT_ID"``) outside 0..339,999, which no TLE can hold.
    """
    if not 0 <= number <= MAX_TLE_CATALOG_NUMBER:
        raise InvalidInput(
            "NORAD_CAT_ID",
            number,
            f"0..{MAX_TLE_CATALOG_NUMBER:,} to fit a TLE (Alpha-5 ends at Z9999); "
            "only OMM can hold it",
        )
    if number < 100_000:
        return f"{number:05d}"
    letter, rest = divmod(number, 10_000)
    return f"{_ALPHA5_LETTERS[letter - 10]}{rest:04d}"


def checksum(line: str) -> int:
    """Return the TLE checksum of ``line``'s first 68 columns: digits summed, ``-`` as 1, mod 10."""
    total = 0
    for char in line[: TLE_LINE_LENGTH - 1]:
        if char.isdigit():
            total += int(char)
        elif char == "-":
            total += 1
    return total % 10


# --- parsing ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Line1:
    catalog_number: int
    classification: str
    object_id: str
    epoch: datetime
    mean_motion_dot: float
    mean_motion_ddot: float
    bstar: float
    ephemeris_type: int
    element_set_no: int


@dataclass(frozen=True, slots=True)
class _Line2:
    catalog_number: int
    inclination: float
    ra_of_asc_node: float
    eccentricity: float
    arg_of_pericenter: float
    mean_anomaly: float
    mean_motion: float
    rev_at_epoch: int


def parse_tle(line1: str, line2: str, name: str = "", *, strict: bool = True) -> OrbitalElements:
    """Parse one TLE into :class:`OrbitalElements` (TLE units: rev/day, degrees, 1/earth radii).

    ``name`` is the optional name line; a leading ``"0 "`` (3LE style) and
    padding are removed. ``strict=False`` skips the checksums and reads the
    looser layout of sgp4's ``SGP4-VER.TLE`` (see the module docstring).

    Raises:
        InvalidInput: naming the line and field (``"line 2 eccentricity"``,
            ``"line 1 checksum"``), or an OMM field name when a value is out
            of range; ``line`` is not set (see :func:`read_tle` for files).
    """
    return _parse_record(name, line1, line2, strict=strict, source=None, first_line=None)


def read_tle(
    text: str, *, source: str | None = None, strict: bool = True
) -> tuple[list[OrbitalElements], list[InvalidInput]]:
    """Parse every TLE in ``text`` (2-line or 3-line, mixed, blank and ``#`` lines skipped).

    Returns:
        ``(elements, problems)``: the good element sets in file order, and one
        :class:`InvalidInput` per bad record, located at ``source`` and the
        1-based number of the offending line. A bad record never stops the
        others.
    """
    lines = [line.rstrip() for line in text.splitlines()]
    elements: list[OrbitalElements] = []
    problems: list[InvalidInput] = []
    name: int | None = None  # 0-based index of a name line waiting for its TLE
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.strip() or line.startswith("#"):
            index += 1
        elif line.startswith("1 ") and index + 1 < len(lines) and lines[index + 1][:2] == "2 ":
            title = "" if name is None else lines[name]
            line2 = lines[index + 1]
            try:
                record = _parse_record(
                    title, line, line2, strict=strict, source=source, first_line=index + 1
                )
                elements.append(record)
            except InvalidInput as problem:
                problems.append(problem)
            name, index = None, index + 2
        elif line.startswith(("1 ", "2 ")):
            problems.append(_broken_pair(lines, index, name).located(source=source))
            name, index = None, index + 1
        else:
            if name is not None:
                problems.append(_orphan_name(lines, name).located(source=source))
            name, index = index, index + 1
    if name is not None:
        problems.append(_orphan_name(lines, name).located(source=source))
    return elements, problems


def _broken_pair(lines: list[str], index: int, name: int | None) -> InvalidInput:
    """The problem of a line 1 without its line 2, or a line 2 without its line 1."""
    if lines[index].startswith("1 "):
        following = index + 1 < len(lines)
        return InvalidInput(
            "line 2",
            lines[index + 1] if following else "end of input",
            "a TLE line 2 (starting '2 ') right after line 1",
            line=index + 2 if following else index + 1,
        )
    # A line 2 alone: most often its line 1 is damaged and was taken for a name.
    return InvalidInput(
        "line 1",
        lines[name] if name is not None else "nothing",
        "a TLE line 1 (starting '1 ') right before line 2",
        line=(name if name is not None else index) + 1,
    )


def _orphan_name(lines: list[str], name: int) -> InvalidInput:
    return InvalidInput(
        "name line", lines[name], "TLE lines 1 and 2 after a name line", line=name + 1
    )


def _parse_record(
    name: str,
    line1: str,
    line2: str,
    *,
    strict: bool,
    source: str | None,
    first_line: int | None,
) -> OrbitalElements:
    """Parse one record; every error is located at the line that holds the bad field."""
    second_line = None if first_line is None else first_line + 1
    try:
        first = _parse_line1(_fit(line1, 1, strict=strict), strict=strict)
    except InvalidInput as problem:
        raise problem.located(source=source, line=first_line) from None
    try:
        second = _parse_line2(_fit(line2, 2, strict=strict), strict=strict)
        if second.catalog_number != first.catalog_number:
            raise InvalidInput(
                "line 2 catalog number",
                line2[2:7],
                f"{line1[2:7]} as on line 1 (columns 3-7)",
            )
    except InvalidInput as problem:
        raise problem.located(source=source, line=second_line) from None
    elements = _combine(_clean_name(name), first, second)
    problems = validate_elements(elements)
    if problems:
        on_line = first_line if problems[0].field in _LINE1_FIELDS else second_line
        raise problems[0].located(source=source, line=on_line)
    return elements


def _clean_name(name: str) -> str:
    name = name.strip()
    return name[2:].strip() if name.startswith("0 ") else name


def _fit(line: str, number: int, *, strict: bool) -> str:
    """Check length, line number, blanks and checksum; return exactly 69 columns."""
    line = line.rstrip()
    if strict and len(line) != TLE_LINE_LENGTH:
        raise InvalidInput(
            f"line {number} length",
            len(line),
            f"{TLE_LINE_LENGTH} characters (a TLE line is fixed-width)",
        )
    line = line[:TLE_LINE_LENGTH].ljust(TLE_LINE_LENGTH)
    if line[:2] != f"{number} ":
        raise InvalidInput(f"line {number} column 1", line[:2], f"'{number} '")
    if not strict:
        return line
    for column in _BLANK_COLUMNS[number]:
        if line[column] != " ":
            raise InvalidInput(
                f"line {number} column {column + 1}",
                line[column],
                "a blank (TLE fields sit in fixed columns)",
            )
    found = line[-1]
    computed = checksum(line)
    if found != str(computed):
        raise InvalidInput(f"line {number} checksum", found, str(computed))
    return line


def _parse_line1(line: str, *, strict: bool) -> _Line1:
    classification = line[7]
    if not strict and classification == " ":
        classification = "U"
    return _Line1(
        catalog_number=_catalog(line, 1),
        classification=classification,
        object_id=_designator(line[9:17], strict=strict),
        epoch=_epoch(line[18:32]),
        mean_motion_dot=_ndot(line[33:43], strict=strict),
        mean_motion_ddot=_exponent_field(line[44:52], "line 1 MEAN_MOTION_DDOT", strict=strict),
        bstar=_exponent_field(line[53:61], "line 1 BSTAR", strict=strict),
        ephemeris_type=_integer(line[62], "line 1 ephemeris type (column 63)", strict=strict),
        element_set_no=_integer(
            line[64:68], "line 1 element set number (columns 65-68)", strict=strict
        ),
    )


def _parse_line2(line: str, *, strict: bool) -> _Line2:
    return _Line2(
        catalog_number=_catalog(line, 2),
        inclination=_decimal(line[8:16], "line 2 inclination (columns 9-16)", _ANGLE_RE, strict),
        ra_of_asc_node=_decimal(line[17:25], "line 2 RAAN (columns 18-25)", _ANGLE_RE, strict),
        eccentricity=_eccentricity(line[26:33], strict=strict),
        arg_of_pericenter=_decimal(
            line[34:42], "line 2 argument of perigee (columns 35-42)", _ANGLE_RE, strict
        ),
        mean_anomaly=_decimal(
            line[43:51], "line 2 mean anomaly (columns 44-51)", _ANGLE_RE, strict
        ),
        mean_motion=_decimal(
            line[52:63], "line 2 mean motion (columns 53-63)", _MEAN_MOTION_RE, strict
        ),
        rev_at_epoch=_integer(
            line[63:68], "line 2 revolution number (columns 64-68)", strict=strict
        ),
    )


def _combine(name: str, first: _Line1, second: _Line2) -> OrbitalElements:
    return OrbitalElements(
        object_name=name,
        object_id=first.object_id,
        epoch=first.epoch,
        mean_motion=second.mean_motion,
        eccentricity=second.eccentricity,
        inclination=second.inclination,
        ra_of_asc_node=second.ra_of_asc_node,
        arg_of_pericenter=second.arg_of_pericenter,
        mean_anomaly=second.mean_anomaly,
        norad_cat_id=first.catalog_number,
        bstar=first.bstar,
        mean_motion_dot=first.mean_motion_dot,
        mean_motion_ddot=first.mean_motion_ddot,
        ephemeris_type=first.ephemeris_type,
        classification_type=first.classification,
        element_set_no=first.element_set_no,
        rev_at_epoch=second.rev_at_epoch,
    )


def _catalog(line: str, number: int) -> int:
    try:
        return from_alpha5(line[2:7])
    except InvalidInput as problem:
        raise InvalidInput(
            f"line {number} catalog number", problem.value, problem.expected + " (columns 3-7)"
        ) from None


def _designator(field: str, *, strict: bool) -> str:
    """``"58002B  "`` → ``"1958-002B"``; blank → ``""``."""
    if not field.strip():
        return ""
    match = _DESIGNATOR_RE.fullmatch(field)
    if match is None:
        if not strict:
            return ""
        raise InvalidInput(
            "line 1 international designator",
            field,
            "YYNNNPPP: launch year, launch number, piece letters (columns 10-17), or blank",
        )
    year, launch, piece = match.groups()
    return f"{_full_year(int(year))}-{launch}{piece}"


def _full_year(two_digits: int) -> int:
    """57-99 → 1957-1999, 00-56 → 2000-2056 (the first satellite flew in 1957)."""
    return 1900 + two_digits if two_digits >= 57 else 2000 + two_digits


def _epoch(field: str) -> datetime:
    """``"24152.23226756"`` → 2024-05-31T05:34:27.917184Z, exactly."""
    match = _EPOCH_RE.fullmatch(field)
    if match is None:
        raise InvalidInput(
            "line 1 epoch", field, "YYDDD.DDDDDDDD: year, day of year, 8 decimals (columns 19-32)"
        )
    year = _full_year(int(match[1]))
    day = int(match[2])
    start = datetime(year, 1, 1, tzinfo=UTC)
    days_in_year = (datetime(year + 1, 1, 1, tzinfo=UTC) - start).days
    if not 1 <= day <= days_in_year:
        raise InvalidInput("line 1 epoch day", day, f"a day of {year} in 1..{days_in_year}")
    return start + timedelta(days=day - 1) + int(match[3]) * _EPOCH_TICK


def _ndot(field: str, *, strict: bool) -> float:
    """``"-.00000084"`` → -8.4e-07 rev/day²."""
    if _NDOT_RE.fullmatch(field):
        return float(field.replace(" ", "").replace("+", ""))
    if not strict:
        return _lenient_float(field, "line 1 MEAN_MOTION_DOT")
    raise InvalidInput(
        "line 1 MEAN_MOTION_DOT", field, "a sign or blank, then .DDDDDDDD (columns 34-43)"
    )


def _exponent_field(field: str, label: str, *, strict: bool) -> float:
    """Implied decimal and exponent: ``" 12345-3"`` → 0.12345e-3, ``"-22483-4"`` → -0.22483e-4."""
    match = _EXPONENT_RE.fullmatch(field)
    if match is None:
        if not strict and not field.strip():
            return 0.0
        columns = "45-52" if "DDOT" in label else "54-61"
        raise InvalidInput(
            label,
            field,
            f"sign or blank, 5 digits, exponent sign, 1 digit: ' 12345-3' (columns {columns})",
        )
    sign, mantissa, exponent_sign, exponent = match.groups()
    sign = "-" if sign == "-" else ""
    return float(f"{sign}0.{mantissa}e{exponent_sign}{exponent}")


def _eccentricity(field: str, *, strict: bool) -> float:
    """``"0001558"`` → 0.0001558 (the decimal point is implied)."""
    digits = field if strict else field.replace(" ", "0")
    if not digits.isdigit() or not digits.isascii():
        raise InvalidInput(
            "line 2 eccentricity", field, "7 digits, decimal point implied (columns 27-33)"
        )
    return float("0." + digits)


def _decimal(field: str, label: str, pattern: re.Pattern[str], strict: bool) -> float:
    if pattern.fullmatch(field):
        return float(field)
    if not strict:
        return _lenient_float(field, label)
    raise InvalidInput(label, field, "a right-aligned unsigned decimal number")


def _integer(field: str, label: str, *, strict: bool) -> int:
    if _DIGITS_RE.fullmatch(field):
        return int(field)
    if not strict and not field.strip():
        return 0
    raise InvalidInput(label, field, "a right-aligned unsigned integer")


def _lenient_float(field: str, label: str) -> float:
    text = field.strip() or "0"
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(label, field, "a decimal number") from None
    if not math.isfinite(value):
        raise InvalidInput(label, field, "a finite decimal number")
    return value


# --- writing ---------------------------------------------------------------------------------


def format_tle(elements: OrbitalElements) -> tuple[str, str]:
    """Return the two 69-character TLE lines for ``elements``, checksums included.

    Catalogue numbers from 100,000 to 339,999 are written in Alpha-5. Values
    are rounded to the TLE's fixed decimals (angles 4, mean motion 8, epoch
    1e-8 day); the revolution number wraps at 100,000 as in real TLEs.
    Zero n̈/6 is written ``00000-0`` and zero BSTAR ``00000+0``, as CelesTrak does.

    Raises:
        InvalidInput: naming the OMM field when a value cannot be written in a
            TLE: a catalogue number above 339,999 (only OMM can hold it), an
            epoch outside 1957-2056, an OBJECT_ID that is not a COSPAR id, or
            any problem :func:`validate_elements` finds.
    """
    problems = validate_elements(elements)
    if problems:
        raise problems[0]
    catalog = to_alpha5(elements.norad_cat_id)
    line1 = "".join(
        (
            "1 ",
            catalog,
            elements.classification_type,
            " ",
            _format_designator(elements.object_id),
            " ",
            _format_epoch(elements.epoch),
            " ",
            _format_ndot(elements.mean_motion_dot),
            " ",
            _format_exponent(elements.mean_motion_ddot, "MEAN_MOTION_DDOT", zero="-0"),
            " ",
            _format_exponent(elements.bstar, "BSTAR", zero="+0"),
            " ",
            _format_digits(elements.ephemeris_type, 1, "EPHEMERIS_TYPE"),
            " ",
            _format_digits(elements.element_set_no, 4, "ELEMENT_SET_NO"),
        )
    )
    line2 = "".join(
        (
            "2 ",
            catalog,
            " ",
            f"{elements.inclination:8.4f}",
            " ",
            f"{elements.ra_of_asc_node:8.4f}",
            " ",
            _format_eccentricity(elements.eccentricity),
            " ",
            f"{elements.arg_of_pericenter:8.4f}",
            " ",
            f"{elements.mean_anomaly:8.4f}",
            " ",
            _format_mean_motion(elements.mean_motion),
            _format_digits(elements.rev_at_epoch % 100_000, 5, "REV_AT_EPOCH"),
        )
    )
    return line1 + str(checksum(line1)), line2 + str(checksum(line2))


def write_tle(elements: Iterable[OrbitalElements], *, names: bool = True) -> str:
    """Return TLE text for many element sets: 3LE with name lines, or 2LE with ``names=False``.

    An element set without ``object_name`` gets its catalogue number as its
    name line. Each line ends with a newline.

    Raises:
        InvalidInput: as :func:`format_tle`, for the first element set that cannot be written.
    """
    out: list[str] = []
    for item in elements:
        if names:
            out.append(item.name)
        out.extend(format_tle(item))
    return "".join(line + "\n" for line in out)


def _format_designator(object_id: str) -> str:
    """``"1958-002B"`` → ``"58002B  "``; ``""`` → 8 blanks."""
    if not object_id:
        return " " * 8
    match = _OBJECT_ID_RE.fullmatch(object_id)
    if match is None or _full_year(int(match[1]) % 100) != int(match[1]):
        raise InvalidInput(
            "OBJECT_ID",
            object_id,
            "a COSPAR id YYYY-NNNP with year 1957-2056, such as 1998-067A, or empty",
        )
    year, launch, piece = match.groups()
    return f"{year[2:]}{launch}{piece}".ljust(8)


def _format_epoch(epoch: datetime) -> str:
    """A UTC datetime → ``"YYDDD.DDDDDDDD"``, rounded to the nearest 1e-8 day (864 µs)."""
    epoch = epoch.astimezone(UTC)
    start = datetime(epoch.year, 1, 1, tzinfo=UTC)
    ticks, remainder = divmod(epoch - start, _EPOCH_TICK)
    if 2 * remainder >= _EPOCH_TICK:
        ticks += 1
    rounded = start + ticks * _EPOCH_TICK
    if rounded.year != epoch.year:  # rounded up past midnight of New Year's Eve
        start, ticks = rounded, 0
    year = start.year
    if _full_year(year % 100) != year:
        raise InvalidInput("EPOCH", epoch.isoformat(), "a year in 1957..2056 to fit a TLE")
    day, fraction = divmod(ticks, _TICKS_PER_DAY)
    return f"{year % 100:02d}{day + 1:03d}.{fraction:08d}"


def _sign(value: float) -> str:
    """``"-"`` for negative values (and -0.0, so it round-trips), else a blank."""
    return "-" if math.copysign(1.0, value) < 0 else " "


def _format_ndot(value: float) -> str:
    """-8.4e-07 → ``"-.00000084"``."""
    digits = f"{abs(value):.8f}"
    if not digits.startswith("0."):
        raise InvalidInput("MEAN_MOTION_DOT", value, "|ṅ/2| < 1 rev/day² to fit a TLE")
    return _sign(value) + digits[1:]


def _format_exponent(value: float, field: str, *, zero: str) -> str:
    """1.4491e-4 → ``" 14491-3"`` (0.14491 × 10⁻³); tiny values lose digits, then become zero."""
    if value == 0.0:
        return f"{_sign(value)}00000{zero}"
    mantissa_text, exponent_text = f"{abs(value):.4e}".split("e")
    exponent = int(exponent_text) + 1  # 1.4491e-04 is 0.14491e-03
    mantissa = int(mantissa_text.replace(".", ""))
    if exponent < -9:  # below 0.1e-9: shift digits out rather than overflow the exponent
        mantissa = round(abs(value) * 10.0 ** (5 + 9))
        exponent = -9
        if mantissa == 0:
            return f"{_sign(value)}00000{zero}"
    if exponent > 9:
        raise InvalidInput(field, value, "a magnitude below 1e9 to fit a TLE")
    exponent_sign = "-" if exponent < 0 else "+"
    return f"{_sign(value)}{mantissa:05d}{exponent_sign}{abs(exponent)}"


def _format_eccentricity(value: float) -> str:
    """0.0001558 → ``"0001558"``."""
    digits = round(value * 10_000_000)
    if digits >= 10_000_000:
        raise InvalidInput("ECCENTRICITY", value, "below 0.99999995 to fit a TLE's 7 digits")
    return f"{digits:07d}"


def _format_mean_motion(value: float) -> str:
    text = f"{value:11.8f}"
    if len(text) != 11:
        raise InvalidInput("MEAN_MOTION", value, "below 100 rev/day to fit a TLE")
    return text


def _format_digits(value: int, width: int, field: str) -> str:
    text = f"{value:{width}d}"
    if value < 0 or len(text) != width:
        raise InvalidInput(field, value, f"an integer of at most {width} digits to fit a TLE")
    return text
