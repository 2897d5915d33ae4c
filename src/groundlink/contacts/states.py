"""The contact life cycle, in AWS Ground Station's words.

A contact moves through :class:`ContactStatus` values along the edges of
:data:`TRANSITIONS` and nowhere else; :func:`transition` is the one check,
raising :class:`ContactStateError` for any other move. Terminal statuses
(:data:`TERMINAL`) have no way out. The table and its diagram are in
``docs/contacts.md``.

Once a contact is SCHEDULED, time alone drives it through PREPASS, PASS and
POSTPASS to COMPLETED: :func:`status_at` says which of these a scheduled
contact is in at a given instant (time is an argument, never read from a
clock), and :func:`catch_up` lists the steps from a stored status to that
one, for a service that wakes up late.

groundlink says ``PROVIDER_CANCELLED`` and ``PROVIDER_FAILED`` where AWS says
``AWS_CANCELLED`` and ``AWS_FAILED``; :func:`aws_name` and
:func:`from_aws_name` translate for the AWS-compatible API.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

from groundlink.contacts.conflicts import ContactWindow
from groundlink.errors import GroundlinkError, InvalidInput


class ContactStatus(enum.StrEnum):
    """Where a contact is in its life cycle (the value is the API spelling)."""

    AVAILABLE = "AVAILABLE"
    """Can be reserved: a predicted pass, not yet a booking."""
    SCHEDULING = "SCHEDULING"
    """Reservation requested, being checked and placed."""
    SCHEDULED = "SCHEDULED"
    """Reserved; waiting for its pre-pass to begin."""
    FAILED_TO_SCHEDULE = "FAILED_TO_SCHEDULE"
    """The reservation could not be placed (terminal)."""
    PREPASS = "PREPASS"
    """From start minus pre-pass to AOS: resources being prepared."""
    PASS = "PASS"
    """From AOS to LOS: in communication with the spacecraft."""
    POSTPASS = "POSTPASS"
    """From LOS to end plus post-pass: resources being cleaned up."""
    COMPLETED = "COMPLETED"
    """Finished without error (terminal)."""
    FAILED = "FAILED"
    """Failed because of the customer's configuration (terminal)."""
    CANCELLING = "CANCELLING"
    """Cancellation requested, being carried out."""
    CANCELLED = "CANCELLED"
    """Cancelled by the customer (terminal)."""
    PROVIDER_CANCELLED = "PROVIDER_CANCELLED"
    """Cancelled by the network, e.g. antenna maintenance (terminal; AWS_CANCELLED)."""
    PROVIDER_FAILED = "PROVIDER_FAILED"
    """Failed because of the network (terminal; AWS_FAILED)."""


_S = ContactStatus

#: Statuses nothing leaves.
TERMINAL: frozenset[ContactStatus] = frozenset(
    {
        _S.COMPLETED,
        _S.FAILED,
        _S.FAILED_TO_SCHEDULE,
        _S.CANCELLED,
        _S.PROVIDER_CANCELLED,
        _S.PROVIDER_FAILED,
    }
)

#: The allowed moves: status -> statuses it may go to next. A status never moves to itself.
TRANSITIONS: Mapping[ContactStatus, frozenset[ContactStatus]] = MappingProxyType(
    {
        _S.AVAILABLE: frozenset({_S.SCHEDULING}),
        _S.SCHEDULING: frozenset({_S.SCHEDULED, _S.FAILED_TO_SCHEDULE}),
        _S.SCHEDULED: frozenset({_S.PREPASS, _S.CANCELLING, _S.CANCELLED, _S.PROVIDER_CANCELLED}),
        _S.PREPASS: frozenset({_S.PASS, _S.FAILED, _S.PROVIDER_FAILED, _S.CANCELLING}),
        _S.PASS: frozenset({_S.POSTPASS, _S.FAILED, _S.PROVIDER_FAILED}),
        _S.POSTPASS: frozenset({_S.COMPLETED, _S.FAILED, _S.PROVIDER_FAILED}),
        _S.CANCELLING: frozenset({_S.CANCELLED}),
        **{status: frozenset() for status in TERMINAL},
    }
)

#: The statuses time drives a scheduled contact through, in order.
TIME_DRIVEN: tuple[ContactStatus, ...] = (
    _S.SCHEDULED,
    _S.PREPASS,
    _S.PASS,
    _S.POSTPASS,
    _S.COMPLETED,
)

_AWS_NAMES: Mapping[ContactStatus, str] = MappingProxyType(
    {_S.PROVIDER_CANCELLED: "AWS_CANCELLED", _S.PROVIDER_FAILED: "AWS_FAILED"}
)


