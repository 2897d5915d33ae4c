"""The contact life cycle: AWS's statuses, the transition table, time-driven phases."""

from __future__ import annotations

import re
from collections import deque
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from groundlink.contacts.conflicts import ContactWindow
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
from groundlink.errors import GroundlinkError, InvalidInput

S = ContactStatus
DOC = Path(__file__).resolve().parents[1] / "docs" / "contacts.md"

#: AWS Ground Station API reference, ContactData.contactStatus "Valid Values".
AWS_CONTACT_STATUSES = (
    "AVAILABLE",
    "AWS_CANCELLED",
    "AWS_FAILED",
    "CANCELLED",
    "CANCELLING",
    "COMPLETED",
    "FAILED",
    "FAILED_TO_SCHEDULE",
    "PASS",
    "POSTPASS",
    "PREPASS",
    "SCHEDULED",
    "SCHEDULING",
)
#: AWS Ground Station user guide, "Understand contact lifecycle": the terminal states.
AWS_TERMINAL = {
    "COMPLETED",
    "FAILED",
    "FAILED_TO_SCHEDULE",
    "CANCELLED",
    "AWS_CANCELLED",
    "AWS_FAILED",
}

#: The table as specified for groundlink, written out independently of the module.
EXPECTED_EDGES = {
    ("AVAILABLE", "SCHEDULING"),
    ("SCHEDULING", "SCHEDULED"),
    ("SCHEDULING", "FAILED_TO_SCHEDULE"),
    ("SCHEDULED", "PREPASS"),
    ("SCHEDULED", "CANCELLING"),
    ("SCHEDULED", "CANCELLED"),
    ("SCHEDULED", "PROVIDER_CANCELLED"),
    ("PREPASS", "PASS"),
    ("PREPASS", "FAILED"),
    ("PREPASS", "PROVIDER_FAILED"),
    ("PREPASS", "CANCELLING"),
    ("PASS", "POSTPASS"),
    ("PASS", "FAILED"),
    ("PASS", "PROVIDER_FAILED"),
    ("POSTPASS", "COMPLETED"),
    ("POSTPASS", "FAILED"),
    ("POSTPASS", "PROVIDER_FAILED"),
    ("CANCELLING", "CANCELLED"),
}

AOS = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
WINDOW = ContactWindow(AOS, AOS + timedelta(minutes=10), 120, 60, "ant1", "sat-1", "c-1")


def _edges() -> set[tuple[str, str]]:
    return {(a.value, b.value) for a, targets in TRANSITIONS.items() for b in targets}


def test_statuses_are_aws_statuses_with_provider_names() -> None:
    assert len(ContactStatus) == 13
    assert sorted(aws_name(s) for s in ContactStatus) == sorted(AWS_CONTACT_STATUSES)
    assert aws_name(S.PROVIDER_CANCELLED) == "AWS_CANCELLED"
    assert aws_name(S.PROVIDER_FAILED) == "AWS_FAILED"
    assert aws_name(S.PREPASS) == "PREPASS"
    assert S.PASS == "PASS"  # a StrEnum compares (and serialises) as its API spelling


def test_terminal_statuses_are_awss() -> None:
    assert {aws_name(s) for s in TERMINAL} == AWS_TERMINAL


def test_aws_names_round_trip_and_unknown_names_are_rejected() -> None:
    for name in AWS_CONTACT_STATUSES:
        assert aws_name(from_aws_name(name)) == name
    for bad in ("PROVIDER_FAILED", "scheduled", "DONE", ""):
        with pytest.raises(InvalidInput) as error:
            from_aws_name(bad)
        assert error.value.field == "contactStatus"
        assert "AWS_CANCELLED" in error.value.expected


def test_transition_table_is_the_specified_one() -> None:
    assert set(TRANSITIONS) == set(ContactStatus)
    assert _edges() == EXPECTED_EDGES


def test_nothing_leaves_a_terminal_status_and_nothing_loops() -> None:
    for status in ContactStatus:
        targets = allowed_targets(status)
        assert status not in targets
        assert (not targets) == (status in TERMINAL)
    assert all(S.AVAILABLE not in targets for targets in TRANSITIONS.values())


