"""Reconciliation against generated messy national lists: every category exactly as planted,
hostile files refused with nothing changed, saved runs, decisions and the corrections return."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from app.domain.errors import BadInput, NotAllowed, ValidationError
from app.io.national_import import ImportCancelled
from app.security.secrets import MemorySecretStore
from app.services.audit import AuditService
from app.services.exports import ExportService, known_returns
from app.services.reconcile import (
    DIFFERENCES,
    MATCHED,
    ONLY_NATIONAL,
    ONLY_REGIONAL,
    POSSIBLE,
    ReconcileService,
    load_value_rules,
)
from app.services.users import UserService
from app.services.vault import Vault, unlock_vault
from app.store.models import AuditEntry, Revision
from tests.conftest import PASSPHRASE
from tests.io.test_national_import import (
    _BILLION_LAUGHS,
    _HEADER_ROW,
    _SHEET_HEAD,
    _SHEET_TAIL,
    _hand_xlsx,
    _inline_row,
)
from tests.services.test_reconcile_support import (
    Planted,
    make_regional_vault,
    plant_national_list,
    regional_rows,
    vault_fingerprint,
)

SIZE = 1000


@pytest.fixture(scope="module")
def regional(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vault]:
    """A 1,000-record demo vault (planted duplicates merged), as coordinator carol."""
    folder = tmp_path_factory.mktemp("reconcile")
    vault = make_regional_vault(folder, SIZE, seed=11, store=MemorySecretStore())
    yield vault
    vault.lock()


def _check_against_truth(result: Any, planted: Planted) -> float:
    """Assert every category is what was planted; returns the possible-match recall."""
    counts = result.counts()
    by_row = {r.row: r for r in result.rows}
    assert counts == {
        "national_rows": len(planted.listed.record_rows),
        "matched": planted.matched,
        "field_differences": len(planted.differences),
        "only_national": planted.extras,
        "only_regional": len(planted.omitted),
        "possible_matches": len(planted.lookalikes),
    }
    found = 0
    for row, ref in planted.ref_by_row.items():
        got = by_row[row]
        if ref in planted.differences:
            assert got.kind == DIFFERENCES and got.ref == ref
            assert {d.field for d in got.differences} == planted.differences[ref], row
            for d in got.differences:
                assert d.heading and d.national != d.regional
        elif ref in planted.lookalikes:
            assert got.kind == POSSIBLE and got.ref is None
            assert all(c.reasons for c in got.candidates)
            found += ref in [c.ref for c in got.candidates]
        else:
            assert got.kind == MATCHED and got.ref == ref, (row, ref, got)
    assert {o.ref for o in result.only_regional} == set(planted.omitted)
    extra_rows = set(planted.listed.record_rows) - set(planted.ref_by_row)
    assert {r.row for r in result.rows if r.kind == ONLY_NATIONAL} == extra_rows
    # Junk rows (totals, notes, repeated headers, formulas) are reported with their numbers.
    assert sorted({r.row for r in result.rejected if r.dropped}) == planted.listed.junk_rows
    assert all(r.error for r in result.rejected)
    return found / len(planted.lookalikes)


@pytest.mark.parametrize(("fmt", "seed", "options"), [
    ("xlsx", 1, {"title_rows": 3}),
    ("xlsx", 2, {"combined_name": True, "title_rows": 0}),
    ("csv", 3, {"encoding": "utf-8-sig", "title_rows": 2}),
    ("csv", 4, {"encoding": "utf-8", "delimiter": ";", "combined_name": True}),
])
def test_every_category_is_exactly_what_was_planted(
    regional: Vault, tmp_path: Path, fmt: str, seed: int, options: dict[str, Any]
) -> None:
    planted = plant_national_list(regional, tmp_path / f"national.{fmt}", seed=seed,
                                  omissions=12, extras=9, differences=20, lookalikes=21,
                                  **options)
    assert planted.cosmetic > 100  # many rows write force, status, risk... the hub's way
    result = ReconcileService(regional).run(planted.listed.path)
    recall = _check_against_truth(result, planted)
    assert recall >= 0.9
    # The three kinds of look-alike are all among the planted possible matches.
    assert set(planted.lookalikes.values()) == {"transliteration", "swapped", "dob_swapped"}


def test_reasons_explain_each_kind_of_lookalike(regional: Vault, tmp_path: Path) -> None:
    planted = plant_national_list(regional, tmp_path / "n.xlsx", seed=7, lookalikes=12)
    result = ReconcileService(regional).run(planted.listed.path)
    rows = {planted.ref_by_row[r.row]: r for r in result.rows if r.row in planted.ref_by_row}
    wanted = {"transliteration": "transliteration variants", "swapped": "swapped",
              "dob_swapped": "day and month swapped"}
    for ref, kind in planted.lookalikes.items():
        candidate = next(c for c in rows[ref].candidates if c.ref == ref)
        assert any(wanted[kind] in reason for reason in candidate.reasons), candidate


def test_the_run_reads_only_and_twice_gives_the_same_result(regional: Vault,
                                                            tmp_path: Path) -> None:
    planted = plant_national_list(regional, tmp_path / "n.xlsx", seed=9)
    before = vault_fingerprint(regional)
    service = ReconcileService(regional)
    first = service.run(planted.listed.path)
    second = service.run(planted.listed.path)
    assert vault_fingerprint(regional) == before
    assert json.dumps(first.as_json()) == json.dumps(second.as_json())
    assert first.rows == second.rows and first.only_regional == second.only_regional
    assert first.source_sha256 == second.source_sha256 and len(first.source_sha256) == 64
    assert set(first.as_json()) == {"national_rows", "matched", "field_differences",
                                    "only_national", "only_regional", "possible_matches",
                                    "rejected_rows"}
    assert all(set(r) == {"row", "column", "error"} for r in first.as_json()["rejected_rows"])


def _hostile_files(folder: Path) -> dict[str, Path]:
    files = {
        "xml bomb": _hand_xlsx(folder / "bomb.xlsx", _BILLION_LAUGHS),
        "zip bomb": _hand_xlsx(folder / "zb.xlsx", _SHEET_HEAD + _HEADER_ROW + _SHEET_TAIL,
                               extra={"xl/media/image1.png": bytes(8 * 1024 * 1024)}),
    }
    not_xlsx = folder / "list.xlsx"
    not_xlsx.write_bytes(b"%PDF-1.7 this is not a spreadsheet")
    files["not xlsx"] = not_xlsx
    renamed = folder / "notes.xlsx"
    renamed.write_text("Surname,DOB\nSmith,01/01/1990\n", encoding="utf-8")
    files["text named xlsx"] = renamed
    with zipfile.ZipFile(folder / "doc.xlsx", "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w/>")
    files["word document"] = folder / "doc.xlsx"
    return files


def test_hostile_files_are_refused_and_nothing_changes(regional: Vault, tmp_path: Path) -> None:
    before = vault_fingerprint(regional)
    for what, path in _hostile_files(tmp_path).items():
        with pytest.raises(BadInput) as caught:
            ReconcileService(regional).run(path)
        assert path.name in str(caught.value), what
    assert vault_fingerprint(regional) == before


def test_formulas_in_cells_are_read_as_text_never_evaluated(regional: Vault,
                                                            tmp_path: Path) -> None:
    person = regional_rows(regional)[0]
    sheet = (_SHEET_HEAD + _inline_row(1, "Surname", "Forename", "DOB", "Force")
             + _inline_row(2, person["surname"], person["forenames"],
                           person["dob"].strftime("%d/%m/%Y"), "Met")
             + '<row r="3"><c r="A3"><f>HYPERLINK("http://example.invalid","x")</f><v>x</v>'
             + '</c><c r="B3" t="inlineStr"><is><t>Omar</t></is></c></row>'
             + '<row r="4"><c r="A4" t="inlineStr"><is><t>Smith</t></is></c>'
             + '<c r="B4"><f>1+1</f><v>2</v></c>'
             + '<c r="D4" t="inlineStr"><is><t>=cmd|\' /C calc\'!A0</t></is></c></row>'
             + _SHEET_TAIL)
    path = _hand_xlsx(tmp_path / "formulas.xlsx", sheet)
    before = vault_fingerprint(regional)
    result = ReconcileService(regional).run(path)
    assert vault_fingerprint(regional) == before
    rejected = {(r.row, r.column): r.error for r in result.rejected}
    assert "formula" in rejected[(3, "Surname")]
    assert "formula" in rejected[(4, "Forename")] and "formula" in rejected[(4, "Force")]
    row4 = next(r for r in result.rows if r.row == 4)
    assert "forenames" not in row4.national and "force" not in row4.national
    assert next(r for r in result.rows if r.row == 2).kind in (MATCHED, DIFFERENCES)


def test_cancel_stops_the_run(regional: Vault, tmp_path: Path) -> None:
    planted = plant_national_list(regional, tmp_path / "n.csv", seed=3, encoding="utf-8")
    seen: list[tuple[int, int]] = []
    with pytest.raises(ImportCancelled):
        ReconcileService(regional).run(planted.listed.path, progress=lambda d, t: seen.append(
            (d, t)), cancelled=lambda: len(seen) > 2)
    assert seen and all(t == 1000 for _d, t in seen)


def test_only_a_coordinator_may_reconcile(regional: Vault, tmp_path: Path) -> None:
    planted = plant_national_list(regional, tmp_path / "n.xlsx", seed=5)
    path = regional.path
    store = regional.secret_store
    for name, role in (("vic", "viewer"), ("ann", "analyst")):
        admin = unlock_vault(path, "alice", PASSPHRASE, secret_store=store)
        UserService(admin).add_user(name, role, PASSPHRASE)
        admin.lock()
        other = unlock_vault(path, name, PASSPHRASE, secret_store=store)
        with pytest.raises(NotAllowed):
            ReconcileService(other).run(planted.listed.path)
        other.lock()


def test_value_rules_read_the_two_lists_alike(regional: Vault) -> None:
    from app.services.reconcile import _pnc_keys, _same

    rules = load_value_rules()
    same = [("force", "METROPOLITAN POLICE", "Metropolitan Police Service"),
            ("force", "MPS", "Metropolitan Police Service"),
            ("force", "Avon & Somerset", "Avon and Somerset Constabulary"),
            ("force", "gwent", "Gwent Police"),
            ("status", "On licence", "community"), ("status", "IN CUSTODY", "custody"),
            ("risk_level", "H", "high"), ("risk_level", "Amber", "medium"),
            ("gender", "Male", "M"), ("establishment", "Belmarsh", "HMP Belmarsh"),
            ("establishment", "HMP/YOI Fenwick", "Fenwick"),
            ("nominal_manager", "Imogen Thursby", "DC Imogen Thursby"),
            ("surname", "O'BRIEN", "OBrien"), ("forenames", "Seán", "Sean"),
            ("mappa_category", "Cat 4", 4), ("pnc", "01/123456f", "2001/0123456F"),
            ("cro", "12345/99A", "012345/99A")]
    for name, theirs, ours in same:
        assert _same(name, theirs, ours, rules), (name, theirs, ours)
    different = [("force", "West Midlands Police", "Metropolitan Police Service"),
                 ("status", "Custody", "community"), ("risk_level", "Low", "high"),
                 ("surname", "Mohammed", "Muhammad"), ("pnc", "2001/0123456F", None),
                 ("establishment", "HMP Belmarsh", None)]
    for name, theirs, ours in different:
        assert not _same(name, theirs, ours, rules), (name, theirs, ours)
    assert _pnc_keys("201017416G") == ("2010/0017416G", "2020/1017416G")


# --- saved runs, decisions and the corrections return ------------------------------------------


def _audit_rows(vault: Vault, since: int) -> list[AuditEntry]:
    with vault.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.id > since)
                              .order_by(AuditEntry.id)))


def _last_audit_id(vault: Vault) -> int:
    with vault.read() as s:
        return int(s.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0)


def test_save_resume_decide_and_return(regional: Vault, tmp_path: Path) -> None:
    planted = plant_national_list(regional, tmp_path / "national.xlsx", seed=21,
                                  title_rows=2, combined_name=False)
    service = ReconcileService(regional)
    result = service.run(planted.listed.path)
    start = _last_audit_id(regional)
    run_id = service.save(result)
    saved = _audit_rows(regional, start)
    assert [(a.category, a.action) for a in saved] == [("combination", "reconcile.save")]
    assert json.loads(saved[0].detail)["sha256"] == result.source_sha256

    # Resume: the run is listed with its counts, and each tab pages through its category.
    summary = service.runs()[0]
    assert summary.id == run_id and summary.source_name == "national.xlsx"
    assert summary.counts[DIFFERENCES] == len(planted.differences)
    assert summary.counts[POSSIBLE] == len(planted.lookalikes)
    assert summary.counts[ONLY_REGIONAL] == len(planted.omitted)
    assert summary.open_differences == sum(len(f) for f in planted.differences.values())
    assert service.count(run_id, MATCHED) == planted.matched
    page = service.items(run_id, MATCHED, 0, 50) + service.items(run_id, MATCHED, 50, 50)
    assert len({i.id for i in page}) == 100
    assert [i.national_row for i in page] == sorted(i.national_row or 0 for i in page)

    diffs = service.items(run_id, DIFFERENCES, 0, 1000)
    first = service.item(diffs[0].id)
    changed = {line.field for line in first.lines if line.differs}
    assert changed == {d.field for d in first.differences}
    assert all(line.heading for line in first.lines if line.differs)

    # "Update ours": an audited alteration with the reconciliation as its reason.
    item = next(d for d in diffs if any(
        f in planted.differences[d.ref or ""] for f in ("force", "status", "risk_level")))
    detail = service.item(item.id)
    difference = next(d for d in detail.differences
                      if d.field in ("force", "status", "risk_level"))
    start = _last_audit_id(regional)
    after = service.decide(item.id, difference.field, "update_ours")
    line = next(x for x in after.lines if x.field == difference.field)
    assert not line.differs and line.decision == "update_ours"
    audit = _audit_rows(regional, start)
    alteration = [a for a in audit if a.category == "alteration"]
    assert len(alteration) == 1 and alteration[0].ref == item.ref
    assert alteration[0].reason.startswith("Reconciliation with national list national.xlsx")
    with regional.read() as s:
        revision = s.scalars(select(Revision).where(Revision.entity == "nominal")
                             .order_by(Revision.id.desc()).limit(1)).one()
    assert difference.field in json.loads(revision.changes)
    with pytest.raises(ValidationError):
        service.decide(item.id, difference.field, "ours_right")

    # The other two choices change no record.
    others = [(d.id, f) for d in diffs if d.id != item.id
              for f in (x.field for x in service.item(d.id).differences)]
    before = vault_fingerprint(regional)
    service.decide(others[0][0], others[0][1], "ours_right")
    service.decide(others[1][0], others[1][1], "query_hub")
    assert vault_fingerprint(regional)[1] == before[1]
    with pytest.raises(ValidationError):
        service.decide(others[0][0], "offence-not-a-difference", "ours_right")

    # Possible matches: confirm one, reject every candidate of another, then reopen.
    possibles = service.items(run_id, POSSIBLE, 0, 1000)
    confirmed = possibles[0]
    truth = planted.ref_by_row[confirmed.national_row or 0]
    service.confirm(confirmed.id, truth)
    assert service.item(confirmed.id).kind in (MATCHED, DIFFERENCES)
    rejected = possibles[1]
    for c in service.item(rejected.id).candidates:
        service.reject(rejected.id, c.ref)
    assert service.item(rejected.id).kind == ONLY_NATIONAL
    assert service.reopen(rejected.id).kind == POSSIBLE
    for c in service.item(rejected.id).candidates:
        service.reject(rejected.id, c.ref)

    # Resume from a fresh service: the decisions are still there.
    again = ReconcileService(regional).summary(run_id)
    assert again.decided >= 4 and again.counts[POSSIBLE] == len(planted.lookalikes) - 2

    # The corrections return, from the saved run.
    out = tmp_path / "corrections.xlsx"
    start = _last_audit_id(regional)
    done = service.export_corrections(run_id, out, recipient="National CT hub",
                                      justification="Monthly headcount reconciliation")
    assert out.exists() and out.with_name("corrections.xlsx.sha256").exists()
    disclosure = [a for a in _audit_rows(regional, start) if a.category == "disclosure"]
    assert len(disclosure) == 1 and disclosure[0].recipient == "National CT hub"
    assert json.loads(disclosure[0].detail)["sha256"] == done.sha256
    book = openpyxl.load_workbook(out, read_only=True)
    assert book.sheetnames == ["Cover", "Summary", "Corrections", "People to add",
                               "Remove or query", "Possible matches", "Not read"]
    corrections = list(book["Corrections"].iter_rows(min_row=3, values_only=True))
    assert all(isinstance(r[0], int) and r[0] in planted.listed.record_rows
               for r in corrections)
    headings = set(planted.listed.columns.values())
    assert {r[2] for r in corrections} <= headings
    actions = {r[5] for r in corrections}
    assert "Please correct: the regional record is right" in actions
    assert "Query: please check with the region" in actions
    assert "Not yet reviewed by the region" in actions
    assert not any(r[1] == item.ref and r[2] == difference.heading for r in corrections)
    to_add = list(book["People to add"].iter_rows(min_row=2, max_row=2, values_only=True))[0]
    assert to_add[0] == "Regional ref" and set(to_add[1:]) <= headings
    added = {r[0] for r in book["People to add"].iter_rows(min_row=3, values_only=True)}
    assert set(planted.omitted) <= added
    remove = list(book["Remove or query"].iter_rows(min_row=3, values_only=True))
    assert len(remove) == planted.extras + 1  # the row whose candidates were all rejected
    unresolved = list(book["Possible matches"].iter_rows(min_row=3, values_only=True))
    assert {r[0] for r in unresolved} == {
        p.national_row for p in possibles[2:]}
    book.close()


def test_the_corrections_return_is_registered(regional: Vault, tmp_path: Path) -> None:
    assert "corrections" in [d.name for d in known_returns()]
    plan = plant_national_list(regional, tmp_path / "n.xlsx", seed=31)
    ReconcileService(regional).save(ReconcileService(regional).run(plan.listed.path))
    done = ExportService(regional).export_return(
        "corrections", tmp_path / "c.xlsx", recipient="Hub", justification="Monthly")
    assert done.path.exists() and done.what == "corrections"
    assert any(d.action == "export.corrections" for d in AuditService(regional).disclosures())


def test_a_return_from_memory_lists_every_difference_unreviewed_and_safely(
    regional: Vault, tmp_path: Path
) -> None:
    planted = plant_national_list(regional, tmp_path / "n.csv", seed=41, encoding="utf-8")
    text = planted.listed.path.read_text(encoding="utf-8")
    # A value that a spreadsheet would take for a formula, on a planted difference's row.
    ref = next(iter(planted.differences))
    row = next(r for r, x in planted.ref_by_row.items() if x == ref)
    lines = text.split("\n")
    delimiter = planted.listed.delimiter or ","
    heading = planted.listed.columns["nominal_manager"]
    header = lines[planted.listed.header_row - 1].split(delimiter)
    cells = lines[row - 1].split(delimiter)
    cells[header.index(heading)] = "+DC Orla Quennell"
    lines[row - 1] = delimiter.join(cells)
    planted.listed.path.write_text("\n".join(lines), encoding="utf-8")
    service = ReconcileService(regional)
    result = service.run(planted.listed.path)
    out = tmp_path / "c.xlsx"
    service.export_corrections(result, out, recipient="Hub", justification="Check")
    book = openpyxl.load_workbook(out)
    rows = list(book["Corrections"].iter_rows(min_row=3))
    assert len(rows) == sum(len(r.differences) for r in result.rows)
    assert {r[5].value for r in rows} == {"Not yet reviewed by the region"}
    planted_cell = next(r[3] for r in rows if r[0].value == row and r[2].value == heading)
    assert planted_cell.value == "+DC Orla Quennell" and planted_cell.data_type == "s"
    assert planted_cell.quotePrefix
    book.close()
