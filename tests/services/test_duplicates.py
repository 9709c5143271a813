"""Duplicate detection on the demo's labelled set, dismissals, and merge safety."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from app.domain.errors import NotAllowed, ValidationError
from app.domain.nominal import Alias, Identifier, IdentifierType, NominalFilter
from app.services import demo
from app.services.audit import AuditService
from app.services.duplicates import DuplicateService, register_merge_hook, unregister_merge_hook
from app.services.nominals import NominalService
from app.store.models import Nominal as NominalTable
from tests.services.test_nominals_support import as_user, person

DEMO_SIZE = 1000


@pytest.fixture(scope="module")
def demo_vault(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A labelled demo vault (nominal step only) opened as a coordinator."""
    from app.security.secrets import MemorySecretStore
    from app.services.vault import create_vault
    from tests.conftest import PASSPHRASE

    store = MemorySecretStore()
    path = tmp_path_factory.mktemp("dups") / "dups.cwv"
    admin, _ = create_vault(path, "alice", PASSPHRASE, bind_to_terminal=False,
                            secret_store=store)
    saved = list(demo.STEPS)
    demo.STEPS[:] = [s for s in saved if s[0] == "nominals"]
    try:
        summary = demo.generate_demo(admin, DEMO_SIZE, seed=11)
    finally:
        demo.STEPS[:] = saved
    coordinator = as_user(admin, path, store, "carol", "coordinator")
    admin.lock()
    DuplicateService(coordinator).scan()
    yield coordinator, summary
    coordinator.lock()


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def test_recall_and_precision_on_the_planted_set(demo_vault) -> None:  # type: ignore[no-untyped-def]
    vault, summary = demo_vault
    found = {_pair(p.a, p.b): p for p in DuplicateService(vault).pairs(limit=10_000)}
    planted = {_pair(a, b): kind for a, b, kind in summary.planted_duplicates}
    assert len(planted) == DEMO_SIZE * 2 // 100
    hits = set(found) & set(planted)
    recall = len(hits) / len(planted)
    precision = len(hits) / len(found)
    missed = sorted(planted[p] for p in set(planted) - hits)
    assert recall >= 0.95, missed
    assert precision >= 0.9
    # Every kind of planted difference is caught.
    assert {planted[p] for p in hits} == set(demo.DUPLICATE_KINDS)
    twins = {_pair(a, b) for a, b, _ in summary.planted_non_duplicates}
    assert twins and not twins & set(found)


def test_pairs_are_best_first_with_plain_reasons(demo_vault) -> None:  # type: ignore[no-untyped-def]
    vault, _summary = demo_vault
    pairs = DuplicateService(vault).pairs()
    scores = [p.score for p in pairs]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert all(p.reasons and all(isinstance(r, str) and r for r in p.reasons) for p in pairs)
    assert all(p.a < p.b for p in pairs)


def test_a_dismissed_pair_stays_dismissed_and_is_audited(demo_vault) -> None:  # type: ignore[no-untyped-def]
    vault, _summary = demo_vault
    service = DuplicateService(vault)
    first = service.pairs(limit=1)[0]
    with pytest.raises(ValidationError):
        service.dismiss(first.a, first.b, reason=" ")
    service.dismiss(first.b, first.a, reason="different fathers' names on the PNC")
    assert _pair(first.a, first.b) not in {_pair(p.a, p.b) for p in service.pairs(limit=10_000)}
    service.scan()
    assert _pair(first.a, first.b) not in {_pair(p.a, p.b) for p in service.pairs(limit=10_000)}
    assert (first.a, first.b) in {(a, b) for a, b, *_ in service.dismissed()}
    rows = [r for r in AuditService_for(vault) if r.action == "duplicates.dismiss"]
    assert {r.ref for r in rows} == {first.a, first.b}
    assert all(r.category == "combination" and r.user == "carol" for r in rows)


def AuditService_for(vault):  # type: ignore[no-untyped-def]  # noqa: N802
    """The audit rows, read as an admin would (the coordinator may not read the log)."""
    from app.domain.roles import Role
    from app.services.vault import Actor

    actor = vault.actor
    vault.actor = Actor("audit-reader", Role.ADMIN)
    try:
        return AuditService(vault).page(limit=100_000)
    finally:
        vault.actor = actor


# --- merge ------------------------------------------------------------------------------------

@pytest.fixture
def coord(vault, vault_path: Path, store):  # type: ignore[no-untyped-def]
    v = as_user(vault, vault_path, store, "carol", "coordinator")
    yield v
    v.lock()


def _two(coord) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    service = NominalService(coord)
    keep = service.add(person("Hussain", "Mohammed", notes=None, establishment=None,
                              aliases=(Alias("Husain", "Mohd", None),))).ref
    drop = service.add(person("Hussein", "Muhammad", pnc="09/123456" + "ZABCDEFGHJKLMNPQRTUVWXY"[
        int("09" + "0123456") % 23], notes="seen in Luton",
        identifiers=(Identifier(IdentifierType.PASSPORT, "123456789"),),
        nominal_manager=None)).ref
    return keep, drop