class ContactStateError(GroundlinkError):
    """A move the life cycle does not allow.

    Attributes:
        current: the status the contact is in.
        target: the status it was asked to move to.
        allowed: the statuses it could have moved to (empty when terminal).
    """

    def __init__(self, current: ContactStatus, target: ContactStatus) -> None:
        self.current = current
        self.target = target
        self.allowed = TRANSITIONS[current]
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """One line naming both statuses and the allowed targets."""
        if not self.allowed:
            allowed = f"none, {self.current} is terminal"
        else:
            allowed = ", ".join(sorted(self.allowed))
        return (
            f"a contact cannot go from {self.current} to {self.target}; "
            f"allowed from {self.current}: {allowed}"
        )


def allowed_targets(current: ContactStatus) -> frozenset[ContactStatus]:
    """The statuses a contact in ``current`` may move to (empty for a terminal one)."""
    return TRANSITIONS[current]


def can_transition(current: ContactStatus, target: ContactStatus) -> bool:
    """Whether the life cycle allows ``current`` -> ``target``."""
    return target in TRANSITIONS[current]


def transition(current: ContactStatus, target: ContactStatus) -> ContactStatus:
    """Check the move ``current`` -> ``target`` and return ``target``.

    Raises:
        ContactStateError: if :data:`TRANSITIONS` has no such edge (this
            includes any move out of a terminal status, and a status to
            itself).
    """
    if target not in TRANSITIONS[current]:
        raise ContactStateError(current, target)
    return target


def status_at(scheduled: ContactWindow, now: datetime) -> ContactStatus:
    """The time-driven status of a scheduled contact at ``now`` (timezone-aware).

    SCHEDULED before ``start - prepass_s``; PREPASS from then until AOS
    (``start``); PASS from AOS until LOS (``end``); POSTPASS from LOS until
    ``end + postpass_s``; COMPLETED from then on. Each phase includes its
    start and excludes its end, so at exactly AOS the contact is in PASS;
    a zero pre-pass goes straight from SCHEDULED to PASS here (see
    :func:`catch_up` for the steps to record).

    This is what the clock says; failures and cancellations are events, not
    times, and are decided by the service.

    Raises:
        InvalidInput: if ``now`` is naive.
    """
    if not (isinstance(now, datetime) and now.utcoffset() is not None):
        raise InvalidInput("now", now, "a timezone-aware datetime (UTC)")
    if now < scheduled.reserved_start:
        return _S.SCHEDULED
    if now < scheduled.start:
        return _S.PREPASS
    if now < scheduled.end:
        return _S.PASS
    if now < scheduled.reserved_end:
        return _S.POSTPASS
    return _S.COMPLETED


def catch_up(current: ContactStatus, target: ContactStatus) -> tuple[ContactStatus, ...]:
    """The statuses to record, in order, to bring a contact from ``current`` to ``target``.

    Both must lie on the time-driven path SCHEDULED -> PREPASS -> PASS ->
    POSTPASS -> COMPLETED, with ``target`` not before ``current``; every
    step is an allowed transition, so a service that was down (or a contact
    with a zero pre-pass) still emits one event per status. Empty when
    ``current == target``.

    Raises:
        ContactStateError: when ``target`` cannot be reached from ``current``
            by time alone.
    """
    if current not in TIME_DRIVEN or target not in TIME_DRIVEN:
        if current == target:
            return ()
        raise ContactStateError(current, target)
    here, there = TIME_DRIVEN.index(current), TIME_DRIVEN.index(target)
    if there < here:
        raise ContactStateError(current, target)
    return TIME_DRIVEN[here + 1 : there + 1]


def aws_name(status: ContactStatus) -> str:
    """The AWS Ground Station spelling: ``PROVIDER_*`` becomes ``AWS_*``, the rest unchanged."""
    return _AWS_NAMES.get(status, status.value)


def from_aws_name(name: str) -> ContactStatus:
    """The status for an AWS Ground Station ``contactStatus`` value (``AWS_*`` -> ``PROVIDER_*``).

    Raises:
        InvalidInput: for a value that is not one of AWS's 13 statuses
            (``PROVIDER_*`` included: it is not AWS's spelling).
    """
    status = _FROM_AWS.get(name)
    if status is None:
        raise InvalidInput("contactStatus", name, "one of " + ", ".join(sorted(_FROM_AWS)))
    return status


_FROM_AWS: Mapping[str, ContactStatus] = MappingProxyType({aws_name(s): s for s in ContactStatus})
