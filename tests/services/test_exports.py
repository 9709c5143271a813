"""The export service: the headcount return, the briefing, the registry and the disclosure audit,
with hostile strings through every registered return."""

from __future__ import annotations

import errno
import io
import re
import shutil
import subprocess
import unicodedata
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils.escape import unescape
from sqlalchemy import func, select

from app.domain.errors import MediaError, NotAllowed, NotFound, ValidationError
from app.domain.nominal import Alias, Nominal, RiskLevel, Status
from app.io.marking import Marking, MarkingLevel
from app.services import exports
from app.services.exports import ExportService, IncludedRefs, known_returns, register_return
from app.services.nominals import NominalService
from app.services.settings import SettingsService
from app.services.users import UserService
from app.services.vault import Vault, unlock_vault
from app.store.models import AuditEntry
from tests.conftest import PASSPHRASE

TODAY = date(2026, 11, 25)
HOSTILE = [
    "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "＝1+1", " =1", "#N/A",
    '=HYPERLINK("http://x.invalid","y")', "<b>bold</b>", '<img src="/etc/passwd"/>',
    '<link href="file:///etc/passwd">x</link>', "Gwŷn Llŵyd", "Łódź Żółć", "😀 Zoë",
    "מרים כהן", "محمد عبد الرحمن", "O'Brien & Sons",
]
PLAIN_SAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@pytest.fixture
def people(vault: Vault, vault_path: Path, store: Any) -> Iterator[dict[str, Vault]]:
    UserService(vault).add_user("carol", "coordinator", PASSPHRASE)
    UserService(vault).add_user("vic", "viewer", PASSPHRASE)
    carol = unlock_vault(vault_path, "carol", PASSPHRASE, secret_store=store)
    vic = unlock_vault(vault_path, "vic", PASSPHRASE, secret_store=store)
    svc = NominalService(carol)
    for i, text in enumerate(HOSTILE):
        svc.add(Nominal(surname=text, forenames=HOSTILE[-1 - i], dob=date(1980, 1, 1 + i),
                        status=[Status.CUSTODY, Status.COMMUNITY][i % 2],
                        risk_level=[RiskLevel.HIGH, RiskLevel.LOW, None][i % 3],
                        force=["Gwent", text][i % 2], nominal_manager=text, offence=text,
                        establishment=text if i % 2 == 0 else None,
                        aliases=(Alias(text, "Alias"),), notes=f"{text}\nsecond line"))
    yield {"admin": vault, "coordinator": carol, "viewer": vic}
    carol.lock()
    vic.lock()


@pytest.fixture
def media(tmp_path: Path) -> Path:
    """The destination folder (the vault itself lives beside it, in tmp_path)."""
    folder = tmp_path / "media"
    folder.mkdir()
    return folder


def audit_rows(v: Vault) -> int:
    """Disclosure rows (reading reference data may add rows of its own)."""
    with v.read() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.category == "disclosure")) or 0)