def test_merge_moves_everything_and_keeps_both_histories(coord, vault) -> None:  # type: ignore[no-untyped-def]
    keep, drop = _two(coord)
    moved: list[tuple[int, int]] = []
    register_merge_hook("test-links", lambda s, k, d: moved.append((k, d)) or 3)
    try:
        result = DuplicateService(coord).merge(keep, drop, {"dob": "drop"},
                                               reason="same person, two spellings")
    finally:
        unregister_merge_hook("test-links")
    assert moved == [(1, 2)]
    assert result.repointed["test-links"] == 3
    assert set(result.repointed) >= {"app.services.merge_links:engagement",
                                     "app.services.merge_links:meetings"}
    service = NominalService(coord)
    kept = service.get(keep)
    assert kept.notes == "seen in Luton"  # keep's was empty: drop's value taken
    assert kept.nominal_manager == "DC Imogen Thursby"  # both had one: keep's wins
    names = {(a.surname, a.forenames) for a in kept.aliases}
    assert {("Husain", "Mohd"), ("Hussein", "Muhammad")} <= names
    kinds = {(i.type, i.value) for i in kept.identifiers}
    assert (IdentifierType.PASSPORT, "123456789") in kinds
    assert any(t is IdentifierType.PNC for t, _ in kinds)  # drop's other PNC is kept
    gone = service.get(drop)
    assert gone.merged_into == keep
    assert gone.surname == "Hussein"  # never deleted
    assert service.count() == 1
    assert [r.ref for r in service.search("hussein muhammad")] == [keep]
    assert service.count(NominalFilter(text="seen")) == 0
    keep_history = service.history(keep)
    assert any(h.action == "merge" and h.field == "merged_from" and h.new == drop
               for h in keep_history)
    assert any(h.action == "create" for h in keep_history)
    drop_history = service.history(drop)
    assert any(h.field == "merged_into" and h.new == keep for h in drop_history)
    assert any(h.action == "create" for h in drop_history)
    rows = [r for r in AuditService(vault).page() if r.category == "combination"]
    assert {r.ref for r in rows} == {keep, drop}
    assert all(r.reason == "same person, two spellings" for r in rows)
    assert rows[0].detail["fields_from_drop"]


def test_merge_refuses_bad_requests(coord) -> None:  # type: ignore[no-untyped-def]
    keep, drop = _two(coord)
    service = DuplicateService(coord)
    with pytest.raises(ValidationError, match="itself"):
        service.merge(keep, keep)
    with pytest.raises(ValidationError):
        service.merge(keep, drop, {"colour": "keep"})
    with pytest.raises(ValidationError):
        service.merge(keep, drop, {"dob": "both"})
    third = NominalService(coord).add(person("Begum", "Ayesha")).ref
    service.merge(keep, drop)
    with pytest.raises(ValidationError, match="already merged"):
        service.merge(third, drop)
    with pytest.raises(ValidationError, match="already merged"):
        service.merge(drop, third)


def test_a_failing_hook_leaves_nothing_changed(coord) -> None:  # type: ignore[no-untyped-def]
    keep, drop = _two(coord)

    def broken(_s, _k, _d):  # type: ignore[no-untyped-def]
        raise ValidationError("links", "cannot re-point")

    register_merge_hook("broken", broken)
    try:
        with pytest.raises(ValidationError):
            DuplicateService(coord).merge(keep, drop)
    finally:
        unregister_merge_hook("broken")
    service = NominalService(coord)
    assert service.count() == 2
    assert service.get(drop).merged_into is None
    assert service.get(drop).identifiers != ()
    with coord.read() as s:
        assert s.scalar(select(NominalTable.merged_into_id).where(NominalTable.id == 2)) is None


def test_dismissals_follow_a_merge(coord) -> None:  # type: ignore[no-untyped-def]
    keep, drop = _two(coord)
    other = NominalService(coord).add(person("Hussain", "Mohammed", dob=date(1990, 4, 2))).ref
    service = DuplicateService(coord)
    service.dismiss(drop, other, reason="twin brother")
    service.merge(keep, drop)
    assert (keep, other, "twin brother") in {(a, b, r) for a, b, r, *_ in service.dismissed()}


def test_only_coordinators_merge_or_dismiss(vault) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotAllowed):
        DuplicateService(vault).merge("NM-1", "NM-2")
    with pytest.raises(NotAllowed):
        DuplicateService(vault).dismiss("NM-1", "NM-2", "x")


def test_compare_offers_the_default_choices(coord) -> None:  # type: ignore[no-untyped-def]
    keep, drop = _two(coord)
    lines = {c.field: c for c in DuplicateService(coord).compare(keep, drop)}
    assert lines["notes"].default == "drop"
    assert lines["surname"].default == "keep" and not lines["surname"].same
    assert lines["dob"].same


def test_merge_moves_linked_contacts_to_the_kept_record(coord) -> None:  # type: ignore[no-untyped-def]
    """Contacts logged against the dropped record follow it to the kept one (real hooks)."""
    from datetime import datetime

    from app.services.engagement import EngagementService

    keep, drop = _two(coord)
    engagement = EngagementService(coord)
    engagement.log_contact(drop, datetime(2026, 11, 2, 10, 0), "home_visit", "DC Imogen Thursby",
                           "made", notes="visit before the merge")
    assert engagement.contacts(drop)
    result = DuplicateService(coord).merge(keep, drop, reason="same person")
    assert result.repointed["app.services.merge_links:engagement"] == 1
    notes = [c.notes for c in engagement.contacts(keep)]
    assert "visit before the merge" in notes
    with pytest.raises(ValidationError, match="merged into another record"):
        engagement.contacts(drop)
