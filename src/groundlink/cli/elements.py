"""``groundlink elements check|convert``: look at an element file, or write it in another format.

``check`` reads the file as the pass engine would and reports every bad
record, every warning, and every satellite SGP4 cannot propagate through a
window. ``convert`` writes the good element sets as TLE or as OMM JSON, CSV,
XML or KVN.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from groundlink.cli.edge import (
    EXIT_PROBLEMS,
    count,
    fail,
    iso_z,
    no_elements_message,
    rejects_bad_input,
    say,
    stderr_console,
    stdout_console,
    utc_now,
    window_length,
    window_start,
)
from groundlink.orbits.elements import OrbitalElements
from groundlink.orbits.ingest import epoch_age_warnings, read_elements_file
from groundlink.orbits.omm import write_omm_csv, write_omm_json, write_omm_kvn, write_omm_xml
from groundlink.orbits.sgp4_scan import first_failures
from groundlink.orbits.tle import write_tle

app = typer.Typer(
    name="elements",
    help="Check element files (TLE, OMM) and convert between their formats.",
    no_args_is_help=True,
)


@app.command("check")
@rejects_bad_input
def check(
    file: Annotated[Path, typer.Argument(help="Element file: TLE/3LE, or OMM JSON/CSV/XML/KVN.")],
    start: Annotated[
        str | None,
        typer.Option(help="Start of the window to check, ISO-8601 (no zone = UTC). Default: now."),
    ] = None,
    hours: Annotated[float, typer.Option(help="Window length in hours, (0, 744].")] = 24.0,
) -> None:
    """Report bad records, warnings, and SGP4 failures over a window.

    Every bad record is listed with its line number, field, value and what was
    expected; warnings cover duplicates and epochs more than 14 days from the
    window start; SGP4 is run on a 1-minute grid over the window and every
    satellite that fails (codes 1-6) is listed with the code and the first
    failing time.

    Exit codes: 0 clean (warnings allowed), 1 problems found (bad records or
    SGP4 failures), 2 unusable input (missing or unreadable file, unknown
    format, no element sets, bad option).
    """
    begin = window_start(start, utc_now())
    end = begin + window_length(hours)
    report = read_elements_file(file)
    if not report.elements and not (report.fmt and report.problems):
        fail(no_elements_message(report, file))

    console = stdout_console()
    say(
        console,
        f"{file}: {count(len(report.elements), 'element set')} ({report.fmt.upper()}), "
        f"{count(len(report.problems), 'bad record')}",
        "bold",
    )
    _section(console, "bad records", [problem.message for problem in report.problems])
    warnings = report.warnings + epoch_age_warnings(report.elements, begin)
    _section(console, "warnings", warnings)

    failures = first_failures(report.elements, begin, end)
    say(console, f"SGP4 from {iso_z(begin)} to {iso_z(end)}, every minute:")
    if failures:
        for failure in failures:
            item = failure.satellite
            say(
                console,
                f"  {item.name} ({item.norad_cat_id}): error {failure.code} "
                f"({failure.meaning}) from {iso_z(failure.since)}",
            )
    else:
        say(console, f"  all {count(len(report.elements), 'satellite')} propagate without error")

    if report.problems or failures:
        say(console, "problems found", "bold red")
        raise typer.Exit(EXIT_PROBLEMS)
    say(console, "clean" + (" (with warnings)" if warnings else ""), "bold green")


class ElementsFormat(StrEnum):
    """What ``elements convert --to`` writes."""

    tle = "tle"
    omm_json = "omm-json"
    omm_csv = "omm-csv"
    omm_xml = "omm-xml"
    omm_kvn = "omm-kvn"


@app.command("convert")
@rejects_bad_input
def convert(
    file: Annotated[Path, typer.Argument(help="Element file: TLE/3LE, or OMM JSON/CSV/XML/KVN.")],
    to: Annotated[ElementsFormat, typer.Option("--to", help="The format to write.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Write the element sets of FILE in another format.

    Bad records are skipped and listed on stderr. Exit codes: 0 every record
    converted, 1 some records skipped, 2 unusable input (or an element set the
    target format cannot hold, such as a catalogue number above 339999 in a TLE).
    """
    report = read_elements_file(file)
    if not report.elements:
        fail(no_elements_message(report, file))
    text = _writer(to)(report.elements)
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        out.write_text(text, encoding="utf-8")
    notes = stderr_console()
    for problem in report.problems:
        say(notes, f"skipped: {problem.message}")
    for warning in report.warnings:
        say(notes, f"warning: {warning}")
    if report.problems:
        raise typer.Exit(EXIT_PROBLEMS)


def _writer(fmt: ElementsFormat) -> Callable[[Sequence[OrbitalElements]], str]:
    """The function that writes element sets as ``fmt`` (text ending in a newline)."""
    writers: dict[ElementsFormat, Callable[[Sequence[OrbitalElements]], str]] = {
        ElementsFormat.tle: write_tle,
        ElementsFormat.omm_json: lambda items: write_omm_json(items, indent=2) + "\n",
        ElementsFormat.omm_csv: write_omm_csv,
        ElementsFormat.omm_xml: write_omm_xml,
        ElementsFormat.omm_kvn: lambda items: write_omm_kvn(items, creation_date=utc_now()),
    }
    return writers[fmt]


def _section(console: Console, title: str, lines: Sequence[str]) -> None:
    """``title (n):`` and one indented line per item; nothing when there are none."""
    if lines:
        say(console, f"{title} ({len(lines):,}):")
        for line in lines:
            say(console, f"  {line}")