def formula_cells(data: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return sum(len(re.findall(r"<f[\s>/]", z.read(n).decode()))
                   for n in z.namelist() if n.startswith("xl/worksheets/"))


def all_strings(path: Path) -> set[str]:
    wb = openpyxl.load_workbook(path)
    found = {unescape(c.value) for ws in wb.worksheets for row in ws.iter_rows()
             for c in row if isinstance(c.value, str)}
    wb.close()
    return found


# --- the headcount ------------------------------------------------------------------------------


def test_headcount_return(people: dict[str, Vault], media: Path) -> None:
    carol = people["coordinator"]
    before = audit_rows(carol)
    out = media / "headcount-2026-11-25.xlsx"
    done = ExportService(carol).export_return("headcount", out, recipient="National CT hub",
                                              justification="Monthly\nheadcount", today=TODAY)
    assert done.included == len(HOSTILE) and done.marking == "OFFICIAL-SENSITIVE"
    assert out.with_name(out.name + ".sha256").read_text().split()[0] == done.sha256
    data = out.read_bytes()
    assert formula_cells(data) == 0
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Cover", "Summary", "Headcount"]
    ws = wb["Headcount"]
    headings = [c.value for c in ws[2]]
    national = exports.national_headings()
    assert headings[:4] == ["Regional ref", national["surname"], national["forenames"],
                            national["dob"]]
    assert "Risk" in headings and "MAPPA cat" in headings
    assert ws.max_row == 2 + len(HOSTILE)
    surnames = [unescape(ws.cell(r, 2).value) for r in range(3, ws.max_row + 1)]
    assert surnames == HOSTILE  # every string verbatim
    for r in range(3, ws.max_row + 1):
        assert ws.cell(r, 4).is_date
        if ws.cell(r, 2).value[0] in "=+-@＝ #":
            assert ws.cell(r, 2).quotePrefix
    summary = {(r[0], r[1]): r[2] for r in wb["Summary"].iter_rows(min_row=3, values_only=True)}
    assert summary[("All nominals", "Total")] == len(HOSTILE)
    assert summary[("Status", "Custody")] + summary[("Status", "Community")] == len(HOSTILE)
    assert summary[("Risk level", "Not recorded")] == len(HOSTILE) // 3 + (len(HOSTILE) % 3 > 2)
    assert summary[("Force", "Gwent")] == (len(HOSTILE) + 1) // 2
    for sheet in wb.worksheets:
        assert sheet["A1"].value == "OFFICIAL-SENSITIVE"
    wb.close()

    with people["admin"].read() as s:
        [row] = s.scalars(select(AuditEntry).where(AuditEntry.id > before,
                                                   AuditEntry.category == "disclosure")).all()
    assert row.action == "export.headcount" and row.recipient == "National CT hub"
    assert row.reason == "Monthly\nheadcount" and row.user == "carol"
    import json

    detail = json.loads(row.detail)
    assert detail["file"] == out.name and detail["sha256"] == done.sha256
    assert detail["included"]["count"] == len(HOSTILE)
    assert detail["included"]["refs"][0] == "NM-000001"
    assert detail["app_version"] and detail["marking"] == "OFFICIAL-SENSITIVE"
    assert detail["sheets"]["Headcount"] == len(HOSTILE)
    assert detail["sheets"]["Summary"] == len(summary)


def test_headcount_streams_in_pages(people: dict[str, Vault], media: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "HEADCOUNT_PAGE", 4)
    done = ExportService(people["coordinator"]).export_return(
        "headcount", media / "h.xlsx", recipient="Hub", justification="Test")
    assert done.included == len(HOSTILE)
    book = openpyxl.load_workbook(media / "h.xlsx", read_only=True)
    try:
        refs = [r[0] for r in book["Headcount"].iter_rows(min_row=3, values_only=True)]
    finally:
        book.close()  # a read-only book holds its file open until closed
    assert refs == [f"NM-{i:06d}" for i in range(1, len(HOSTILE) + 1)]


def test_big_returns_record_a_count_range_and_hash_not_every_ref() -> None:
    tally = IncludedRefs()
    for i in range(1, 100_001):
        tally.add(f"NM-{i:06d}")
    detail = tally.as_detail()
    assert detail["count"] == 100_000 and "refs" not in detail
    assert detail["first"] == "NM-000001" and detail["last"] == "NM-100000"
    assert len(detail["sha256"]) == 64
    small = IncludedRefs()
    small.add("NM-000002")
    assert small.as_detail() == {"count": 1, "refs": ["NM-000002"]}


def test_marking_is_configurable_and_the_most_restrictive_wins(
    people: dict[str, Vault], media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, carol = people["admin"], people["coordinator"]
    with pytest.raises(NotAllowed):
        SettingsService(carol).set_export_marking("OFFICIAL")
    SettingsService(admin).set_export_marking("official")
    assert ExportService(carol).marking().text == "OFFICIAL"
    done = ExportService(carol).export_return("headcount", media / "a.xlsx",
                                              recipient="Hub", justification="x")
    assert done.marking == "OFFICIAL"
    assert openpyxl.load_workbook(media / "a.xlsx")["Headcount"]["A1"].value == "OFFICIAL"

    real = exports.headcount_return

    def sensitive_content(vault: Vault, request: Any) -> Any:
        plan = real(vault, request)
        plan.markings.append(Marking(MarkingLevel.OFFICIAL_SENSITIVE, ("PERSONAL",)))
        return plan

    register_return("sensitive-test", sensitive_content, title="Test", replace=True)
    try:
        done = ExportService(carol).export_return("sensitive-test", media / "b.xlsx",
                                                  recipient="Hub", justification="x")
    finally:
        exports.unregister_return("sensitive-test")
    assert done.marking == "OFFICIAL-SENSITIVE PERSONAL"


def test_recipient_and_justification_are_required(people: dict[str, Vault],
                                                   media: Path) -> None:
    carol = people["coordinator"]
    before = audit_rows(carol)
    for recipient, justification, field in (("", "why", "recipient"), ("  ", "why", "recipient"),
                                            ("Hub", "", "justification"),
                                            ("Hub", "\n \n", "justification")):
        with pytest.raises(ValidationError) as caught:
            ExportService(carol).export_return("headcount", media / "x.xlsx",
                                               recipient=recipient, justification=justification)
        assert caught.value.field == field
    with pytest.raises(ValidationError):
        ExportService(carol).brief("NM-000001", media / "x.pdf", recipient="",
                                   justification="x")
    assert list(media.iterdir()) == [] and audit_rows(carol) == before


def test_viewers_may_not_export(people: dict[str, Vault], media: Path) -> None:
    vic = people["viewer"]
    with pytest.raises(NotAllowed):
        ExportService(vic).export_return("headcount", media / "x.xlsx", recipient="a",
                                         justification="b")
    with pytest.raises(NotAllowed):
        ExportService(vic).brief("NM-000001", media / "x.pdf", recipient="a",
                                 justification="b")
    assert list(media.iterdir()) == []


def test_unknown_return_names_the_known_ones(people: dict[str, Vault], media: Path) -> None:
    with pytest.raises(ValidationError, match="headcount"):
        ExportService(people["coordinator"]).export_return(
            "nonsense", media / "x.xlsx", recipient="a", justification="b")


def test_registry_takes_lazy_module_strings() -> None:
    names = [d.name for d in known_returns()]
    assert names[0] == "headcount"
    assert {"engagement", "referrals", "performance", "actions"} <= set(names)
    for d in known_returns():
        assert callable(d.load()), d.name
    with pytest.raises(ValueError):
        register_return("headcount", "x:y", title="dup")
    with pytest.raises(ValueError):
        register_return("Bad Name", "x:y", title="bad")


# --- failures leave nothing and record nothing --------------------------------------------------


def test_disk_full_through_the_service_leaves_nothing_and_no_audit_row(
    people: dict[str, Vault], media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.io import safe_write

    carol = people["coordinator"]
    before = audit_rows(carol)

    real = safe_write._write_temp

    def fills_up(folder: Any, write_fn: Any, sink: Any, temps: list[str]) -> str:
        def then_full(stream: Any, given: Any) -> None:
            write_fn(stream, given)
            raise OSError(errno.ENOSPC, "No space left on device")

        return real(folder, then_full, sink, temps)

    monkeypatch.setattr(safe_write, "_write_temp", fills_up)
    with pytest.raises(MediaError, match="full"):
        ExportService(carol).export_return("headcount", media / "h.xlsx", recipient="Hub",
                                           justification="x")
    with pytest.raises(MediaError, match="full"):
        ExportService(carol).brief("NM-000001", media / "b.pdf", recipient="Hub",
                                   justification="x")
    assert list(media.iterdir()) == []
    assert audit_rows(carol) == before


def test_media_vanishing_mid_export_leaves_nothing_and_no_audit_row(
    people: dict[str, Vault], media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    carol = people["coordinator"]
    stick = media / "stick"
    stick.mkdir()
    before = audit_rows(carol)
    real = exports.headcount_return

    def pulled(vault: Vault, request: Any) -> Any:
        plan = real(vault, request)
        rows = plan.sheets[1].rows

        def then_pull() -> Iterator[Any]:
            for n, row in enumerate(rows):
                if n == 5:
                    shutil.rmtree(stick)
                yield row

        plan.sheets[1].rows = then_pull()
        return plan

    monkeypatch.setattr(exports, "headcount_return", pulled)
    with pytest.raises(MediaError, match="went away"):
        ExportService(carol).export_return("headcount", stick / "h.xlsx", recipient="Hub",
                                           justification="x")
    assert not stick.exists() and list(media.iterdir()) == []
    assert audit_rows(carol) == before


def test_no_export_stays_on_the_media_without_its_audit_row(
    people: dict[str, Vault], media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    carol = people["coordinator"]

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("audit write failed")

    monkeypatch.setattr(carol, "audit", broken)
    with pytest.raises(RuntimeError):
        ExportService(carol).export_return("headcount", media / "h.xlsx", recipient="Hub",
                                           justification="x")
    assert list(media.iterdir()) == []


# --- the briefing -------------------------------------------------------------------------------


def pdf_text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                         check=True).stdout.decode()
    return unicodedata.normalize("NFKC", " ".join(out.split()))


DANGEROUS = [rb"/URI\b", rb"/Link\b", rb"/Annots?\b", rb"/XObject\b", rb"/Image(?![BCI])\b",
             rb"/Launch\b", rb"/JavaScript\b", rb"/JS\b", rb"/EmbeddedFiles?\b"]


@pytest.mark.parametrize("index", range(len(HOSTILE)))
def test_briefing_prints_hostile_strings_verbatim(people: dict[str, Vault], media: Path,
                                                  index: int) -> None:
    ref = f"NM-{index + 1:06d}"
    out = media / f"briefing-{ref}.pdf"
    done = ExportService(people["coordinator"]).brief(ref, out, recipient="Probation",
                                                      justification="MAPPA meeting")
    data = out.read_bytes()
    for token in DANGEROUS:
        assert re.search(token, data) is None, token
    text = pdf_text(out)
    from app.io.pdf import drawable

    # Verbatim, except that a character the font cannot draw shows as its code ([U+1F600]).
    original = drawable(HOSTILE[index])
    want = unicodedata.normalize("NFKC", " ".join(original.split()))
    assert want.upper() in text.upper()  # the surname is printed in capitals
    assert ref in text and "OFFICIAL-SENSITIVE" in text
    assert done.included == 1


def test_briefing_content_and_audit(people: dict[str, Vault], media: Path) -> None:
    import json

    from app.domain.meetings import ActionInput
    from app.services.engagement import EngagementService
    from app.services.meetings import MeetingService

    carol = people["coordinator"]
    EngagementService(carol).add_order("NM-000012", "tpim", date(2026, 1, 5),
                                       conditions="<b>curfew</b>")
    EngagementService(carol).log_contact("NM-000012", datetime(2026, 11, 2, 10, 0),
                                         "home_visit", "DC Example", "made", "=1+1 visit")
    MeetingService(carol).add_action(ActionInput("Chase probation", "DS Owner",
                                                 date(2026, 12, 1), nominal_ref="NM-000012"))
    out = media / "b.pdf"
    ExportService(carol).brief("NM-12", out, recipient="Probation", justification="Meeting",
                               today=TODAY)
    text = pdf_text(out)
    for expected in ("TPIM", "<b>curfew</b>", "=1+1 visit", "Chase probation", "Risk level",
                     "MAPPA", "ROSH", "No photograph", "Page 1 of"):
        assert expected in text, expected
    with people["admin"].read() as s:
        row = s.scalars(select(AuditEntry).where(AuditEntry.action == "export.briefing")).one()
    assert row.ref == "NM-000012" and row.recipient == "Probation" and row.reason == "Meeting"
    assert json.loads(row.detail)["included"] == {"count": 1, "refs": ["NM-000012"]}


def test_briefing_of_an_unknown_nominal(people: dict[str, Vault], media: Path) -> None:
    with pytest.raises(NotFound):
        ExportService(people["coordinator"]).brief("NM-999999", media / "x.pdf",
                                                   recipient="a", justification="b")
    assert list(media.iterdir()) == []


def test_briefing_flowables_are_reusable(people: dict[str, Vault]) -> None:
    from app.io.marking import DocumentInfo
    from app.io.pdf import build_pdf
    from app.services.briefing import briefing_flowables

    story = briefing_flowables(people["coordinator"], "NM-000003")
    story += briefing_flowables(people["coordinator"], "NM-000004")
    out = io.BytesIO()
    pages = build_pdf(out, DocumentInfo("Pack", "carol", datetime(2026, 1, 1)), story)
    assert pages >= 2


# --- every registered return, hostile data ------------------------------------------------------


def test_every_registered_return_writes_no_formula_from_hostile_data(
    people: dict[str, Vault], media: Path
) -> None:
    from app.services.engagement import EngagementService

    carol = people["coordinator"]
    for i, text in enumerate(HOSTILE[:5]):
        EngagementService(carol).log_contact(f"NM-{i + 1:06d}", datetime(2026, 10, 2, 10, 0),
                                             "phone", text, "made", text)
    # "corrections" writes the last saved reconciliation: save one against a small list.
    from app.services.reconcile import ReconcileService

    national = media.parent / "national.csv"
    national.write_text("Surname,Forenames,DOB,Force\nGwŷn Llŵyd,x,12/01/1980,Kent Police\n"
                        "Nobody,Known,01/01/1970,Kent Police\n", encoding="utf-8")
    ReconcileService(carol).save(ReconcileService(carol).run(national))
    for d in known_returns():
        out = media / f"{d.name}.xlsx"
        user = carol
        if d.name == "referrals":
            UserService(people["admin"]).add_user("ana", "analyst", PASSPHRASE)
            user = unlock_vault(people["admin"].path, "ana", PASSPHRASE,
                                secret_store=people["admin"].secret_store)
        try:
            ExportService(user).export_return(d.name, out, recipient="Hub",
                                              justification="Return", start=date(2026, 1, 1),
                                              end=date(2026, 10, 31))
        finally:
            if user is not carol:
                user.lock()
        data = out.read_bytes()
        assert formula_cells(data) == 0, d.name
        strings = all_strings(out)
        assert not any(PLAIN_SAFE.search(s) for s in strings), d.name
        if d.name == "headcount":
            assert set(HOSTILE) <= strings
        if d.name == "engagement":  # managers with a contact plan appear, verbatim
            assert set(HOSTILE) & strings, d.name
    with people["admin"].read() as s:
        actions = set(s.scalars(select(AuditEntry.action).where(
            AuditEntry.category == "disclosure")))
    assert {f"export.{d.name}" for d in known_returns()} <= actions


# --- the recipient and justification: the shared text check, nothing dropped unseen ------------


def test_disclosure_text_is_refused_not_silently_cut() -> None:
    from app.domain.text import MSG_BIDI, MSG_CONTROL, MSG_ONE_LINE

    check = exports.check_disclosure
    # Control characters (C0, DEL, C1; ESC can drive a terminal) are refused, field named.
    for bad in ("Hub\x00", "Hub\x07x", "\x1b[31mHub", "Hub\x7f", "Hub\x85", "Hub\x9b"):
        with pytest.raises(ValidationError) as caught:
            check(bad, "why")
        assert caught.value.field == "recipient"
        assert caught.value.message in (MSG_CONTROL, MSG_ONE_LINE)  # \x85 is a line break
        assert "Hub" not in str(caught.value)  # the message never repeats the value
        with pytest.raises(ValidationError) as caught:
            check("Hub", f"why{bad}")
        assert caught.value.field == "justification" and caught.value.message == MSG_CONTROL
    # The recipient is one line with no direction overrides (it could read as someone else).
    for bad, message in (("Regional\u202eburh", MSG_BIDI), ("Reg\u2066ional\u2069", MSG_BIDI),
                         ("Regional\nhub", MSG_ONE_LINE), ("Regional\u2028hub", MSG_ONE_LINE)):
        with pytest.raises(ValidationError) as caught:
            check(bad, "why")
        assert (caught.value.field, caught.value.message) == ("recipient", message)
    # A lone surrogate (undecodable bytes on a command line) cannot be recorded either.
    with pytest.raises(ValidationError, match="not valid text"):
        check("Hub\udcff", "why")


def test_disclosure_text_that_passes_is_kept_whole() -> None:
    check = exports.check_disclosure
    # What the old filter dropped (not "printable") is kept: the zero-width joiner (emoji,
    # Indic scripts), right-to-left text and its isolates in the justification, tabs there.
    recipient, justification = check(" Dr\u00a0Zoë  Llŵyd\tMAPPA\u200dhub ",
                                     "\u2067מרים כהן\u2069 asked\r\n\tpoint one\rpoint two\n")
    # Each run of white space (a no-break space, a tab, two spaces) is one space.
    assert recipient == "Dr Zoë Llŵyd MAPPA\u200dhub"
    assert justification == "\u2067מרים כהן\u2069 asked\n\tpoint one\npoint two"
    # NFC: "é" typed two ways is one spelling.
    assert check("Jose\u0301", "x")[0] == "Jos\u00e9"
    # Formula triggers are text here; the workbook guards them (next test).
    for text in ("=cmd|' /C calc'!A0", "+44 1632 960000", "-", "@hub", "＝1+1"):
        assert check(text, text) == (text, text)


def test_hostile_disclosure_text_is_recorded_verbatim_and_never_a_formula(
        people: dict[str, Vault], media: Path) -> None:
    carol = people["coordinator"]
    before = audit_rows(carol)
    recipient = '=HYPERLINK("http://x.invalid","Hub")'
    justification = "@SUM(A1)\n\t-2+3 for the\u00a0panel"
    for name in ("engagement", "headcount"):
        out = media / f"{name}.xlsx"
        ExportService(carol).export_return(name, out, recipient=recipient,
                                           justification=justification,
                                           start=date(2026, 1, 1), end=date(2026, 10, 31))
        assert formula_cells(out.read_bytes()) == 0, name
        wb = openpyxl.load_workbook(out)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and cell.value[:1] in "=@+-":
                        assert cell.quotePrefix, (name, ws.title, cell.coordinate)
        wb.close()
    with people["admin"].read() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.id > before,
                                                  AuditEntry.category == "disclosure")).all()
    assert len(rows) == 2
    assert {(r.recipient, r.reason) for r in rows} == {(recipient, justification)}


def test_a_refused_disclosure_writes_nothing(people: dict[str, Vault], media: Path) -> None:
    carol = people["coordinator"]
    before = audit_rows(carol)
    with pytest.raises(ValidationError) as caught:
        ExportService(carol).export_return("headcount", media / "x.xlsx",
                                           recipient="Hub\x1b]0;owned\x07",
                                           justification="why")
    assert caught.value.field == "recipient"
    assert list(media.iterdir()) == [] and audit_rows(carol) == before


def test_old_record_data_with_control_characters_still_exports_with_a_trace(
        people: dict[str, Vault], media: Path) -> None:
    from app.store.models import Nominal as NominalRow

    carol = people["coordinator"]
    # Data stored before the shared text check existed: written past the service on purpose.
    with people["admin"].write() as s:
        row = s.scalars(select(NominalRow).order_by(NominalRow.id)).first()
        assert row is not None
        row.surname = "Ev\x00an\x07s\x0b"
    out = media / "headcount.xlsx"
    ExportService(carol).export_return("headcount", out, recipient="Hub", justification="why")
    strings = all_strings(out)
    assert "Ev\ufffdan\ufffds\ufffd" in strings  # each lost character shows as U+FFFD
    assert not any(PLAIN_SAFE.search(s) for s in strings)
