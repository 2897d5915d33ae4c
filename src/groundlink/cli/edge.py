"""The edge of the CLI: where bad input is turned away, and the consoles output goes to.

Every command is wrapped in :func:`rejects_bad_input`: a
:class:`~groundlink.errors.GroundlinkError`, ``OSError`` or ``ValueError``
escaping it becomes one line ``error: <message>`` on stderr and exit code 2,
never a traceback. This is the only place the CLI catches them; anything else
is a bug and keeps its traceback.

The helpers here parse the options several commands share (``--start``,
``--hours``) so that they say the same thing about the same mistake.
"""

from __future__ import annotations

import functools
import math
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console

from groundlink.errors import GroundlinkError, InvalidInput
from groundlink.orbits.elements import parse_utc
from groundlink.orbits.ingest import ElementsReport
from groundlink.passes.engine import MAX_WINDOW

#: Exit code when the command ran but found problems (``elements check``, ``elements convert``).
EXIT_PROBLEMS = 1
#: Exit code for unusable input: a missing file, a bad option value, an unreadable file.
EXIT_BAD_INPUT = 2

#: The longest prediction window in hours (the pass engine's limit, 31 days).
MAX_HOURS = MAX_WINDOW.total_seconds() / 3600.0

#: Width of Rich output written to a pipe or a file, in characters.
PIPE_WIDTH = 120

_P = ParamSpec("_P")
_R = TypeVar("_R")


def rejects_bad_input(command: Callable[_P, _R]) -> Callable[_P, _R]:
    """Wrap a command so that bad input ends it with ``error: ...`` and exit code 2."""

    @functools.wraps(command)
    def guarded(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return command(*args, **kwargs)
        except (GroundlinkError, OSError, ValueError) as error:
            fail(describe(error))

    return guarded


def describe(error: BaseException) -> str:
    """One sentence for an error the user can fix: which field, which value, what was expected."""
    if isinstance(error, InvalidInput):
        return error.message
    if isinstance(error, OSError) and error.strerror:
        return f"{error.filename}: {error.strerror}" if error.filename else error.strerror
    return str(error) or type(error).__name__


def no_elements_message(report: ElementsReport, path: Path) -> str:
    """Why an element file gave no element set: its first problem (and how many more) or note."""
    if report.problems:
        more = len(report.problems) - 1
        return report.problems[0].message + (f" (and {more} more bad records)" if more else "")
    return report.warnings[0] if report.warnings else f"{path}: no element sets found"


def fail(message: str) -> NoReturn:
    """Print ``error: <message>`` as one line on stderr and exit with code 2."""
    one_line = " ".join(message.split())
    typer.echo(f"error: {one_line}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def utc_now() -> datetime:
    """The current time, UTC: the CLI is the edge, the core never reads the clock."""
    return datetime.now(UTC)


def window_start(text: str | None, now: datetime) -> datetime:
    """The ``--start`` option as a UTC datetime; ``None`` means ``now`` rounded down to the minute.

    Accepts ISO-8601 with ``Z``, with an offset (converted to UTC), or without
    a zone (taken as UTC).

    Raises:
        InvalidInput: naming ``--start`` when the text is not such a time.
    """
    if text is None:
        return now.astimezone(UTC).replace(second=0, microsecond=0)
    return parse_utc(text, field="--start")


def window_length(hours: float) -> timedelta:
    """The ``--hours`` option as a duration; must be in (0, 744] hours (31 days).

    Raises:
        InvalidInput: naming ``--hours`` for zero, negative, non-finite or too long a window.
    """
    if not (math.isfinite(hours) and 0 < hours <= MAX_HOURS):
        raise InvalidInput("--hours", hours, f"hours in (0, {MAX_HOURS:g}]")
    return timedelta(hours=hours)


def iso_z(moment: datetime) -> str:
    """``2024-06-01T00:00:00Z``: UTC, seconds precision, with a ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stdout_console() -> Console:
    """A Rich console on the current stdout (looked up now, so test runners can capture it).

    Into a pipe or a file (no terminal, no ``COLUMNS``) tables get :data:`PIPE_WIDTH`
    columns rather than Rich's 80, so that they are not squeezed.
    """
    console = Console(file=sys.stdout, highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPE_WIDTH
    return console


def stderr_console() -> Console:
    """A Rich console on the current stderr, for progress and for notes beside machine output."""
    return Console(file=sys.stderr, highlight=False)


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``"1 bad record"``, ``"6,048 element sets"``: a number with its noun agreeing."""
    word = noun if number == 1 else (plural or noun + "s")
    return f"{number:,} {word}"


def say(console: Console, text: str, style: str | None = None) -> None:
    """Print ``text`` as it is: no Rich markup, no wrapping (one message, one line)."""
    console.print(text, style=style, markup=False, soft_wrap=True)
