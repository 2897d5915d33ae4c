"""Booked contacts in a repair instance: matched to their pass, widened by ms, or held fixed."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import numpy.typing as npt

from groundlink.scheduling.from_available import (
    BookedContact,
    PlanRequest,
    instance_from_available,
    with_booked,
)
from groundlink.scheduling.model import Instance
from groundlink.scheduling.repair import repair
from groundlink.services.availability import AvailableContacts
from test_scheduling_from_available import END, START, _contacts

PREPASS_S, POSTPASS_S = 120, 60


def _booked(contact_id: str, antenna_id: str, aos_s: float, los_s: float) -> BookedContact:
    aos = START + timedelta(seconds=aos_s)
    los = START + timedelta(seconds=los_s)
    return BookedContact(
        contact_id,
        "sc-a",
        antenna_id,
        aos,
        los,
        aos - timedelta(seconds=PREPASS_S),
        los + timedelta(seconds=POSTPASS_S),
    )


def _instance(contacts: AvailableContacts) -> tuple[Instance, npt.NDArray[np.int64]]:
    request = PlanRequest("r0", "t1", "sc-a", 1.5, prepass_s=PREPASS_S, postpass_s=POSTPASS_S)
    return instance_from_available(contacts, [request], START, END, {})


def test_a_contact_a_millisecond_outside_its_untrimmed_pass_is_kept() -> None:
    contacts = _contacts()
    instance, rows = _instance(contacts)
    # Pass 0 is [3600, 4200) s: booked 0.4 ms before its AOS (times stored to the ms).
    booked = _booked("ct-1", "ant-n1", 3599.9996, 4200.0)
    widened, (previous,) = with_booked(instance, rows, contacts, [booked], [])
    assert (previous.request, previous.opportunity) == ("r0", 0)
    assert widened.opportunities[0].start_s == previous.start_s
    result = repair(widened, [previous])
    assert result.kept and not result.moved and not result.dropped


def test_a_trimmed_pass_is_not_widened_and_the_contact_moves() -> None:
    contacts = _contacts()
    contacts = replace(contacts, trimmed=np.array([True, False, False, False]))
    instance, rows = _instance(contacts)
    booked = _booked("ct-1", "ant-n1", 3599.9996, 4200.0)
    same, (previous,) = with_booked(instance, rows, contacts, [booked], [])
    assert same.opportunities[0].start_s == 3600.0
    result = repair(same, [previous])
    ((before, after),) = result.moved
    assert before == previous and after.start_s >= 3600.0


def test_a_contact_off_every_pass_has_no_opportunity_and_held_ones_are_fixed() -> None:
    contacts = _contacts()
    instance, rows = _instance(contacts)
    lost = _booked("ct-lost", "ant-n1", 50_000.0, 50_300.0)
    held = _booked("ct-held", "ant-n1", 3700.0, 3800.0)
    elsewhere = replace(held, id="ct-far", antenna_id="ant-unknown")
    changed, (previous,) = with_booked(instance, rows, contacts, [lost], [held, elsewhere])
    assert (previous.request, previous.opportunity) == ("r0", -1)
    (fixed,) = changed.fixed
    assert (fixed.id, fixed.resources) == ("ct-held", ("ant-n1",))
    assert (fixed.start_s, fixed.end_s) == (3700.0 - PREPASS_S, 3800.0 + POSTPASS_S)
    result = repair(changed, [previous])
    assert not result.kept
    # The held block takes the middle of pass 0: nothing repaired or added may overlap it.
    for contact in result.contacts:
        if contact.fixed or contact.resources != ("ant-n1",):
            continue
        assert contact.end_s + POSTPASS_S <= fixed.start_s or fixed.end_s <= (
            contact.start_s - PREPASS_S
        )
