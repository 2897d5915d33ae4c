"""Reading ground stations from JSON, YAML and CSV.

This is the edge where station files enter groundlink: every value is checked
here (types) and in :mod:`groundlink.stations.model` (ranges), and anything
wrong raises :class:`~groundlink.errors.InvalidInput` naming the field, the
value, what was expected, and where it was (file and 1-based line for CSV
rows and syntax errors; a path such as ``stations[3].latitude_deg``, indices
counted from 0, inside JSON and YAML documents). Unknown keys are errors too:
a misspelt ``min_elevaton_deg`` must not silently become the default.

JSON and YAML
-------------
Either a list of stations or a mapping ``{"stations": [...]}``::

    stations:
      - id: svalbard              # optional: derived from name ("Svalbard SG-1" -> "svalbard-sg-1")
        name: Svalbard
        latitude_deg: 78.23       # aliases: lat_deg, lat
        longitude_deg: 15.39      # aliases: lon_deg, lon (east positive)
        altitude_m: 500           # aliases: alt_m, alt; optional, default 0
        antennas:                 # optional: default one antenna "ant1"
          - id: sg1               # optional: default "ant<position from 1>"
            min_elevation_deg: 5  # optional: default default_min_elevation_deg
            bands:                # optional
              - {name: X, min_hz: 8025000000, max_hz: 8400000000, direction: downlink}
            horizon_mask: [[0, 5], [90, 3], [180, 8], [270, 4]]  # [azimuth_deg, elevation_deg]
            # or: horizon_mask: {azimuth_deg: [0, 90, 180, 270], elevation_deg: [5, 3, 8, 4]}
            max_slew_azimuth_deg_s: 3.0    # optional
            max_slew_elevation_deg_s: 3.0  # optional

Numbers may also be written as strings ("8.4e9"): PyYAML follows YAML 1.1,
which reads ``8.4e9`` (no dot before, no sign after the ``e``) as a string.
Frequencies must be whole numbers of Hz. A key given twice is an error.

CSV
---
One row per antenna, with a header line. Columns: ``name``, ``lat_deg``,
``lon_deg`` (required), ``alt_m`` and ``mask_deg`` (the antenna's minimum
elevation), and optionally ``id`` (else derived from name) and
``antenna_id`` (else ``ant1``). The other spellings of the JSON/YAML keys
(``latitude_deg``, ``lat``, ...) and ``min_elevation_deg`` work too.
Rows sharing a station id are one station with several antennas: they need
an ``antenna_id`` column, different antenna ids and the same name and
position.

The demo network (30 stations of the big commercial and agency networks)
ships with the package: :func:`demo_stations`.
"""

from __future__ import annotations

import csv
import json
import os
import re
import unicodedata
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import replace
from importlib import resources
from io import StringIO  # the standard library's io, not this module
from pathlib import Path
from typing import Any, TypeVar

import yaml

from groundlink.errors import InvalidInput
from groundlink.stations.model import Antenna, FrequencyBand, GroundStation, HorizonMask

__all__ = [
    "DEFAULT_ANTENNA_ID",
    "demo_stations",
    "parse_stations",
    "read_stations_file",
    "station_to_dict",
]

#: Id of the antenna a station gets when its file names none.
DEFAULT_ANTENNA_ID = "ant1"

_FORMATS = ("json", "yaml", "csv")
_EXTENSIONS = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".csv": "csv"}
_MISSING = "(missing)"

# Accepted keys: the canonical name (a model field) and the spellings accepted for it.
_Schema = Mapping[str, tuple[str, ...]]
_STATION_KEYS: _Schema = {
    "id": ("id",),
    "name": ("name",),
    "latitude_deg": ("latitude_deg", "lat_deg", "lat"),
    "longitude_deg": ("longitude_deg", "lon_deg", "lon"),
    "altitude_m": ("altitude_m", "alt_m", "alt"),
    "antennas": ("antennas",),
}
_ANTENNA_KEYS: _Schema = {
    name: (name,)
    for name in (
        "id",
        "min_elevation_deg",
        "bands",
        "horizon_mask",
        "max_slew_azimuth_deg_s",
        "max_slew_elevation_deg_s",
    )
}
_BAND_KEYS: _Schema = {name: (name,) for name in ("name", "min_hz", "max_hz", "direction")}
_MASK_KEYS: _Schema = {name: (name,) for name in ("azimuth_deg", "elevation_deg")}
_CSV_COLUMNS: _Schema = {
    **{name: spellings for name, spellings in _STATION_KEYS.items() if name != "antennas"},
    "min_elevation_deg": ("min_elevation_deg", "mask_deg"),
    "antenna_id": ("antenna_id",),
}

