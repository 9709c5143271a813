"""Retention review: computed review dates (worked examples), the queue, decisions, the calendar
source, roles, and erasure that leaves nothing on disk while links from other records survive."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from app.domain.errors import NotAllowed, ValidationError
from app.domain.roles import Role
from app.services.audit import AuditService
from app.services.calendar import CalendarService
from app.services.nominals import NominalService
from app.services.retention import QueueFilter, RetentionService
from app.services.vault import Actor, Vault
from app.store.models import (
    Action,
    AgendaItem,
    AuditEntry,
    Contact,
    CorrespondenceNominal,
    IntelReferral,
    Nominal,
    NominalAlias,
    Person,
    Referral,
    ReferralNote,
    RetentionDecision,
    Revision,
)
from tests.services.test_retention_support import (
    acting,
    add_nominal,
    add_referral,
    linked_nominal,
)
from tests.support.sqlcipher_pages import find_in_pages, first_page_is_sqlite

TODAY = date(2026, 3, 10)
MARKER = "qzxvmarker"


def service(vault: Vault) -> RetentionService:
    vault.actor = Actor("alice", Role.ADMIN)
    return RetentionService(vault)


# --- worked examples --------------------------------------------------------------------------


def test_review_dates_follow_the_rule_worked_examples(vault: Vault) -> None:
    # Group 3, created 10 Mar 2019: review every 6 years -> 10 Mar 2025 (overdue on TODAY).
    g3 = add_nominal(vault, "GROUPTHREE", created=date(2019, 3, 10), group=3)
    # Group 2, created 29 Feb 2016: 10 years -> 28 Feb 2026 (29 Feb does not exist in 2026).
    g2 = add_nominal(vault, "GROUPTWO", created=date(2016, 2, 29), group=2)
    # Group 1, born 20 Mar 1926, created 2020: the age-100 disposal review (20 Mar 2026) comes
    # before the 10-year review (1 Jan 2030), and is within the queue's 30 days.
    g1_old = add_nominal(vault, "GROUPONEOLD", created=date(2020, 1, 1), group=1,
                         dob=date(1926, 3, 20))
    # Group 1, born 1960, created 1 Apr 2016: 10-year review on 1 Apr 2026 (due within 30 days).
    g1 = add_nominal(vault, "GROUPONE", created=date(2016, 4, 1), group=1, dob=date(1960, 5, 1))
    # Group 3 created 2024: not due for years.
    add_nominal(vault, "RECENT", created=date(2024, 1, 1), group=3)
    svc = service(vault)
    due = {r.ref: r for r in svc.due(today=TODAY)}
    assert set(due) == {g3, g2, g1_old, g1}
    assert due[g3].due == date(2025, 3, 10) and due[g3].overdue and due[g3].group == 3
    assert due[g2].due == date(2026, 2, 28) and due[g2].overdue
    assert due[g1_old].due == date(2026, 3, 20) and not due[g1_old].overdue
    assert "disposal review at age 100" in due[g1_old].rule_text
    assert due[g1].due == date(2026, 4, 1) and not due[g1].overdue
    assert "review every 10 years" in due[g1].rule_text
    # Earliest first.
    assert [r.ref for r in svc.due(today=TODAY)] == [g3, g2, g1_old, g1]
    # The same date from next_review (what a record screen shows beside the group).
    assert svc.next_review(g2).due == date(2026, 2, 28)


def test_retain_sets_the_next_review_and_is_recorded(vault: Vault) -> None:
    ref = add_nominal(vault, "RETAINED", created=date(2019, 3, 10), group=3)
    svc = service(vault)
    assert svc.review(ref, today=TODAY).default_until == date(2032, 3, 10)
    assert svc.retain(ref, date(2031, 3, 10), "Still managed under MAPPA", today=TODAY)
    assert ref not in [r.ref for r in svc.due(today=TODAY)]
    # Due again once the chosen date comes round, with the decision named in the rule.
    later = {r.ref: r for r in svc.due(today=date(2031, 3, 1))}
    assert later[ref].due == date(2031, 3, 10)
    assert "retained on review 2026-03-10 by alice" in later[ref].rule_text
    assert later[ref].last_review == TODAY
    with vault.read() as s:
        row = s.scalars(select(RetentionDecision)).one()
        assert (row.decision, row.decided_by, row.reason) == ("retain", "alice",
                                                              "Still managed under MAPPA")
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "retention.retain")).one()
        assert audit.ref == ref and json.loads(audit.detail)["next_review"] == "2031-03-10"
    detail = svc.review(ref, today=TODAY)
    assert [(d.decision, d.next_review) for d in detail.decisions] == [
        ("retain", date(2031, 3, 10))]


def test_retain_checks_its_input(vault: Vault) -> None:
    ref = add_nominal(vault, "CHECKED", created=date(2019, 3, 10), group=3)
    svc = service(vault)
    for until, reason, field in ((date(2026, 3, 1), "ok", "until"),
                                 (date(2033, 1, 1), "ok", "until"),
                                 (date(2030, 1, 1), "  ", "reason")):
        with pytest.raises(ValidationError) as err:
            svc.retain(ref, until, reason, today=TODAY)
        assert err.value.field == field
    with pytest.raises(ValidationError) as err:
        svc.retain("XX-1", date(2030, 1, 1), "ok", today=TODAY)
    assert err.value.field == "ref"


def test_queue_filters_and_pages(vault: Vault) -> None:
    a = add_nominal(vault, "FORCEA", created=date(2015, 1, 1), group=3, force="Alpha Force")
    b = add_nominal(vault, "FORCEB", created=date(2015, 1, 2), group=2, force="Beta Force")
    c = add_nominal(vault, "SOON", created=date(2016, 3, 20), group=2, force="Beta Force")
    p = add_referral(vault, created=date(2015, 1, 3))
    svc = service(vault)
    # Group 3 records fall due after 6 years, group 2 after 10: earliest first.
    assert [r.ref for r in svc.due(today=TODAY)] == [a, p, b, c]
    assert [r.ref for r in svc.due(QueueFilter(record_type="referral"), today=TODAY)] == [p]
    assert [r.ref for r in svc.due(QueueFilter(group=2), today=TODAY)] == [b, c]
    assert [r.ref for r in svc.due(QueueFilter(force="Beta Force"), today=TODAY)] == [b, c]
    assert [r.ref for r in svc.due(QueueFilter(overdue_only=True), today=TODAY)] == [a, p, b]
    assert svc.count(today=TODAY) == 4
    assert [r.ref for r in svc.page(offset=1, limit=2, today=TODAY)] == [p, b]
    # A referral's group is the default (3) until an admin sets another.
    svc.set_group(p, 1, "Public protection matter")
    [moved] = svc.due(QueueFilter(record_type="referral"), today=TODAY)
    assert (moved.group, moved.due) == (1, date(2025, 1, 3))  # 10 years, not 6
    with pytest.raises(ValidationError):
        svc.set_group(p, 7, "no such group")


def test_calendar_shows_retention_reviews(vault: Vault) -> None:
    ref = add_nominal(vault, "CALENDAR", created=date(2019, 3, 10), group=3)
    referral = add_referral(vault, created=date(2020, 3, 12))
    service(vault).table()  # the list is in the vault once the review has been used
    items = CalendarService(vault).items(date(2025, 1, 1), date(2026, 12, 31),
                                         kinds=["retention_review"])
    assert [(i.date, i.kind, i.ref) for i in items] == [
        (date(2025, 3, 10), "retention_review", ref),
        (date(2026, 3, 12), "retention_review", referral),
    ]
    assert items[0].title == "Nominal retention review (MOPI group 3)"


def test_only_admins_run_the_review(vault: Vault) -> None:
    ref = add_nominal(vault, "ROLES", created=date(2015, 1, 1))
    for role in (Role.COORDINATOR, Role.ANALYST, Role.VIEWER):
        acting(vault, role)
        svc = RetentionService(vault)
        with pytest.raises(NotAllowed):
            svc.due()
        with pytest.raises(NotAllowed):
            svc.review(ref)
        with pytest.raises(NotAllowed):
            svc.retain(ref, date(2030, 1, 1), "x")
        with pytest.raises(NotAllowed):
            svc.erase(ref, "x")
    acting(vault, Role.ADMIN, "alice")
    with vault.read() as s:
        assert s.scalar(select(func.count()).select_from(RetentionDecision)) == 0


# --- erasure ----------------------------------------------------------------------------------


def _all_tables(vault: Vault) -> list[str]:
    with vault.read() as s:
        return [r[0] for r in s.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'table'"))]


def _rows_with(vault: Vault, marker: str) -> list[str]:
    """Tables (FTS shadow tables included) holding the marker in any column, read via SQL."""
    hits = []
    with vault.read() as s:
        for name in _all_tables(vault):
            if name == "nominal_search":
                continue  # the virtual table itself; its shadow tables are scanned
            for row in s.execute(text(f'SELECT * FROM "{name}"')):
                blob = " ".join(
                    v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in row)
                if marker in blob.lower():
                    hits.append(name)
                    break
    return hits


def _files(path: Path) -> list[Path]:
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def test_erasing_a_nominal_leaves_nothing_on_disk_and_keeps_links(vault: Vault) -> None:
    info = linked_nominal(vault, MARKER, created=date(2015, 1, 1))
    keeper = add_nominal(vault, "KEEPERVALUE", created=date(2024, 1, 1),
                         notes="Unrelated notes")
    svc = service(vault)
    # The marker is really there before (so the checks below can fail).
    assert {"nominal", "nominal_alias", "contact", "revision"} <= set(_rows_with(vault, MARKER))
    assert "nominal_search_data" in _rows_with(vault, MARKER)
    assert first_page_is_sqlite(vault.path, vault.data_key)
    assert find_in_pages(vault.path, vault.data_key, MARKER)

    review = svc.review(info["ref"], today=TODAY)
    assert dict(review.linked)["Meeting agenda items (kept)"] == 1
    result = svc.erase(info["ref"], "MOPI review: no longer necessary", today=TODAY)
    assert result.placeholder == "ER-000001" and result.wal_cleared
    assert result.removed["contacts"] == 1 and result.removed["aliases"] == 1
    assert result.placeholders == {"agenda_items": 1, "actions": 1, "correspondence": 1,
                                   "referral_subjects": 1}

    # (a) Raw bytes of every vault file: a guard (the files are encrypted, so weak alone).
    for f in _files(vault.path):
        assert MARKER.encode() not in f.read_bytes().lower()
    assert Path(f"{vault.path}-wal").stat().st_size == 0  # checkpointed with TRUNCATE
    # (b) Through SQLite: no table, FTS5 shadow tables included, holds it.
    assert _rows_with(vault, MARKER) == []
    # (c) Every decrypted page of the database and every WAL frame, free pages included.
    assert find_in_pages(vault.path, vault.data_key, MARKER) == []
    # Positive control: a record that was not erased is still readable in the pages.
    assert find_in_pages(vault.path, vault.data_key, "keepervalue")

    with vault.read() as s:
        nid = info["id"]
        row = s.get(Nominal, nid)
        assert row is not None and row.erased and row.dob is None and row.notes is None
        assert f"{row.surname} {row.forenames}" == "Erased record ER-000001"
        assert s.scalar(select(func.count()).select_from(NominalAlias)
                        .where(NominalAlias.nominal_id == nid)) == 0
        assert s.scalar(select(func.count()).select_from(Contact)
                        .where(Contact.nominal_id == nid)) == 0
        # Links from other records are kept, pointing at the placeholder (no broken keys).
        item = s.scalars(select(AgendaItem).where(AgendaItem.nominal_id == nid)).one()
        assert item.title == "Erased record ER-000001"
        assert s.scalars(select(Action).where(Action.nominal_id == nid)).one().ref == \
            info["action"]
        assert s.scalar(select(func.count()).select_from(CorrespondenceNominal)
                        .where(CorrespondenceNominal.nominal_id == nid)) == 1
        assert s.scalar(select(func.count()).select_from(Person)
                        .where(Person.nominal_id == nid)) == 1
        assert list(s.execute(text("PRAGMA foreign_key_check"))) == []
        # The audit says that, who, why and the placeholder, never the ref or the content.
        erasure = s.scalars(select(AuditEntry).where(AuditEntry.category == "erasure")).one()
        assert (erasure.user, erasure.entity, erasure.ref) == ("alice", "erased_record",
                                                               "ER-000001")
        assert erasure.reason == "MOPI review: no longer necessary"
        assert info["ref"] not in erasure.detail and MARKER not in erasure.detail.lower()
        assert json.loads(erasure.detail)["record_type"] == "nominal"
        # Older audit rows keep the ref (append-only); none holds the content.
        assert s.scalar(select(func.count()).select_from(AuditEntry)
                        .where(AuditEntry.ref == info["ref"])) >= 1
        assert s.scalars(select(Revision).where(Revision.entity == "nominal",
                                                Revision.record_id == nid)).one().action == \
            "erase-placeholder"
    assert AuditService(vault).verify().ok
    # Gone from lists, search and the queue; the other records still open.
    acting(vault, Role.COORDINATOR, "carol")
    nominals = NominalService(vault)
    assert [r.ref for r in nominals.page()] == [keeper]
    assert nominals.search(MARKER) == []
    assert svc.placeholder_for(info["ref"]) == "Erased record ER-000001"
    service(vault)
    assert info["ref"] not in [r.ref for r in svc.due(today=TODAY)]
    with pytest.raises(ValidationError):
        svc.erase(info["ref"], "again", today=TODAY)


def test_erasing_a_referral_removes_its_own_records_and_keeps_intelligence(vault: Vault) -> None:
    ref = add_referral(vault, created=date(2015, 1, 1), surname=f"{MARKER}subj",
                       summary=f"Summary {MARKER}", notes=(("Form", f"Note {MARKER}"),))
    from app.domain.prevent import IntelInput
    from app.services.intelligence import IntelligenceService
    from app.services.referrals import parse_referral_ref

    rid = parse_referral_ref(ref)
    acting(vault, Role.ANALYST, "ana")
    IntelligenceService(vault).add(IntelInput("Linked entry (synthetic).", "2", "B", "P",
                                              referral_ids=[rid]), today=date(2016, 1, 1))
    svc = service(vault)
    assert find_in_pages(vault.path, vault.data_key, MARKER)
    result = svc.erase(ref, "MOPI review", today=TODAY)
    assert result.removed["notes"] == 1 and result.removed["subjects"] == 1
    assert result.placeholders == {"intelligence_links": 1}
    assert _rows_with(vault, MARKER) == []
    assert find_in_pages(vault.path, vault.data_key, MARKER) == []
    with vault.read() as s:
        row = s.get(Referral, rid)
        assert row is not None and row.summary == f"Erased record {result.placeholder}"
        assert row.referrer_name == "" and row.stage == "closed"
        assert s.scalar(select(func.count()).select_from(ReferralNote)) == 0
        assert s.scalar(select(func.count()).select_from(IntelReferral)) == 1
        assert list(s.execute(text("PRAGMA foreign_key_check"))) == []
    assert AuditService(vault).verify().ok
    assert ref not in [r.ref for r in svc.due(today=TODAY)]


def test_review_summary_shows_labels_not_codes(vault: Vault) -> None:
    """The record panel names a referral's concern, source and stage as the referral screens
    do (the reference lists' labels), never the stored codes."""
    from app.services.referrals import ReferralService

    ref = add_referral(vault, created=date(2015, 1, 3))
    lists = ReferralService(vault).lists()
    summary = dict(service(vault).review(ref, today=TODAY).summary)
    assert summary["Concern"] == lists.label("concern_types", "extreme_right_wing")
    assert summary["Source"] == lists.label("source_sectors", "education")
    assert summary["Concern"] != "extreme_right_wing" and summary["Source"] != "education"
    assert summary["Stage"] == "New"
    assert summary["Outcome"] == "—"
    for value in summary.values():
        assert "_" not in value, value
