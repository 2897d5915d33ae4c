"""``/v1/usage``: a tenant's contact minutes in one UTC month, by status group and spacecraft.

The numbers are :func:`groundlink.services.usage.monthly_usage`: each
contact's reserved span (pre-pass and post-pass included) in exact minutes,
split at the month's edges; see that module for the status groups.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AfterValidator

from groundlink.api.auth import NowDep, Reader, SessionDep
from groundlink.api.schemas import SpacecraftUsageOut, UsageOut, UsageTotalsOut
from groundlink.errors import InvalidInput
from groundlink.services.usage import Month, monthly_usage

router = APIRouter(prefix="/usage", tags=["usage"])


def _valid_month(text: str | None) -> str | None:
    """``text`` unchanged if it is a month ``YYYY-MM``; pydantic makes the ValueError a 422."""
    if text is not None:
        try:
            Month.parse(text)
        except InvalidInput as error:  # reported as "month: got '...', expected ..."
            raise ValueError(error.expected) from None
    return text


MonthQuery = Annotated[
    str | None,
    Query(
        description="The month, YYYY-MM (UTC); default: the current month.",
        examples=["2026-11"],
    ),
    AfterValidator(_valid_month),
]


@router.get("")
def get_usage(
    principal: Reader, session: SessionDep, now: NowDep, month: MonthQuery = None
) -> UsageOut:
    """The tenant's contact minutes in ``month``: completed (billable), scheduled, in progress.

    Minutes are each contact's reserved span ``[aos - prepass, los +
    postpass)``, exact (not rounded up per contact), split at the month's
    edges (midnight UTC on the first). Counts (also cancelled and failed
    contacts) go to the month in which a contact's reserved span starts.
    """
    chosen = Month.of(now) if month is None else Month.parse(month)
    usage = monthly_usage(session, principal.tenant_id, chosen)
    return UsageOut(
        month=str(chosen),
        start=chosen.start,
        end=chosen.end,
        totals=UsageTotalsOut.model_validate(asdict(usage.totals)),
        spacecraft=[
            SpacecraftUsageOut(
                spacecraft_id=item.spacecraft_id,
                spacecraft_name=item.spacecraft_name,
                totals=UsageTotalsOut.model_validate(asdict(item.totals)),
            )
            for item in usage.spacecraft
        ],
    )