_T = TypeVar("_T")


# --- public API -----------------------------------------------------------------------------------


def parse_stations(
    text: str,
    *,
    source: str = "<input>",
    fmt: str | None = None,
    default_min_elevation_deg: float = 0.0,
) -> list[GroundStation]:
    """Read ground stations from JSON, YAML or CSV text (schemas in the module docstring).

    Args:
        text: the whole document.
        source: where the text came from (a file name), used in error messages.
        fmt: ``"json"``, ``"yaml"`` or ``"csv"``; ``None`` detects it: JSON
            when the text starts with ``{`` or ``[``, CSV when its first line
            is comma-separated column names, YAML otherwise.
        default_min_elevation_deg: minimum elevation in degrees, [0, 90], of
            antennas whose file gives none (and of the default antenna).

    Returns:
        The stations in file order, station ids unique.

    Raises:
        InvalidInput: naming the field, the value, what was expected, ``source``
            and, where known, the 1-based line.
    """
    text = text.removeprefix("\ufeff")
    try:
        default_antenna = _default_antenna(default_min_elevation_deg)
        fmt = _detect_format(text) if fmt is None else _checked_format(fmt)
        if fmt == "csv":
            return _stations_from_csv(text, default_antenna)
        data = _load_json(text) if fmt == "json" else _load_yaml(text)
        return _stations_from_document(data, default_antenna)
    except InvalidInput as error:
        raise error.located(source=source) from None


def read_stations_file(path: str | os.PathLike[str]) -> list[GroundStation]:
    """Read ground stations from a ``.json``, ``.yaml``/``.yml`` or ``.csv`` file (UTF-8).

    The format comes from the extension (detected from the content for any
    other extension). Returns the stations as :func:`parse_stations` does and
    raises :class:`InvalidInput` likewise, with the path as source, also for a
    missing or unreadable file.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise InvalidInput(
            "file", path.name, f"a readable file ({error.strerror})", source=str(path)
        ) from None
    except UnicodeDecodeError as error:
        raise InvalidInput(
            "encoding", error.object[error.start : error.end], "UTF-8 text", source=str(path)
        ) from None
    return parse_stations(text, source=str(path), fmt=_EXTENSIONS.get(path.suffix.lower()))


def demo_stations() -> list[GroundStation]:
    """The demo network shipped with groundlink: 30 stations, one antenna "ant1" each.

    Read from the package's ``data/stations.csv`` (name, lat_deg, lon_deg,
    alt_m, mask_deg); station ids are the lower-cased names.
    """
    resource = resources.files("groundlink") / "data" / "stations.csv"
    return parse_stations(
        resource.read_text(encoding="utf-8"), source="groundlink/data/stations.csv", fmt="csv"
    )


def station_to_dict(station: GroundStation) -> dict[str, Any]:
    """The station as a JSON/YAML-ready mapping in the schema :func:`parse_stations` reads.

    Every field is written out (no defaults left implicit), so that
    ``parse_stations(json.dumps([station_to_dict(s)]))`` gives back ``[s]``.
    """
    return {
        "id": station.id,
        "name": station.name,
        "latitude_deg": station.latitude_deg,
        "longitude_deg": station.longitude_deg,
        "altitude_m": station.altitude_m,
        "antennas": [_antenna_to_dict(antenna) for antenna in station.antennas],
    }


def _antenna_to_dict(antenna: Antenna) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": antenna.id,
        "min_elevation_deg": antenna.min_elevation_deg,
        "bands": [
            {"name": b.name, "min_hz": b.min_hz, "max_hz": b.max_hz, "direction": b.direction}
            for b in antenna.bands
        ],
    }
    mask = antenna.horizon_mask
    if mask is not None:
        result["horizon_mask"] = [
            [az, el] for az, el in zip(mask.azimuth_deg, mask.elevation_deg, strict=True)
        ]
    result["max_slew_azimuth_deg_s"] = antenna.max_slew_azimuth_deg_s
    result["max_slew_elevation_deg_s"] = antenna.max_slew_elevation_deg_s
    return result


# --- formats --------------------------------------------------------------------------------------

_CSV_HEADER = re.compile(r'\s*"?[A-Za-z_]\w*"?\s*(,\s*"?[A-Za-z_]\w*"?\s*)+')


def _detect_format(text: str) -> str:
    """``"json"``, ``"csv"`` or ``"yaml"``, from the first non-blank characters of ``text``."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return "json"
    first_line = stripped.split("\n", 1)[0]
    return "csv" if _CSV_HEADER.fullmatch(first_line) else "yaml"


