"""Orbits: element sets (TLE, OMM), SGP4 propagation, reference frames, the Sun.

Part of the core: pure functions of their inputs, no I/O beyond parsing text
handed to them, time always an explicit argument.
"""

from groundlink.orbits.elements import (
    OMM_FIELDS,
    OrbitalElements,
    format_omm_epoch,
    parse_utc,
    validate_elements,
)
from groundlink.orbits.ingest import (
    ElementsReport,
    detect_format,
    epoch_age_warnings,
    parse_elements,
    read_elements_file,
)
from groundlink.orbits.omm import (
    elements_from_omm,
    write_omm_csv,
    write_omm_json,
    write_omm_kvn,
    write_omm_xml,
)
from groundlink.orbits.tle import format_tle, parse_tle, write_tle

__all__ = [
    "OMM_FIELDS",
    "ElementsReport",
    "OrbitalElements",
    "detect_format",
    "elements_from_omm",
    "epoch_age_warnings",
    "format_omm_epoch",
    "format_tle",
    "parse_elements",
    "parse_tle",
    "parse_utc",
    "read_elements_file",
    "validate_elements",
    "write_omm_csv",
    "write_omm_json",
    "write_omm_kvn",
    "write_omm_xml",
    "write_tle",
]