def test_every_status_is_reachable_from_available_and_every_path_ends_terminal() -> None:
    seen, queue = {S.AVAILABLE}, deque([S.AVAILABLE])
    while queue:
        for nxt in TRANSITIONS[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    assert seen == set(ContactStatus)
    # Acyclic: a topological order exists, so every path ends in a terminal status.
    remaining = {s: set(t) for s, t in TRANSITIONS.items()}
    while remaining:
        sinks = [s for s, t in remaining.items() if not t]
        assert sinks, f"cycle among {sorted(remaining)}"
        for s in sinks:
            del remaining[s]
        for targets in remaining.values():
            targets.difference_update(sinks)


@pytest.mark.parametrize("current", list(ContactStatus))
@pytest.mark.parametrize("target", list(ContactStatus))
def test_transition_accepts_exactly_the_table(current: S, target: S) -> None:
    allowed = (current.value, target.value) in EXPECTED_EDGES
    assert can_transition(current, target) == allowed
    if allowed:
        assert transition(current, target) is target
        return
    with pytest.raises(ContactStateError) as error:
        transition(current, target)
    message = str(error.value)
    assert f"from {current} to {target}" in message
    assert error.value.current is current and error.value.target is target
    for name in TRANSITIONS[current]:
        assert name in message
    if current in TERMINAL:
        assert "terminal" in message


def test_state_error_is_a_groundlink_error_and_lists_targets_in_order() -> None:
    with pytest.raises(GroundlinkError) as error:
        transition(S.PASS, S.CANCELLED)
    assert str(error.value) == (
        "a contact cannot go from PASS to CANCELLED; "
        "allowed from PASS: FAILED, POSTPASS, PROVIDER_FAILED"
    )


@pytest.mark.parametrize(
    ("offset_s", "expected"),
    [
        (-10_000, S.SCHEDULED),
        (-120.000001, S.SCHEDULED),
        (-120, S.PREPASS),  # start - prepass: phases include their start
        (-1, S.PREPASS),
        (0, S.PASS),  # AOS
        (599.999, S.PASS),
        (600, S.POSTPASS),  # LOS
        (659.999999, S.POSTPASS),
        (660, S.COMPLETED),  # end + postpass
        (86_400, S.COMPLETED),
    ],
)
def test_status_at_follows_the_clock(offset_s: float, expected: S) -> None:
    assert status_at(WINDOW, AOS + timedelta(seconds=offset_s)) is expected


def test_status_at_compares_instants_not_wall_clocks() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert status_at(WINDOW, datetime(2024, 6, 1, 14, 5, tzinfo=plus_two)) is S.PASS
    assert status_at(WINDOW, datetime(2024, 6, 1, 13, 59, tzinfo=plus_two)) is S.PREPASS


def test_status_at_with_no_prepass_goes_straight_to_pass_and_rejects_naive_time() -> None:
    window = ContactWindow(AOS, AOS + timedelta(minutes=5), 0, 0, "ant1", "sat-1")
    assert status_at(window, AOS - timedelta(microseconds=1)) is S.SCHEDULED
    assert status_at(window, AOS) is S.PASS
    assert status_at(window, AOS + timedelta(minutes=5)) is S.COMPLETED
    with pytest.raises(InvalidInput) as error:
        status_at(window, datetime(2024, 6, 1, 12, 0))
    assert error.value.field == "now"


def test_catch_up_steps_through_every_time_driven_status() -> None:
    assert catch_up(S.SCHEDULED, S.COMPLETED) == (S.PREPASS, S.PASS, S.POSTPASS, S.COMPLETED)
    assert catch_up(S.PREPASS, S.PASS) == (S.PASS,)
    assert catch_up(S.PASS, S.PASS) == ()
    for i, current in enumerate(TIME_DRIVEN):
        for target in TIME_DRIVEN[i:]:
            status = current
            for step in catch_up(current, target):
                status = transition(status, step)
            assert status is target
    with pytest.raises(ContactStateError):
        catch_up(S.POSTPASS, S.PASS)
    with pytest.raises(ContactStateError):
        catch_up(S.CANCELLED, S.COMPLETED)
    with pytest.raises(ContactStateError):
        catch_up(S.SCHEDULING, S.PASS)


def test_the_diagram_in_the_docs_is_the_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"```mermaid\n(.*?)```", text, re.S)
    assert block is not None, "docs/contacts.md has no mermaid diagram"
    edges = set(re.findall(r"^\s*([A-Z_]+)\s*-->\s*([A-Z_]+)", block.group(1), re.M))
    assert edges == EXPECTED_EDGES
