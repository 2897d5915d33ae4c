"""Contacts: the life cycle of a booked pass and the one rule for conflicts between contacts.

Pure core: no I/O, no clock (time is an argument). See ``docs/contacts.md``.
"""

from groundlink.contacts.conflicts import (
    Conflict,
    ContactWindow,
    antenna_conflict,
    antenna_conflicts,
    find_antenna_conflicts,
    slew_time_s,
    spacecraft_conflicts,
)
from groundlink.contacts.states import (
    TERMINAL,
    TIME_DRIVEN,
    TRANSITIONS,
    ContactStateError,
    ContactStatus,
    allowed_targets,
    aws_name,
    can_transition,
    catch_up,
    from_aws_name,
    status_at,
    transition,
)

__all__ = [
    "TERMINAL",
    "TIME_DRIVEN",
    "TRANSITIONS",
    "Conflict",
    "ContactStateError",
    "ContactStatus",
    "ContactWindow",
    "allowed_targets",
    "antenna_conflict",
    "antenna_conflicts",
    "aws_name",
    "can_transition",
    "catch_up",
    "find_antenna_conflicts",
    "from_aws_name",
    "slew_time_s",
    "spacecraft_conflicts",
    "status_at",
    "transition",
]
