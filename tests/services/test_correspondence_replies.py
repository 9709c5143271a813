"""Replies to correspondence and the ISA register: a reply linked to the item it answers takes
the original's reply-by date off the calendar and Today; threads; links made afterwards; the
register's checks, edits, retirement and deletion, each audited."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from app.domain.errors import NotAllowed, ValidationError
from app.domain.meetings import CorrespondenceInput, Direction, IsaInput
from app.domain.nominal import Nominal, Status
from app.domain.roles import Role
from app.services.calendar import CalendarService
from app.services.correspondence import CorrespondenceService, isa_problems
from app.services.nominals import NominalService
from app.services.vault import Actor, Vault
from app.store.models import AuditEntry, Revision

AGENCY = "HMPPS Probation Service"


@pytest.fixture
def coord(vault: Vault) -> Vault:
    vault.actor = Actor(vault.actor.user, Role.COORDINATOR)
    return vault


def _isa_input(**over: object) -> IsaInput:
    base = dict(title="Regional ISA", parties=("CTP", AGENCY), purpose="Managing TACT offenders",
                review_date=date(2027, 1, 1), start_date=date(2024, 1, 1),
                reference="ISA/2024/001", legal_basis="DPA 2018 Part 3 s.35")
    base.update(over)
    return IsaInput(**base)  # type: ignore[arg-type]


def _audit(vault: Vault, action: str) -> list[AuditEntry]:
    with vault.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)
                              .order_by(AuditEntry.id)))


def _due(vault: Vault) -> list[tuple[str, date]]:
    return [(i.ref, i.date) for i in CalendarService(vault).items(
        date(2026, 3, 1), date(2026, 4, 30), kinds=["action_due"])]


def test_an_incoming_reply_clears_the_outgoing_items_reply_by(coord: Vault) -> None:
    ref = NominalService(coord).add(Nominal(surname="THREADED", status=Status.COMMUNITY)).ref
    svc = CorrespondenceService(coord, today=lambda: date(2026, 3, 20))
    isa = svc.add_isa(_isa_input())
    asked = svc.add(CorrespondenceInput(AGENCY, Direction.OUT, date(2026, 3, 2),
                                        "Request for licence conditions", "information_request",
                                        isa_id=isa.id, nominal_refs=(ref,),
                                        reply_by=date(2026, 3, 16)))
    assert asked.reply_state(date(2026, 3, 10)) == "Awaiting reply"
    assert asked.reply_state(date(2026, 3, 17)) == "Reply overdue"
    assert _due(coord) == [(asked.ref, date(2026, 3, 16))]
    calendar = CalendarService(coord)
    assert asked.ref in {i.ref for i in calendar.today_summary(date(2026, 3, 20))
                         .overdue_actions.items}

    answer = svc.add(CorrespondenceInput(AGENCY, Direction.IN, date(2026, 3, 18),
                                         "Re: Request for licence conditions",
                                         "information_request", isa_id=isa.id,
                                         nominal_refs=(ref,), reply_to=asked.ref))
    assert answer.reply_to_ref == asked.ref
    original = svc.get(asked.ref)
    assert original.replied_on == date(2026, 3, 18) and original.reply_refs == (answer.ref,)
    assert original.reply_state(date(2026, 3, 20)) == "Replied"
    # Off the calendar (and so off Today, which reads the same sources).
    assert _due(coord) == []
    assert asked.ref not in {i.ref for i in calendar.today_summary(date(2026, 3, 20))
                             .overdue_actions.items}

    # The thread from either end: the original first, the reply under it.
    for key in (asked.ref, answer.ref):
        assert [(t.depth, t.item.ref) for t in svc.thread(key)] == [(0, asked.ref),
                                                                  (1, answer.ref)]
    added = _audit(coord, "correspondence.add")[-1]
    assert json.loads(added.detail or "{}")["reply_to"] == asked.ref
    replied = _audit(coord, "correspondence.reply")
    assert [(r.ref, r.category) for r in replied] == [(asked.ref, "alteration")]
    with coord.read() as s:
        rev = s.scalars(select(Revision).where(Revision.entity == "correspondence",
                                               Revision.record_id == asked.id)).one()
    assert json.loads(rev.changes) == {"replied_on": [None, "2026-03-18"]}


def test_an_outgoing_reply_is_still_a_disclosure_and_the_earliest_reply_counts(
        coord: Vault) -> None:
    svc = CorrespondenceService(coord)
    isa = svc.add_isa(_isa_input())
    query = svc.add(CorrespondenceInput("Multi-agency centre (MAC)", Direction.IN,
                                        date(2026, 3, 3), "Associates check", "mac_enquiry",
                                        reply_by=date(2026, 3, 10)))
    with pytest.raises(ValidationError) as err:  # an outgoing reply still needs its basis
        svc.add(CorrespondenceInput("Multi-agency centre (MAC)", Direction.OUT,
                                    date(2026, 3, 9), "Re: Associates check", "mac_enquiry",
                                    reply_to=query.ref))
    assert err.value.field == "isa"
    second = svc.add(CorrespondenceInput("Multi-agency centre (MAC)", Direction.OUT,
                                         date(2026, 3, 9), "Re: Associates check",
                                         "mac_enquiry", isa_id=isa.id, reply_to=query.ref))
    first = svc.add(CorrespondenceInput("Multi-agency centre (MAC)", Direction.OUT,
                                        date(2026, 3, 5), "Holding reply", "mac_enquiry",
                                        justification="Holding reply, no personal data",
                                        reply_to=query.ref))
    assert svc.get(query.ref).replied_on == date(2026, 3, 5)
    assert [t.item.ref for t in svc.thread(query.ref)] == [query.ref, first.ref, second.ref]
    disclosures = [(e.ref, e.recipient) for e in _audit(coord, "correspondence.out")]
    assert disclosures == [(second.ref, "Multi-agency centre (MAC)"),
                           (first.ref, "Multi-agency centre (MAC)")]


def test_reply_rules(coord: Vault) -> None:
    svc = CorrespondenceService(coord)
    out = svc.add(CorrespondenceInput(AGENCY, Direction.OUT, date(2026, 3, 5), "Risk summary",
                                      justification="Duty to co-operate",
                                      reply_by=date(2026, 3, 12)))
    with pytest.raises(ValidationError) as err:
        svc.add(CorrespondenceInput(AGENCY, Direction.OUT, date(2026, 3, 6), "Chaser",
                                    justification="Chaser", reply_to=out.ref))
    assert err.value.field == "reply_to" and "other way" in err.value.message
    with pytest.raises(ValidationError) as err:
        svc.add(CorrespondenceInput(AGENCY, Direction.IN, date(2026, 3, 4), "Early",
                                    reply_to=out.ref))
    assert err.value.field == "date"
    with pytest.raises(ValidationError):
        svc.add(CorrespondenceInput(AGENCY, Direction.IN, date(2026, 3, 6), "Re",
                                    reply_to="COR-999999"))
    # Nothing half-written by the refusals.
    assert [c.ref for c in svc.log()] == [out.ref] and _due(coord) == [(out.ref,
                                                                        date(2026, 3, 12))]


def test_link_an_item_already_logged_as_the_reply(coord: Vault) -> None:
    svc = CorrespondenceService(coord)
    out = svc.add(CorrespondenceInput(AGENCY, Direction.OUT, date(2026, 3, 5), "Risk summary",
                                      justification="Duty to co-operate",
                                      reply_by=date(2026, 3, 12)))
    back = svc.add(CorrespondenceInput(AGENCY, Direction.IN, date(2026, 3, 11), "Noted"))
    assert _due(coord) == [(out.ref, date(2026, 3, 12))]
    original = svc.link_reply(back.ref, out.ref)
    assert original.ref == out.ref and original.reply_refs == (back.ref,)
    assert original.replied_on == date(2026, 3, 11) and _due(coord) == []
    assert [e.ref for e in _audit(coord, "correspondence.link")] == [back.ref]
    with pytest.raises(ValidationError, match="already linked"):
        svc.link_reply(back.ref, out.ref)
    # A loop is refused: the original cannot be made to answer its own reply's reply.
    again = svc.add(CorrespondenceInput(AGENCY, Direction.OUT, date(2026, 3, 12), "Thanks",
                                        justification="Acknowledgement", reply_to=back.ref))
    assert [(t.depth, t.item.ref) for t in svc.thread(again.ref)] == [
        (0, out.ref), (1, back.ref), (2, again.ref)]
    with pytest.raises(ValidationError):
        svc.link_reply(out.ref, back.ref)
    with pytest.raises(ValidationError, match="itself"):
        svc.link_reply(out.ref, out.ref)


def test_isa_problems_name_each_field() -> None:
    assert isa_problems(_isa_input()) == {}
    problems = isa_problems(_isa_input(title="  ", parties=("CTP",), purpose="",
                                       review_date=date(2023, 1, 1)))
    assert set(problems) == {"title", "parties", "purpose", "review_date"}
    assert problems["parties"] == "an agreement has at least two parties"
    assert problems["review_date"] == "must not be before the start date"
    assert isa_problems(_isa_input(parties=("CTP", "ctp ")))["parties"] == (
        "a party is named twice")
    assert "legal_basis" in isa_problems(_isa_input(legal_basis="x" * 2001))
    assert isa_problems(_isa_input(title="two\nlines"))["title"] == "must be one line"


def test_isa_edit_retire_and_delete(coord: Vault) -> None:
    svc = CorrespondenceService(coord, today=lambda: date(2026, 3, 20))
    isa = svc.add_isa(_isa_input())
    assert isa.legal_basis == "DPA 2018 Part 3 s.35" and isa.used_by == 0
    assert isa.state(date(2026, 3, 20)) == "Active"
    assert isa.state(date(2026, 12, 15)) == "Review due soon"
    assert isa.state(date(2027, 1, 2)) == "Review overdue"
    with pytest.raises(ValidationError) as err:
        svc.update_isa(isa.ref, _isa_input(parties=("CTP",)))
    assert err.value.field == "parties"
    edited = svc.update_isa(isa.ref, _isa_input(review_date=date(2026, 9, 1),
                                                parties=("CTP", AGENCY, "Local authority")),
                            reason="Annual review")
    assert edited.review_date == date(2026, 9, 1) and len(edited.parties) == 3
    row = _audit(coord, "isa.update")[-1]
    assert row.category == "alteration" and row.reason == "Annual review"
    assert json.loads(row.detail or "{}")["fields"] == ["parties", "review_date"]

    used = svc.add(CorrespondenceInput(AGENCY, Direction.OUT, date(2026, 3, 2), "Risk summary",
                                       isa_id=isa.id))
    assert svc.isa(isa.ref).used_by == 1
    with pytest.raises(ValidationError) as err:
        svc.remove_isa(isa.ref, "Entered in error")
    assert "retire it instead" in err.value.message
    with pytest.raises(ValidationError):
        svc.retire_isa(isa.ref, "  ")
    retired = svc.retire_isa(isa.ref, "Superseded by the 2026 agreement")
    assert retired.status == "ended" and retired.ended_on == date(2026, 3, 20)
    assert retired.state(date(2026, 3, 20)) == "Retired"
    assert [i.ref for i in svc.isas()] == []
    assert [i.ref for i in svc.isas(include_ended=True)] == [isa.ref]
    assert svc.get(used.ref).isa_ref == isa.ref  # the item keeps what it relied on
    row = _audit(coord, "isa.retire")[-1]
    assert row.category == "alteration" and json.loads(row.detail or "{}")["used_by"] == 1
    # Not for items after its end; an item dated before the end may still cite it.
    with pytest.raises(ValidationError) as err:
        svc.add(CorrespondenceInput(AGENCY, Direction.OUT, date(2026, 3, 21), "Later",
                                    isa_id=isa.id))
    assert err.value.field == "isa"
    svc.add(CorrespondenceInput(AGENCY, Direction.IN, date(2026, 3, 19), "Late entry",
                                isa_id=isa.id))
    with pytest.raises(ValidationError, match="retired"):
        svc.update_isa(isa.ref, _isa_input())
    with pytest.raises(ValidationError, match="already retired"):
        svc.retire_isa(isa.ref, "again")

    spare = svc.add_isa(_isa_input(title="Entered twice by mistake"))
    assert svc.remove_isa(spare.ref, "Duplicate entry") == spare.ref
    assert spare.ref not in {i.ref for i in svc.isas(include_ended=True)}
    row = _audit(coord, "isa.remove")[-1]
    assert row.category == "erasure" and row.ref == spare.ref and row.reason == "Duplicate entry"


def test_viewer_cannot_reply_link_or_change_the_register(coord: Vault) -> None:
    svc = CorrespondenceService(coord)
    isa = svc.add_isa(_isa_input())
    item = svc.add(CorrespondenceInput(AGENCY, Direction.IN, date(2026, 3, 2), "Update"))
    coord.actor = Actor("vic", Role.VIEWER)
    assert [t.item.ref for t in svc.thread(item.ref)] == [item.ref]  # reading is fine
    for call in (lambda: svc.link_reply(item.ref, item.ref),
                 lambda: svc.update_isa(isa.ref, _isa_input()),
                 lambda: svc.retire_isa(isa.ref, "no"),
                 lambda: svc.remove_isa(isa.ref, "no")):
        with pytest.raises(NotAllowed):
            call()
