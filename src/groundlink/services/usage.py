"""Contact minutes per tenant and calendar month (UTC), by status group and by spacecraft.

What a contact counts: its **reserved span** ``[aos - prepass, los +
postpass)``, the antenna time it holds, pre-pass and post-pass included.
AWS Ground Station meters a contact from its start to its end time and
rounds each contact up to a whole minute; groundlink reports exact minutes
(seconds / 60) so that a contact spanning a month boundary splits additively:
the part before midnight UTC on the first of the month counts in the earlier
month, the rest in the later. Counts of contacts go to the month in which
the reserved span starts.

Status groups:

=================  ===================================================  ==============
group              statuses                                             reported as
=================  ===================================================  ==============
completed          COMPLETED (what would be billed)                      minutes, count
scheduled          SCHEDULING, SCHEDULED                                minutes, count
in progress        PREPASS, PASS, POSTPASS                              minutes, count
cancelled          CANCELLING, CANCELLED, PROVIDER_CANCELLED            count
failed             FAILED, PROVIDER_FAILED                              count
=================  ===================================================  ==============

The sums are done here rather than in SQL: the clipped duration of an
interval needs date arithmetic that SQLite and PostgreSQL spell differently,
and a tenant's month is a few thousand rows at most.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from groundlink.adapters.db.models import Contact, Spacecraft
from groundlink.contacts.states import ContactStatus
from groundlink.errors import InvalidInput

_S = ContactStatus
#: The status group each stored status counts in (FAILED_TO_SCHEDULE and AVAILABLE in none).
STATUS_GROUPS: dict[ContactStatus, str] = {
    _S.COMPLETED: "completed",
    _S.SCHEDULING: "scheduled",
    _S.SCHEDULED: "scheduled",
    _S.PREPASS: "in_progress",
    _S.PASS: "in_progress",
    _S.POSTPASS: "in_progress",
    _S.CANCELLING: "cancelled",
    _S.CANCELLED: "cancelled",
    _S.PROVIDER_CANCELLED: "cancelled",
    _S.FAILED: "failed",
    _S.PROVIDER_FAILED: "failed",
}


@dataclass(frozen=True, slots=True)
class Month:
    """A calendar month, UTC: ``[start, end)`` from midnight on the first to the next first."""

    year: int
    month: int

    @property
    def start(self) -> datetime:
        """Midnight UTC on the first of the month."""
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """Midnight UTC on the first of the next month (excluded)."""
        if self.month == 12:
            return datetime(self.year + 1, 1, 1, tzinfo=UTC)
        return datetime(self.year, self.month + 1, 1, tzinfo=UTC)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @staticmethod
    def parse(text: str, field: str = "month") -> Month:
        """The month written ``YYYY-MM`` (years 1957 to 2199).

        Raises:
            InvalidInput: naming ``field`` for anything else.
        """
        found = re.fullmatch(r"(\d{4})-(\d{2})", text, flags=re.ASCII)
        year, month = (int(found[1]), int(found[2])) if found else (0, 0)
        if not (1957 <= year <= 2199 and 1 <= month <= 12):
            raise InvalidInput(field, text, "a month as YYYY-MM, e.g. 2026-11 (years 1957 to 2199)")
        return Month(year, month)

    @staticmethod
    def of(moment: datetime) -> Month:
        """The UTC month ``moment`` (timezone-aware) falls in."""
        utc = moment.astimezone(UTC)
        return Month(utc.year, utc.month)


@dataclass(slots=True)
class UsageTotals:
    """Minutes (float, exact) and contact counts of one status group each."""

    completed_minutes: float = 0.0
    scheduled_minutes: float = 0.0
    in_progress_minutes: float = 0.0
    completed_count: int = 0
    scheduled_count: int = 0
    in_progress_count: int = 0
    cancelled_count: int = 0
    failed_count: int = 0

    def add(self, group: str, minutes: float, counted: bool) -> None:
        """Add ``minutes`` to ``group`` (if it is timed) and, if ``counted``, one contact."""
        match group:
            case "completed":
                self.completed_minutes += minutes
                self.completed_count += 1 if counted else 0
            case "scheduled":
                self.scheduled_minutes += minutes
                self.scheduled_count += 1 if counted else 0
            case "in_progress":
                self.in_progress_minutes += minutes
                self.in_progress_count += 1 if counted else 0
            case "cancelled":
                self.cancelled_count += 1 if counted else 0
            case "failed":
                self.failed_count += 1 if counted else 0


@dataclass(frozen=True, slots=True)
class SpacecraftUsage:
    """One spacecraft's share of the month."""

    spacecraft_id: str
    spacecraft_name: str
    totals: UsageTotals


@dataclass(frozen=True, slots=True)
class MonthlyUsage:
    """A tenant's contact usage in ``month``: totals, and per spacecraft (by name, then id)."""

    month: Month
    totals: UsageTotals
    spacecraft: list[SpacecraftUsage] = field(default_factory=list)


def minutes_within(start: datetime, end: datetime, month: Month) -> float:
    """Minutes of ``[start, end)`` that fall in ``month`` (0 when they do not meet)."""
    overlap_s = (min(end, month.end) - max(start, month.start)).total_seconds()
    return max(overlap_s, 0.0) / 60.0


def monthly_usage(session: Session, tenant_id: str, month: Month) -> MonthlyUsage:
    """The tenant's contact minutes and counts in ``month`` (see the module's docstring)."""
    query = (
        select(
            Contact.spacecraft_id,
            Spacecraft.name,
            Contact.status,
            Contact.reserved_start,
            Contact.reserved_end,
        )
        .join(Spacecraft, Spacecraft.id == Contact.spacecraft_id)
        .where(
            Contact.tenant_id == tenant_id,
            Contact.reserved_start < month.end,
            Contact.reserved_end > month.start,
        )
    )
    with session.begin():
        rows = session.execute(query).all()
    return _summed(month, rows)


def _summed(month: Month, rows: Iterable[tuple[str, str, str, datetime, datetime]]) -> MonthlyUsage:
    totals = UsageTotals()
    per_spacecraft: dict[str, SpacecraftUsage] = {}
    for spacecraft_id, name, status, reserved_start, reserved_end in rows:
        group = STATUS_GROUPS.get(ContactStatus(status))
        if group is None:
            continue
        minutes = minutes_within(reserved_start, reserved_end, month)
        counted = month.start <= reserved_start < month.end
        totals.add(group, minutes, counted)
        if spacecraft_id not in per_spacecraft:
            per_spacecraft[spacecraft_id] = SpacecraftUsage(spacecraft_id, name, UsageTotals())
        per_spacecraft[spacecraft_id].totals.add(group, minutes, counted)
    ordered = sorted(per_spacecraft.values(), key=lambda s: (s.spacecraft_name, s.spacecraft_id))
    return MonthlyUsage(month, totals, ordered)


__all__ = [
    "STATUS_GROUPS",
    "Month",
    "MonthlyUsage",
    "SpacecraftUsage",
    "UsageTotals",
    "minutes_within",
    "monthly_usage",
]