def _checked_format(fmt: str) -> str:
    fmt = fmt.lower()
    fmt = "yaml" if fmt == "yml" else fmt
    if fmt not in _FORMATS:
        raise InvalidInput("fmt", fmt, "json, yaml or csv")
    return fmt


def _load_json(text: str) -> object:
    try:
        return json.loads(text, object_pairs_hook=_mapping_without_repeated_keys)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            "JSON", _line_of(text, error.lineno), f"valid JSON ({error.msg})", line=error.lineno
        ) from None


def _mapping_without_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json's object_pairs_hook: build the object, refusing a key given twice."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise InvalidInput(key, value, "each key once per object, but it is given twice")
        result[key] = value
    return result


class _StrictSafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice is an error (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        first_lines: dict[str, int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                line = key_node.start_mark.line + 1
                if key_node.value in first_lines:
                    raise InvalidInput(
                        key_node.value,
                        key_node.value,
                        f"each key once per mapping (also on line {first_lines[key_node.value]})",
                        line=line,
                    )
                first_lines[key_node.value] = line
        return super().construct_mapping(node, deep=deep)


def _load_yaml(text: str) -> object:
    try:
        return yaml.load(text, Loader=_StrictSafeLoader)  # a SafeLoader: builds plain data only
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = None if mark is None else mark.line + 1
        value = "" if line is None else _line_of(text, line)
        raise InvalidInput("YAML", value, f"valid YAML ({error.problem})", line=line) from None
    except yaml.YAMLError as error:
        raise InvalidInput("YAML", str(error), "valid YAML") from None


def _line_of(text: str, line: int) -> str:
    """The 1-based ``line`` of ``text``, or ``""`` past its end."""
    lines = text.split("\n")
    return lines[line - 1].rstrip("\r") if 0 < line <= len(lines) else ""


# --- JSON and YAML documents ----------------------------------------------------------------------


def _stations_from_document(data: object, default_antenna: Antenna) -> list[GroundStation]:
    """Build the stations of a parsed JSON/YAML document (a list, or ``{"stations": list}``)."""
    if isinstance(data, dict):
        keys = _resolve_keys(data, {"stations": ("stations",)}, path="")
        data = data[keys["stations"]] if "stations" in keys else None
    if not isinstance(data, list):
        raise InvalidInput(
            "stations", data, "a list of stations, or a mapping whose only key is 'stations'"
        )
    stations = [
        _station_from_mapping(item, f"stations[{index}]", default_antenna)
        for index, item in enumerate(data)
    ]
    first_index: dict[str, int] = {}
    for index, station in enumerate(stations):
        if station.id in first_index:
            raise InvalidInput(
                f"stations[{index}].id",
                station.id,
                f"a station id not used before, but stations[{first_index[station.id]}] has it",
            )
        first_index[station.id] = index
    return stations


class _Entry:
    """One JSON/YAML mapping being read: its values by canonical key, and how to name its fields.

    Construction refuses a value that is not a mapping, unknown keys and a
    key given under two spellings. Accessors check the value's type and raise
    :class:`InvalidInput` with the full path (``stations[0].antennas[1].id``)
    in the user's own spelling of the key.
    """

    def __init__(self, value: object, path: str, schema: _Schema, what: str) -> None:
        if not isinstance(value, dict):
            raise InvalidInput(path, value, f"{what}: a mapping of {_describe(schema)}")
        self.path = path
        self._spelling = _resolve_keys(value, schema, path)
        self._values = {name: value[spelt] for name, spelt in self._spelling.items()}

    def field(self, name: str) -> str:
        """The path of field ``name`` as the user spelt it (``stations[0].lat``)."""
        return _join(self.path, self._spelling.get(name, name))

    def has(self, name: str) -> bool:
        return self._values.get(name) is not None

    def get(self, name: str) -> object:
        """The raw value, refusing a missing one."""
        if not self.has(name):
            raise InvalidInput(self.field(name), _MISSING, "a value: this key is required")
        return self._values[name]

    def text(self, name: str) -> str:
        return _text(self.get(name), self.field(name))

    def number(self, name: str, default: float | None = None) -> float:
        if default is not None and not self.has(name):
            return default
        return _number(self.get(name), self.field(name))

    def items(self, name: str) -> list[object]:
        """The value as a list (missing: empty)."""
        if not self.has(name):
            return []
        value = self.get(name)
        if not isinstance(value, list):
            raise InvalidInput(self.field(name), value, "a list")
        return value

    def build(self, constructor: Callable[..., _T], /, **fields: Any) -> _T:
        """``constructor(**fields)``, with the model's errors renamed to this entry's paths."""
        try:
            return constructor(**fields)
        except InvalidInput as error:
            field = {"antenna.id": "id"}.get(error.field, error.field)
            raise InvalidInput(self.field(field), error.value, error.expected) from None


def _station_from_mapping(value: object, path: str, default_antenna: Antenna) -> GroundStation:
    entry = _Entry(value, path, _STATION_KEYS, "a station")
    name = entry.text("name")
    station_id = entry.text("id") if entry.has("id") else _id_from_name(name, entry.field("name"))
    antennas = tuple(
        _antenna_from_mapping(item, f"{entry.field('antennas')}[{index}]", index, default_antenna)
        for index, item in enumerate(entry.items("antennas"))
    )
    return entry.build(
        GroundStation,
        id=station_id,
        name=name,
        latitude_deg=entry.number("latitude_deg"),
        longitude_deg=entry.number("longitude_deg"),
        altitude_m=entry.number("altitude_m", default=0.0),
        antennas=antennas or (default_antenna,),
    )


def _antenna_from_mapping(
    value: object, path: str, index: int, default_antenna: Antenna
) -> Antenna:
    entry = _Entry(value, path, _ANTENNA_KEYS, "an antenna")
    bands = tuple(
        _band_from_mapping(item, f"{entry.field('bands')}[{i}]")
        for i, item in enumerate(entry.items("bands"))
    )
    mask = None
    if entry.has("horizon_mask"):
        azimuths, elevations = _mask_points(entry.get("horizon_mask"), entry.field("horizon_mask"))
        mask = entry.build(HorizonMask, azimuth_deg=azimuths, elevation_deg=elevations)
    return entry.build(
        Antenna,
        id=entry.text("id") if entry.has("id") else f"ant{index + 1}",
        min_elevation_deg=entry.number(
            "min_elevation_deg", default=default_antenna.min_elevation_deg
        ),
        bands=bands,
        horizon_mask=mask,
        max_slew_azimuth_deg_s=entry.number(
            "max_slew_azimuth_deg_s", default=default_antenna.max_slew_azimuth_deg_s
        ),
        max_slew_elevation_deg_s=entry.number(
            "max_slew_elevation_deg_s", default=default_antenna.max_slew_elevation_deg_s
        ),
    )


def _numbers(entry: _Entry, name: str) -> tuple[float, ...]:
    """The list under key ``name`` as floats."""
    field = entry.field(name)
    return tuple(_number(item, f"{field}[{i}]") for i, item in enumerate(entry.items(name)))


def _band_from_mapping(value: object, path: str) -> FrequencyBand:
    entry = _Entry(value, path, _BAND_KEYS, "a frequency band")
    return entry.build(
        FrequencyBand,
        name=entry.text("name"),
        min_hz=_hz(entry.get("min_hz"), entry.field("min_hz")),
        max_hz=_hz(entry.get("max_hz"), entry.field("max_hz")),
        direction=entry.text("direction") if entry.has("direction") else "downlink",
    )


def _mask_points(value: object, path: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(azimuth, elevation) tuples in degrees from pairs ``[[az, el], ...]`` or a mapping."""
    if isinstance(value, dict):
        entry = _Entry(value, path, _MASK_KEYS, "a horizon mask")
        return _numbers(entry, "azimuth_deg"), _numbers(entry, "elevation_deg")
    if not isinstance(value, list):
        raise InvalidInput(path, value, "a list of [azimuth_deg, elevation_deg] pairs")
    azimuths, elevations = [], []
    for i, point in enumerate(value):
        if not (isinstance(point, list) and len(point) == 2):
            raise InvalidInput(f"{path}[{i}]", point, "an [azimuth_deg, elevation_deg] pair")
        azimuths.append(_number(point[0], f"{path}[{i}][0]"))
        elevations.append(_number(point[1], f"{path}[{i}][1]"))
    return tuple(azimuths), tuple(elevations)


# --- CSV ------------------------------------------------------------------------------------------


def _stations_from_csv(text: str, default_antenna: Antenna) -> list[GroundStation]:
    """Build the stations of a CSV table: one antenna per row, rows merged by station id."""
    reader = csv.reader(StringIO(text, newline=""))
    columns: dict[str, str] | None = None  # canonical name -> column as spelt in the header
    header_width = 0
    stations: dict[str, GroundStation] = {}
    first_lines: dict[str, int] = {}
    for cells in reader:
        cells = [cell.strip() for cell in cells]
        line = reader.line_num
        if not any(cells):
            continue
        try:
            if columns is None:
                columns = _csv_header(cells)
                header_width = len(cells)
                continue
            if len(cells) != header_width:
                raise InvalidInput(
                    "row", ",".join(cells), f"{header_width} values, as in the header"
                )
            row = _CsvRow(dict(zip(columns, cells, strict=False)), columns)
            station = row.station(default_antenna)
            if station.id in stations:
                station = _merge_rows(stations[station.id], station, row, first_lines[station.id])
            else:
                first_lines[station.id] = line
            stations[station.id] = station
        except InvalidInput as error:
            raise error.located(line=line) from None
    return list(stations.values())


def _csv_header(cells: list[str]) -> dict[str, str]:
    columns = _resolve_keys(cells, _CSV_COLUMNS, path="")
    for required in ("name", "latitude_deg", "longitude_deg"):
        if required not in columns:
            spellings = " or ".join(_CSV_COLUMNS[required])
            raise InvalidInput("header", ",".join(cells), f"a {spellings} column")
    return columns  # in the header's order, so that zip(columns, cells) pairs them up


class _CsvRow:
    """One CSV row: its cells by canonical column, and its columns as the header spells them."""

    def __init__(self, cells: dict[str, str], columns: dict[str, str]) -> None:
        self.cells = cells
        self.columns = columns

    def column(self, name: str) -> str:
        return self.columns.get(name, name)

    def text(self, name: str, default: str = "") -> str:
        return self.cells.get(name) or default

    def number(self, name: str, default: float | None = None) -> float:
        cell = self.text(name)
        if not cell:
            if default is None:
                raise InvalidInput(self.column(name), cell, "a number: this column is required")
            return default
        return _number(cell, self.column(name))

    def station(self, default_antenna: Antenna) -> GroundStation:
        """The row's station with the row's one antenna."""
        name = self.text("name")
        if not name:
            raise InvalidInput("name", name, "a station name")
        station_id = self.text("id") or _id_from_name(name, "name")
        antenna = self.build(
            Antenna,
            id=self.text("antenna_id", default=default_antenna.id),
            min_elevation_deg=self.number(
                "min_elevation_deg", default=default_antenna.min_elevation_deg
            ),
        )
        return self.build(
            GroundStation,
            id=station_id,
            name=name,
            latitude_deg=self.number("latitude_deg"),
            longitude_deg=self.number("longitude_deg"),
            altitude_m=self.number("altitude_m", default=0.0),
            antennas=(antenna,),
        )

    def build(self, constructor: Callable[..., _T], /, **fields: Any) -> _T:
        """``constructor(**fields)``, with the model's errors renamed to this table's columns."""
        try:
            return constructor(**fields)
        except InvalidInput as error:
            field = {"antenna.id": "antenna_id"}.get(error.field, error.field)
            raise InvalidInput(self.column(field), error.value, error.expected) from None


def _merge_rows(
    first: GroundStation, other: GroundStation, row: _CsvRow, first_line: int
) -> GroundStation:
    """``first`` with the antenna of ``other``, a later row with the same station id."""
    if "antenna_id" not in row.columns:
        raise InvalidInput(
            row.column("id") if "id" in row.columns else "name",
            other.id,
            f"a station id not used before, but line {first_line} has it"
            " (add an antenna_id column to give a station several antennas)",
        )
    for name in ("name", "latitude_deg", "longitude_deg", "altitude_m"):
        if getattr(other, name) != getattr(first, name):
            raise InvalidInput(
                row.column(name),
                getattr(other, name),
                f"{getattr(first, name)!r}, as on line {first_line} for station {first.id!r}",
            )
    antenna = other.antennas[0]
    if antenna.id in {a.id for a in first.antennas}:
        raise InvalidInput(
            "antenna_id", antenna.id, f"an antenna id not used before for station {first.id!r}"
        )
    return replace(first, antennas=(*first.antennas, antenna))


# --- values ---------------------------------------------------------------------------------------


def _default_antenna(min_elevation_deg: float) -> Antenna:
    """The antenna given to stations that list none; checks ``min_elevation_deg``."""
    try:
        return Antenna(DEFAULT_ANTENNA_ID, _number(min_elevation_deg, "default_min_elevation_deg"))
    except InvalidInput as error:
        raise InvalidInput("default_min_elevation_deg", error.value, error.expected) from None


def _resolve_keys(keys: Iterable[object], schema: _Schema, path: str) -> dict[str, str]:
    """Map each canonical key to the spelling used; refuse unknown keys and repeated ones."""
    canonical = {spelling: name for name, spellings in schema.items() for spelling in spellings}
    spelt: dict[str, str] = {}
    for key in keys:
        name = canonical.get(key) if isinstance(key, str) else None
        if name is None:
            raise InvalidInput(_join(path, str(key)), key, f"a known key: {_describe(schema)}")
        if name in spelt:
            raise InvalidInput(
                _join(path, str(key)),
                key,
                f"one spelling of {name}, but {spelt[name]} is given too",
            )
        spelt[name] = str(key)
    return spelt


def _describe(schema: _Schema) -> str:
    """``id, name, latitude_deg (or lat_deg, lat), ...``."""
    return ", ".join(
        spellings[0] + (f" (or {', '.join(spellings[1:])})" if len(spellings) > 1 else "")
        for spellings in schema.values()
    )


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, value, "a non-empty string")
    return value.strip()


def _number(value: object, field: str) -> float:
    """A float from a JSON/YAML number or numeric string (range checks are the model's)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise InvalidInput(field, value, "a number")


def _hz(value: object, field: str) -> int:
    """A whole number of Hz from an int, a float with no fraction or a numeric string."""
    number = _number(value, field)
    if not number.is_integer():
        raise InvalidInput(field, value, "a whole number of Hz, such as 8025000000")
    return int(value) if isinstance(value, int) else int(number)


def _id_from_name(name: str, field: str) -> str:
    """A station id from its name: lower case ASCII letters, digits and dashes."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    if not slug:
        raise InvalidInput(
            field, name, "a name with letters or digits to derive an id from, or an id"
        )
    return slug
