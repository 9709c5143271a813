"""Nominal records through the service: validation, revisions, audit, list API and search."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from app.domain.errors import NotAllowed, NotFound
from app.domain.nominal import (
    Alias,
    Identifier,
    IdentifierType,
    LicenceDates,
    NominalFilter,
    NominalInvalid,
    Severity,
    SortKey,
    Status,
    parse_nominals_json,
    validate_nominal,
)
from app.services.audit import AuditService
from app.services.nominals import NominalService
from tests.services.test_nominals_support import as_user, person

TODAY = date(2026, 6, 1)


@pytest.fixture
def coord(vault, vault_path: Path, store):  # type: ignore[no-untyped-def]
    v = as_user(vault, vault_path, store, "carol", "coordinator")
    yield v
    v.lock()


@pytest.fixture
def service(coord) -> NominalService:  # type: ignore[no-untyped-def]
    return NominalService(coord)


@pytest.fixture(scope="module")
def filled(tmp_path_factory):  # type: ignore[no-untyped-def]
    """One filled vault for the many read-only search cases (vaults are slow to make)."""
    from app.security.secrets import MemorySecretStore
    from app.services.vault import create_vault
    from tests.conftest import PASSPHRASE

    store = MemorySecretStore()
    path = tmp_path_factory.mktemp("search") / "search.cwv"
    admin, _ = create_vault(path, "alice", PASSPHRASE, bind_to_terminal=False,
                            secret_store=store)
    coordinator = as_user(admin, path, store, "carol", "coordinator")
    admin.lock()
    _fill(NominalService(coordinator))
    yield NominalService(coordinator)
    coordinator.lock()


# --- validation ---------------------------------------------------------------------------------

def test_validation_reports_every_problem_with_its_field() -> None:
    record = person(
        dob=date(2027, 1, 1),
        pnc="2009/0123456Z",
        mappa_category=7,
        release_date=date(2010, 1, 1),
        dates=LicenceDates(sentence_date=date(2012, 3, 1), crd=date(2015, 1, 1),
                           led=date(2014, 1, 1)),
        aliases=(Alias("", "", date(1850, 1, 1)),),
    )
    problems = {(p.field, p.severity) for p in validate_nominal(record, TODAY)}
    assert ("dob", Severity.ERROR) in problems
    assert ("pnc", Severity.WARNING) in problems  # wrong check letter warns, does not block
    assert ("mappa_category", Severity.ERROR) in problems
    assert ("release_date", Severity.ERROR) in problems  # before the sentence date
    assert ("dates.led", Severity.ERROR) in problems  # LED before CRD
    assert ("aliases[0].surname", Severity.ERROR) in problems
    assert ("aliases[0].dob", Severity.ERROR) in problems


def test_unparseable_pnc_is_an_error_and_missing_mandatory_fields_warn() -> None:
    record = person(pnc="not a pnc", force=None, nominal_manager=" ")
    by_field = {p.field: p for p in validate_nominal(record, TODAY)}
    assert by_field["pnc"].severity is Severity.ERROR
    assert by_field["force"].severity is Severity.WARNING
    assert by_field["nominal_manager"].severity is Severity.WARNING


def test_json_input_names_the_field_and_item() -> None:
    good = {"surname": "Evans", "forenames": "Bethan", "dob": "1988-02-03"}
    items = [good, good, good, {**good, "dob": "1990-02-30"}, {**good, "colour": "red"},
             {**good, "status": "jailed", "mappa_level": "2"}]
    _records, problems = parse_nominals_json(items, TODAY)
    messages = {str(p) for p in problems if p.severity is Severity.ERROR}
    assert "nominals[3].dob: not a real date" in messages
    assert "nominals[4].colour: is not a field of a nominal" in messages
    assert any(m.startswith("nominals[5].status: must be one of") for m in messages)
    assert any(m.startswith("nominals[5].mappa_level: must be a whole number") for m in messages)


def test_a_single_object_uses_plain_field_names() -> None:
    _records, problems = parse_nominals_json({"surname": "Evans", "dob": "01/02/1990"}, TODAY)
    assert [str(p) for p in problems] == ["dob: must be a date written YYYY-MM-DD"]


# --- writing, revisions, audit ------------------------------------------------------------------

def test_add_assigns_refs_and_keeps_a_create_revision(service: NominalService) -> None:
    result = service.add(person(), reason="transfer from another region")
    assert result.ref == "NM-000001"
    assert result.warnings == ()
    again = service.add(person("Vaughan", "Siân"))
    assert again.ref == "NM-000002"
    history = service.history("NM-1")
    fields = {h.field: h for h in history}
    assert fields["surname"].old is None and fields["surname"].new == "Pritchard"
    assert {h.action for h in history} == {"create"}
    assert {h.user for h in history} == {"carol"}
    assert history[0].reason == "transfer from another region"


def test_update_records_old_and_new_per_field(service: NominalService) -> None:
    ref = service.add(person()).ref
    record = service.get(ref)
    changed = replace(record, status=Status.CUSTODY, establishment="HMP Garth",
                      release_date=date(2030, 1, 1),
                      identifiers=(Identifier(IdentifierType.NOMIS, "A1234BC"),))
    service.update(ref, changed, reason="recalled")
    updates = [h for h in service.history(ref) if h.action == "update"]
    by_field = {h.field: (h.old, h.new) for h in updates}
    assert by_field["status"] == ("community", "custody")
    assert by_field["establishment"] == (None, "HMP Garth")
    assert by_field["identifiers"] == ([], [["nomis", "A1234BC"]])
    assert {h.reason for h in updates} == {"recalled"}
    assert service.get(ref).identifiers == (Identifier(IdentifierType.NOMIS, "A1234BC"),)


def test_saving_without_changes_adds_no_revision(service: NominalService) -> None:
    ref = service.add(person()).ref
    before = len(service.history(ref))
    service.update(ref, service.get(ref))
    assert len(service.history(ref)) == before


def test_invalid_record_is_refused_and_nothing_is_stored(service: NominalService) -> None:
    with pytest.raises(NominalInvalid) as info:
        service.add_many([person(), person(dob=date(1850, 1, 1))])
    assert info.value.field == "nominals[1].dob"
    assert info.value.exit_code == 5
    assert service.count() == 0


def test_opening_a_record_is_audited_as_consultation(coord, service: NominalService,
                                                     vault) -> None:  # type: ignore[no-untyped-def]
    ref = service.add(person()).ref
    service.get(ref, purpose="prepare TTCG briefing")
    rows = AuditService(vault).page()
    consult = [r for r in rows if r.category == "consultation" and r.ref == ref]
    assert consult and consult[0].reason == "prepare TTCG briefing"
    assert consult[0].user == "carol"
    collected = [r for r in rows if r.category == "collection" and r.ref == ref]
    assert collected and collected[0].action == "nominal.add"
    # No record data in the audit detail: only field names.
    service.update(ref, replace(service.get(ref), notes="met at probation office"))
    alteration = [r for r in AuditService(vault).page() if r.category == "alteration"]
    assert alteration[0].detail == {"fields": ["notes"]}
    assert "probation" not in json.dumps([r.as_json() for r in AuditService(vault).page()])


def test_roles_viewer_reads_but_cannot_write(vault, vault_path: Path, store) -> None:  # type: ignore[no-untyped-def]
    coordinator = as_user(vault, vault_path, store, "carol", "coordinator")
    ref = NominalService(coordinator).add(person()).ref
    coordinator.lock()
    viewer = as_user(vault, vault_path, store, "vic", "viewer")
    try:
        service = NominalService(viewer)
        assert service.get(ref).surname == "Pritchard"
        with pytest.raises(NotAllowed):
            service.add(person())
        with pytest.raises(NotAllowed):
            NominalService(vault).add(person())  # admin reads, coordinators write
    finally:
        viewer.lock()


def test_unknown_ref_is_not_found(service: NominalService) -> None:
    with pytest.raises(NotFound):
        service.get("NM-999999")
    with pytest.raises(NotFound):
        service.history("rubbish")


# --- the list API -------------------------------------------------------------------------------

def _fill(service: NominalService) -> None:
    service.add_many([
        person("Wiśniewski", "Łukasz", dob=date(1985, 7, 9), pnc=None,
               status=Status.CUSTODY, establishment="HMP Belmarsh",
               release_date=date(2031, 1, 1), force="Metropolitan Police Service"),
        person("ap Dafydd", "Llŷr", dob=date(1979, 12, 24), pnc=None,
               nominal_manager="DS Osian Trevelyan", force="South Wales Police"),
        person("Al-Hassan", "Mohammed Abdul Rahman", dob=date(1992, 1, 5), pnc="09/123456" +
               "ZABCDEFGHJKLMNPQRTUVWXY"[int("09" + "0123456") % 23],
               aliases=(Alias("Hasan", "Muhammad", date(1992, 5, 1)),)),
        person("O'Brien", "Seán", dob=date(1970, 3, 3), pnc=None, risk_level=None),
    ])


def test_count_page_sort_and_filter(service: NominalService) -> None:
    _fill(service)
    assert service.count() == 4
    names = [r.surname for r in service.page(sort_key=SortKey.NAME)]
    assert names == ["Al-Hassan", "ap Dafydd", "O'Brien", "Wiśniewski"]  # folded, case-blind
    by_dob = [r.surname for r in service.page(sort_key="dob", descending=True)]
    assert by_dob == ["Al-Hassan", "Wiśniewski", "ap Dafydd", "O'Brien"]
    assert [r.ref for r in service.page(offset=1, limit=2)] == ["NM-000002", "NM-000004"]
    custody = NominalFilter(status="custody")
    assert service.count(custody) == 1
    assert service.page(custody)[0].establishment == "HMP Belmarsh"
    wales = NominalFilter(force="South Wales Police", nominal_manager="DS Osian Trevelyan")
    assert [r.surname for r in service.page(wales)] == ["ap Dafydd"]
    assert service.distinct_values("force") == [
        "Metropolitan Police Service", "South Wales Police", "Thames Valley Police"]
    assert service.distinct_values("status") == ["community", "custody"]
    risky = service.page(sort_key=SortKey.RISK, descending=True)
    assert risky[-1].surname == "O'Brien"  # no risk level sorts last when descending


def test_filter_and_search_combine_in_sql(service: NominalService) -> None:
    _fill(service)
    flt = NominalFilter(text="muhammad", force="Thames Valley Police")
    assert service.count(flt) == 1
    assert [r.surname for r in service.page(flt)] == ["Al-Hassan"]
    assert service.count(NominalFilter(text="\"*")) == 0
    assert service.page(NominalFilter(text="\"*")) == []


# --- search -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("query", "surname"),
    [
        ("wisniewski lukasz", "Wiśniewski"),  # Polish diacritics and ł
        ("lukasz wisniewski", "Wiśniewski"),  # either order
        ("WIŚNIEW", "Wiśniewski"),  # prefix while typing
        ("llyr ap dafydd", "ap Dafydd"),  # Welsh: circumflex, particle
        ("Dafydd Llŷr", "ap Dafydd"),
        ("Mohamed Al Hassan", "Al-Hassan"),  # Arabic-origin transliteration and article
        ("Muhammad Abdulrahman", "Al-Hassan"),
        ("hassan", "Al-Hassan"),
        ("Hasan Muhammad", "Al-Hassan"),  # an alias
        ("obrien sean", "O'Brien"),  # apostrophe and fada
        ("O Brien", "O'Brien"),
        ("2009/0123456", "Al-Hassan"),  # PNC as typed so far
        ("09/123456", "Al-Hassan"),
        ("NM-3", "Al-Hassan"),  # ref
        ("nm000003", "Al-Hassan"),
        ("05/01/1992", "Al-Hassan"),  # dob, UK style
        ("1992-01-05", "Al-Hassan"),  # dob, ISO
        ("01/05/1992", "Al-Hassan"),  # the alias's dob
        ("Dafydd 1979-12-24", "ap Dafydd"),  # name and dob
    ],
)
def test_search_folds_names_and_reads_identifiers(filled: NominalService, query: str,
                                                  surname: str) -> None:
    found = [r.surname for r in filled.search(query)]
    assert surname in found, query
    assert len(found) == 1, (query, found)


def test_search_pnc_in_any_written_form(filled: NominalService) -> None:
    service = filled
    record = service.get("NM-3")
    assert record.pnc is not None
    letter = record.pnc[-1]
    for form in (f"2009/0123456{letter}", f"09/123456{letter.lower()}",
                 f"2009 0123456 {letter}", f"090123456{letter}"):
        assert [r.ref for r in service.search(form)] == ["NM-000003"], form


@pytest.mark.parametrize(
    "query",
    ['"', '""', "*", "**", "NEAR(", "NEAR(a b)", "AND OR NOT", "'; DROP TABLE nominal; --",
     "(", ")", "a OR", "^", "col:val", "keys:smith", "-", "+", "{a b}", "\x00", "\u202e",
     "x" * 5000, "Мухаммед", "محمد", "李", "😀", "   ", ""],
)
def test_hostile_search_input_never_breaks_a_query(filled: NominalService, query: str) -> None:
    service = filled
    rows = service.search(query)
    assert isinstance(rows, list)
    assert service.count(NominalFilter(text=query)) == len(service.page(NominalFilter(text=query)))
    assert service.count() == 4  # and nothing was dropped


def test_search_hides_nothing_it_should_find_after_an_update(service: NominalService) -> None:
    ref = service.add(person()).ref
    service.update(ref, replace(service.get(ref), surname="Llewellyn"))
    assert [r.ref for r in service.search("llewellyn")] == [ref]
    assert service.search("pritchard") == []


def test_operators_in_names_are_searched_as_text(service: NominalService) -> None:
    service.add(person("Near", "Andor"))
    assert [r.surname for r in service.search("near andor")] == ["Near"]
    assert [r.surname for r in service.search("NEAR(")] == ["Near"]


