"""The errors services raise on purpose, all :class:`~groundlink.errors.GroundlinkError`.

The API maps them one to one: :class:`NotFound` to 404, :class:`ContactConflict`,
:class:`AntennaUnavailable`, :class:`LockedForChanges` and :class:`StaleVersion`
to 409. Bad values are :class:`~groundlink.errors.InvalidInput` (422), life-cycle
moves that are not allowed :class:`~groundlink.contacts.states.ContactStateError`.
"""

from __future__ import annotations

from datetime import datetime

from groundlink.contacts.conflicts import iso_z
from groundlink.errors import GroundlinkError


class NotFound(GroundlinkError):
    """No such object *for this tenant*: another tenant's object is reported the same way.

    Attributes:
        object_type: ``"contact"``, ``"spacecraft"``, ...
        object_id: the id that was asked for.
    """

    def __init__(self, object_type: str, object_id: str) -> None:
        self.object_type = object_type
        self.object_id = object_id
        super().__init__(f"{object_type} {object_id!r} not found")


class ContactConflict(GroundlinkError):
    """A reservation or change that would double-book an antenna or a spacecraft.

    Attributes:
        kind: ``"antenna"`` or ``"spacecraft"``.
        conflicting_contact_id: the contact in the way, or ``None`` when it
            belongs to another tenant (its id is not revealed).
        requested_start, requested_end: the span asked for, UTC (for an
            antenna conflict the reserved span plus turnaround, for a
            spacecraft conflict the pass).
        conflicting_start, conflicting_end: the same span of the contact in the way.
    """

    def __init__(
        self,
        kind: str,
        conflicting_contact_id: str | None,
        requested: tuple[datetime, datetime],
        conflicting: tuple[datetime, datetime],
    ) -> None:
        self.kind = kind
        self.conflicting_contact_id = conflicting_contact_id
        self.requested_start, self.requested_end = requested
        self.conflicting_start, self.conflicting_end = conflicting
        who = (
            f"contact {conflicting_contact_id}"
            if conflicting_contact_id is not None
            else "another tenant's contact"
        )
        where = "the antenna" if kind == "antenna" else "the spacecraft"
        super().__init__(
            f"{kind} conflict: [{iso_z(self.requested_start)}, {iso_z(self.requested_end)}) "
            f"overlaps {who} on {where} "
            f"[{iso_z(self.conflicting_start)}, {iso_z(self.conflicting_end)})"
        )


class AntennaUnavailable(GroundlinkError):
    """The antenna is in maintenance during the requested span.

    Attributes:
        antenna_id: the antenna.
        start, end: the maintenance window, UTC.
        reason: why the antenna is down, as its operator wrote it.
    """

    def __init__(self, antenna_id: str, start: datetime, end: datetime, reason: str) -> None:
        self.antenna_id = antenna_id
        self.start = start
        self.end = end
        self.reason = reason
        because = f": {reason}" if reason else ""
        super().__init__(
            f"antenna {antenna_id} is in maintenance from {iso_z(start)} to {iso_z(end)}{because}"
        )


class LockedForChanges(GroundlinkError):
    """The contact can no longer change: past its lock time, or no longer SCHEDULED.

    Attributes:
        contact_id: the contact.
        locked_at: its lock time (default 15 minutes before its reserved start), UTC.
        status: its status, when that is what stops the change (else ``None``).
    """

    def __init__(self, contact_id: str, locked_at: datetime, *, status: str | None = None) -> None:
        self.contact_id = contact_id
        self.locked_at = locked_at
        self.status = status
        if status is not None and status != "SCHEDULED":
            why = f"is {status}; only a SCHEDULED contact can change"
        else:
            why = f"is locked for changes since {iso_z(locked_at)}"
        super().__init__(f"contact {contact_id} {why}")


class StaleVersion(GroundlinkError):
    """The change was based on an older version of the contact (optimistic locking).

    Attributes:
        contact_id: the contact.
        expected: the version the caller had.
        actual: the version stored now.
    """

    def __init__(self, contact_id: str, expected: int, actual: int) -> None:
        self.contact_id = contact_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"contact {contact_id} is at version {actual}, not {expected}: read it again"
        )


__all__ = ["AntennaUnavailable", "ContactConflict", "LockedForChanges", "NotFound", "StaleVersion"]
