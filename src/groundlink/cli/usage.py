"""``groundlink usage [--month YYYY-MM]``: your contact minutes in one UTC month, over the API.

A table of minutes per spacecraft and status group (completed: what would be
billed; scheduled; in progress), a total line, and the month's counts of
contacts per group below it; ``--output json`` writes the API's object (with
the counts per spacecraft too). Minutes are
each contact's reserved span, pre-pass and post-pass included, split at the
month's edges (see :mod:`groundlink.services.usage`). The options shared with
the other API commands come from :mod:`groundlink.cli.resources`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from groundlink.api.schemas import UsageTotalsOut
from groundlink.cli.edge import rejects_bad_input
from groundlink.cli.resources import (
    ApiKey,
    ApiUrl,
    Output,
    OutputOption,
    api_client,
    print_table,
    table_of,
    write_json,
)
from groundlink.client import DEFAULT_API_URL

_COLUMNS = ("spacecraft", "name", "completed min", "scheduled min", "in progress min")


def _row(spacecraft_id: str, name: str, totals: UsageTotalsOut) -> tuple[object, ...]:
    return (
        spacecraft_id,
        name,
        f"{totals.completed_minutes:,.1f}",
        f"{totals.scheduled_minutes:,.1f}",
        f"{totals.in_progress_minutes:,.1f}",
    )


def _counts(totals: UsageTotalsOut) -> str:
    return (
        f"contacts: {totals.completed_count} completed, {totals.scheduled_count} scheduled, "
        f"{totals.in_progress_count} in progress, {totals.cancelled_count} cancelled, "
        f"{totals.failed_count} failed"
    )


@rejects_bad_input
def usage(
    month: Annotated[
        str | None,
        typer.Option("--month", help="The month, YYYY-MM (UTC); default: the current month."),
    ] = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    api_key: ApiKey = None,
    output: OutputOption = Output.table,
) -> None:
    """Show your contact minutes in a month: completed (billable), scheduled, in progress."""
    with api_client(api_url, api_key) as api:
        found = api.usage(month)
    if output is Output.json:
        write_json(found)
        return
    rows = [_row(s.spacecraft_id, s.spacecraft_name, s.totals) for s in found.spacecraft]
    rows.append(_row("total", "", found.totals))
    print_table(
        table_of(_COLUMNS, rows),
        f"usage in {found.month} (UTC), in minutes of reserved antenna time "
        f"(pre/post-pass included)\n{_counts(found.totals)}",
    )


__all__ = ["usage"]
