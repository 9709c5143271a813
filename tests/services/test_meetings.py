"""Meetings and actions: agenda, minutes, carrying overdue actions forward, the action log,
suggestions, the calendar feed, the pack (marked, paginated, audited) and role checks."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.domain.errors import NotAllowed, NotFound, ValidationError
from app.domain.meetings import ActionInput, AttendeeInput, MeetingInput, NominalPick
from app.domain.nominal import Nominal, RiskLevel, Status
from app.services.calendar import CalendarService
from app.services.meetings import ActionFilter, MeetingService
from app.services.nominals import NominalService
from app.services.pack_pdf import PackService
from app.services.vault import Vault
from app.store.models import AuditEntry, Revision
from tests.support import vault_users

# The coordinator and viewer sessions (tests/support/vault_users.py) that
# test_engagement.py shares.
users = vault_users.users
coord = vault_users.coord

TODAY = date(2026, 3, 10)


def add_nominal(v: Vault, surname: str = "TESTCASE", **values: Any) -> str:
    fields: dict[str, Any] = {"surname": surname, "forenames": "Synthetic",
                              "dob": date(1990, 1, 1), "status": Status.COMMUNITY,
                              "risk_level": RiskLevel.HIGH, "nominal_manager": "DC Example",
                              "force": "Test Force"}
    fields.update(values)
    return NominalService(v).add(Nominal(**fields)).ref


def ttcg(when: datetime, **kw: Any) -> MeetingInput:
    base: dict[str, Any] = {"meeting_type": "ttcg", "starts_at": when, "chair": "DI Chair",
                            "location": "Room 2",
                            "attendees": (AttendeeInput("A. Officer", "CTP", "NM"),
                                          AttendeeInput("P. Officer", "Probation"))}
    base.update(kw)
    return MeetingInput(**base)


def audit(v: Vault, action: str) -> list[AuditEntry]:
    with v.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_meeting_with_agenda_minutes_and_actions(coord: Vault) -> None:
    a = add_nominal(coord, "ALPHA")
    b = add_nominal(coord, "BRAVO")
    svc = MeetingService(coord)
    m = svc.add(ttcg(datetime(2026, 2, 3, 10), nominals=(NominalPick(a, "Release due"),
                                                           NominalPick(b))), today=TODAY)
    assert m.ref == "MTG-000001" and m.row.type_label == "Regional Nominal Management TTCG"
    standing = m.items("standing")
    assert standing[0].title == "Apologies and introductions" and len(standing) == 5
    nominals = m.items("nominal")
    assert [i.nominal_ref for i in nominals] == [a, b]
    assert nominals[0].reason == "Release due" and nominals[0].nominal_name == "ALPHA, Synthetic"
    assert [x.name for x in m.attendees] == ["A. Officer", "P. Officer"]
    svc.record_minutes(nominals[0].id, "Discussed release plan.", "Increase contact.")
    act = svc.add_action(ActionInput("Arrange visit", "DS Owner", date(2026, 2, 20), a, m.id))
    assert act.ref == "ACT-000001" and act.meeting_ref == m.ref and act.nominal_ref == a
    shown = svc.show(m.id, today=TODAY)
    item = next(i for i in shown.agenda if i.nominal_ref == a)
    assert (item.minutes, item.decisions) == ("Discussed release plan.", "Increase contact.")
    assert [x.ref for x in shown.actions] == ["ACT-000001"] and shown.actions[0].overdue
    assert audit(coord, "meeting.add")[0].ref == m.ref
    assert audit(coord, "meeting.minutes") and audit(coord, "meeting.view")
    with coord.read() as s:
        rev = s.scalars(select(Revision).where(Revision.entity == "agenda_item")).one()
        assert json.loads(rev.changes)["minutes"] == ["", "Discussed release plan."]


def test_unknown_type_and_nominal_name_the_field(coord: Vault) -> None:
    svc = MeetingService(coord)
    with pytest.raises(ValidationError) as err:
        svc.add(ttcg(datetime(2026, 2, 3, 10), meeting_type="tea party"))
    assert err.value.field == "type"
    with pytest.raises(ValidationError) as err:
        svc.add(ttcg(datetime(2026, 2, 3, 10), nominals=(NominalPick("NM-999999"),)))
    assert err.value.field == "nominals[0]"
    assert svc.meetings() == []  # nothing half-written


def test_overdue_action_carries_into_next_meeting_of_the_same_type(coord: Vault) -> None:
    a = add_nominal(coord, "ALPHA")
    svc = MeetingService(coord)
    first = svc.add(ttcg(datetime(2026, 1, 6, 10), nominals=(NominalPick(a),), actions=(
        ActionInput("Overdue one", "DS Late", date(2026, 1, 20), a),
        ActionInput("Done one", "DS Prompt", date(2026, 1, 20)),
        ActionInput("Not due yet", "DS Later", date(2026, 4, 1)),
    )), today=date(2026, 1, 6))
    done = next(x for x in first.actions if x.text == "Done one")
    svc.update_action(done.ref, "Completed.", status="done", today=date(2026, 1, 19))
    # Another type's meeting does not take it.
    mappa = svc.add(MeetingInput("mappa", datetime(2026, 2, 2, 11), "DI Chair"),
                    today=date(2026, 1, 25))
    assert mappa.items("carried") == []
    nxt = svc.add(ttcg(datetime(2026, 2, 3, 10)), today=date(2026, 1, 25))
    carried = nxt.items("carried")
    assert [c.title for c in carried] == ["Overdue one"] and nxt.carried_now == 1
    assert carried[0].carried_from_ref == first.ref
    assert carried[0].carried_from_date == date(2026, 1, 6)
    assert carried[0].nominal_ref == a and "Overdue since 20 Jan 2026" in carried[0].reason
    # Opening again does not carry twice; the action log filters by meeting include it.
    assert svc.show(nxt.id, today=date(2026, 1, 26)).items("carried") == carried
    in_next = svc.actions(ActionFilter(meeting=nxt.ref), today=date(2026, 1, 26))
    assert [x.text for x in in_next] == ["Overdue one"]
    # Still overdue after the meeting is held: it goes on to the one after.
    svc.update(nxt.id, status="held")
    third = svc.add(ttcg(datetime(2026, 3, 3, 10)), today=date(2026, 2, 20))
    assert [c.carried_from_ref for c in third.items("carried")] == [first.ref]


def test_opening_an_existing_meeting_carries_newly_overdue_actions(coord: Vault,
                                                                   users: dict[str, Vault]
                                                                   ) -> None:
    svc = MeetingService(coord)
    first = svc.add(ttcg(datetime(2026, 1, 6, 10), actions=(
        ActionInput("Due soon", "DS Owner", date(2026, 1, 30)),)), today=date(2026, 1, 6))
    nxt = svc.add(ttcg(datetime(2026, 2, 24, 10)), today=date(2026, 1, 10))
    assert nxt.items("carried") == []
    # A viewer opening it sees the agenda but changes nothing.
    seen = MeetingService(users["viewer"]).show(nxt.id, today=date(2026, 2, 5))
    assert seen.items("carried") == [] and seen.carried_now == 0
    opened = svc.show(nxt.id, today=date(2026, 2, 5))
    assert opened.carried_now == 1 and opened.items("carried")[0].carried_from_ref == first.ref
    assert audit(coord, "meeting.carry")


def test_action_updates_keep_history_and_filters(coord: Vault) -> None:
    svc = MeetingService(coord)
    m = svc.add(ttcg(datetime(2026, 1, 6, 10), actions=(
        ActionInput("One", "Owner A", date(2026, 1, 20)),
        ActionInput("Two", "Owner B", date(2026, 3, 20)),
        ActionInput("Three", "Owner A", date(2026, 2, 1)),
    )), today=date(2026, 1, 6))
    one = next(x for x in m.actions if x.text == "One")
    svc.update_action(one.ref, "Chased by email.", today=date(2026, 1, 22))
    svc.update_action(one.ref, "", due=date(2026, 2, 28), today=date(2026, 1, 23))
    closed = svc.update_action(one.ref, "Done at last.", status="done", today=date(2026, 3, 2))
    assert closed.status == "done" and closed.closed_on == date(2026, 3, 2)
    history = svc.action_history(one.ref)
    assert [h.text for h in history] == ["Action raised", "Chased by email.",
                                         "Due date moved to 28 Feb 2026", "Done at last."]
    assert (history[-1].old_status, history[-1].new_status) == ("open", "done")
    assert all(h.user == "carol" for h in history)
    with pytest.raises(ValidationError):
        svc.update_action(one.ref, "", status="finished")
    assert {x.text for x in svc.actions(ActionFilter(owner="owner a"), TODAY)} == {"One",
                                                                                    "Three"}
    assert [x.text for x in svc.actions(ActionFilter(overdue=True), TODAY)] == ["Three"]
    assert [x.text for x in svc.actions(ActionFilter(status="done"), TODAY)] == ["One"]
    assert len(svc.actions(ActionFilter(meeting=m.id), TODAY)) == 3
    with pytest.raises(NotFound):
        svc.actions(ActionFilter(meeting="MTG-000099"), TODAY)


def test_suggestions_give_reasons(coord: Vault) -> None:
    fine = add_nominal(coord, "FINE")
    faulty = add_nominal(coord, "NOMANAGER", nominal_manager=None)
    svc = MeetingService(coord)
    m = svc.add(ttcg(datetime.now() + timedelta(days=7), nominals=(NominalPick(fine),)))
    suggestions = {s.ref: s for s in svc.suggest_nominals(m.id)}
    assert fine not in suggestions  # already on the agenda
    assert "Data quality: No nominal manager" in suggestions[faulty].reasons
    assert any(r.startswith("New to the list") for r in suggestions[faulty].reasons)


def test_calendar_feed(coord: Vault) -> None:
    svc = MeetingService(coord)
    svc.add(ttcg(datetime(2026, 4, 7, 10), actions=(
        ActionInput("Write report", "DS Owner", date(2026, 4, 21)),)), today=TODAY)
    items = CalendarService(coord).items(date(2026, 4, 1), date(2026, 4, 30),
                                         kinds=["meeting", "action_due"])
    assert [(i.kind, i.ref, i.date) for i in items] == [
        ("meeting", "MTG-000001", date(2026, 4, 7)),
        ("action_due", "ACT-000001", date(2026, 4, 21))]
    assert items[0].title == "Regional Nominal Management TTCG at 10:00"
    assert items[1].title == "Action due (DS Owner): Write report"


def test_roles(users: dict[str, Vault]) -> None:
    viewer, admin = users["viewer"], users["admin"]
    m = MeetingService(users["coordinator"]).add(ttcg(datetime(2026, 4, 7, 10)))
    with pytest.raises(NotAllowed):
        MeetingService(viewer).add(ttcg(datetime(2026, 4, 7, 10)))
    with pytest.raises(NotAllowed):
        MeetingService(admin).add_action(ActionInput("x", "y", TODAY))
    assert MeetingService(viewer).meetings()[0].ref == m.ref
    with pytest.raises(NotAllowed):
        PackService(viewer).export_pack(m.id, Path("/nonexistent/x.pdf"), recipient="r",
                                        justification="j")
    with pytest.raises(NotAllowed):
        MeetingService(viewer).export_actions(Path("/nonexistent/x.xlsx"), None, None,
                                              recipient="r", justification="j")


# --- the pack ---------------------------------------------------------------------------------


def _pdf_pages(path: Path) -> list[str]:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    return [p for p in text.split("\f") if p.strip()]


def test_pack_is_marked_paginated_escaped_and_audited(coord: Vault, tmp_path: Path) -> None:
    refs = [add_nominal(coord, f"PACKTEST{i}", notes="<b>not bold</b> & <img src='x'/>")
            for i in range(3)]
    svc = MeetingService(coord)
    first = svc.add(ttcg(datetime(2026, 1, 6, 10), actions=(
        ActionInput("Carry <me>", "DS Late", date(2026, 1, 20), refs[0]),)),
        today=date(2026, 1, 6))
    m = svc.add(ttcg(datetime(2026, 3, 17, 10), nominals=tuple(
        NominalPick(r, "Review & discuss") for r in refs)), today=TODAY)
    assert m.items("carried")[0].carried_from_ref == first.ref
    out = tmp_path / "pack.pdf"
    result = PackService(coord).export_pack(m.id, out, recipient="TTCG members",
                                            justification="Monthly TTCG", today=TODAY)
    assert out.exists() and (tmp_path / "pack.pdf.sha256").read_text().startswith(
        result.sha256)
    pages = _pdf_pages(out)
    total = len(pages)
    assert total >= 3 + 3  # cover, agenda, three briefings, actions and performance
    for n, page in enumerate(pages, 1):
        assert page.count("OFFICIAL-SENSITIVE") >= 2, f"page {n} not marked top and bottom"
        assert f"Page {n} of {total}" in page
    text = "\n".join(pages)
    assert "<b>not bold</b> & <img src='x'/>" in text  # printed verbatim, not as markup
    assert "Carry <me>" in text and "carried from MTG-000001" in text
    for r in refs:
        assert sum(f"{r} · " in p and "briefing" in p.lower() for p in pages) == 1  # one page
    assert sum("On the agenda: Review & discuss" in p for p in pages) == 3
    assert "Performance summary" in text and "Contacts made on time" in text
    row = audit(coord, "export.pack")[0]
    detail = json.loads(row.detail)
    assert row.category == "disclosure" and row.recipient == "TTCG members"
    assert row.reason == "Monthly TTCG" and row.ref == m.ref
    assert detail["nominals"] == refs and detail["file"] == "pack.pdf"
    assert detail["sha256"] == result.sha256 and "ACT-000001" in detail["actions"]


def test_pack_needs_recipient_and_justification(coord: Vault, tmp_path: Path) -> None:
    m = MeetingService(coord).add(ttcg(datetime(2026, 3, 17, 10)))
    with pytest.raises(ValidationError) as err:
        PackService(coord).export_pack(m.id, tmp_path / "p.pdf", recipient=" ",
                                       justification="x")
    assert err.value.field == "recipient"
    assert not (tmp_path / "p.pdf").exists() and not audit(coord, "export.pack")


def test_export_actions_return(coord: Vault, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    svc = MeetingService(coord)
    m = svc.add(ttcg(datetime(2026, 1, 6, 10), actions=(
        ActionInput("=cmd|' /C calc'!A0", "Owner A", date(2026, 1, 20)),
        ActionInput("Two", "Owner B", date(2026, 2, 20)),)), today=date(2026, 1, 6))
    two = next(a for a in m.actions if a.text == "Two")
    svc.update_action(two.ref, "Done.", status="done", today=date(2026, 2, 25))
    out = tmp_path / "actions.xlsx"
    svc.export_actions(out, None, None, recipient="Chair", justification="Chair's report",
                       today=TODAY)
    wb = load_workbook(out)
    log = wb["Action log"]
    rows = [[c.value for c in r] for r in log.iter_rows()]
    start = next(i for i, r in enumerate(rows) if r[0] == "Ref")
    body = rows[start + 1:]
    assert {r[0] for r in body} == {"ACT-000001", "ACT-000002"}
    formula = next(r for r in body if r[0] == "ACT-000001")
    assert formula[3] == "=cmd|' /C calc'!A0"
    assert log.cell(row=start + 2, column=4).data_type == "s"  # text, never a formula
    report = [[c.value for c in r] for r in wb["Chair's report"].iter_rows()]
    owner_b = next(r for r in report if r[0] == "Owner B")
    assert owner_b[1:] == [0, 0, 0, 1, 0, 0.0]  # done 5 days late: 0% on time
    row = audit(coord, "export.actions")[0]
    assert row.category == "disclosure" and row.recipient == "Chair"


def test_pack_compact_briefing_when_export_layer_briefing_is_absent(
        coord: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import app.services.pack_pdf as pack_pdf

    monkeypatch.setattr(pack_pdf, "_shared_briefings", lambda *_: None)
    ref = add_nominal(coord, "COMPACT", notes="<i>kept</i>")
    m = MeetingService(coord).add(ttcg(datetime(2026, 3, 17, 10),
                                       nominals=(NominalPick(ref, "Release due"),)), today=TODAY)
    out = tmp_path / "compact.pdf"
    PackService(coord).export_pack(m.id, out, recipient="R", justification="J", today=TODAY)
    pages = _pdf_pages(out)
    page = next(p for p in pages if "Why it is on the agenda: Release due" in p)
    assert "COMPACT, Synthetic" in page and "<i>kept</i>" in page
    assert all(f"Page {n} of {len(pages)}" in p for n, p in enumerate(pages, 1))
