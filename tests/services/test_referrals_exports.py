"""Research summary PDF and the referrals return: marked, escaped, atomic, audited."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest

from app.domain.errors import NotAllowed, ValidationError
from app.domain.prevent import IntelInput, SubjectInput
from app.domain.roles import Role
from app.services.audit import AuditFilter, AuditService
from app.services.intelligence import IntelligenceService
from app.services.referrals import ReferralService
from app.services.research_pdf import ResearchService, build_research_pdf
from app.services.vault import Vault
from tests.services.test_referrals import as_role, referral_input

HOSTILE = '<img src="/etc/passwd"/> & <link href="file:///x">click</link>'


def _setup(vault: Vault) -> tuple[Vault, str, str]:
    analyst = as_role(vault, Role.ANALYST, "ana")
    ref = ReferralService(analyst).add(
        referral_input(datetime(2025, 3, 3, 9), summary=f"Summary with markup {HOSTILE}",
                       subject=SubjectInput("O'Brien-<b>", "Seán", date(2009, 1, 1))),
        now=datetime(2025, 3, 3, 10))
    rid = ReferralService(analyst).show(ref).id
    entry = IntelligenceService(analyst).add(
        IntelInput("Associates seen (synthetic).", "2", "C", "C",
                   conditions="Only with CTP consent.", referral_ids=[rid]),
        today=date(2025, 3, 5))
    return analyst, ref, entry.ref


def test_research_summary_pdf(vault: Vault, tmp_path: Path) -> None:
    analyst, ref, intel = _setup(vault)
    svc = ResearchService(analyst)
    with pytest.raises(ValidationError) as err:
        svc.research_summary_data([ref], [intel], [], "  ")
    assert err.value.field == "narrative"
    data = svc.research_summary_data([ref], [intel], [1], f"Narrative {HOSTILE}\n\nSecond.")
    assert data.handling is not None and data.handling.value == "C"
    assert data.refs["referrals"] == [ref]
    out = tmp_path / "summary.pdf"
    result = svc.export_pdf(data, out, title="Research summary: Northvale", recipient="CTP NE",
                            justification="Channel panel preparation")
    assert out.exists() and Path(f"{out}.sha256").read_text().startswith(result.sha256)
    body = out.read_bytes()
    assert body.startswith(b"%PDF")
    as_role(analyst, Role.ADMIN, "alice")
    rows = [r for r in AuditService(analyst).page(AuditFilter(category="disclosure"))
            if r.action == "export.research"]
    assert len(rows) == 1
    assert rows[0].recipient == "CTP NE" and rows[0].reason == "Channel panel preparation"
    assert rows[0].detail["handling"] == "C" and rows[0].detail["intelligence"] == [intel]
    # A coordinator may export but not read intelligence.
    as_role(analyst, Role.COORDINATOR)
    with pytest.raises(NotAllowed):
        svc.research_summary_data([ref], [intel], [], "n")


def test_research_pdf_text_is_escaped_and_marked(vault: Vault, tmp_path: Path) -> None:
    analyst, ref, intel = _setup(vault)
    data = ResearchService(analyst).research_summary_data([ref], [intel], [1],
                                                          f"Narrative {HOSTILE}")
    out = tmp_path / "plain.pdf"
    with out.open("wb") as fh:
        pages = build_research_pdf(fh, data, title="Research summary", author="ana",
                                   recipient="CTP", invariant=True)
    assert pages >= 1
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed")
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert text.count("OFFICIAL-SENSITIVE") >= 2 * pages  # header and footer on every page
    assert '<img src="/etc/passwd"/>' in text  # printed verbatim, never an image
    assert "O'Brien-<b>" in text.replace("\n", "")
    assert "Only with CTP consent." in text
    assert f"Page 1 of {pages}" in text


def test_referrals_return_xlsx(vault: Vault, tmp_path: Path) -> None:
    analyst, ref, _ = _setup(vault)
    svc = ReferralService(analyst)
    out = tmp_path / "referrals.xlsx"
    with pytest.raises(ValidationError) as err:
        svc.export_return(out, date(2025, 1, 1), date(2025, 12, 31), recipient="",
                          justification="x")
    assert err.value.field == "recipient"
    assert not out.exists()
    result = svc.export_return(out, date(2025, 1, 1), date(2025, 12, 31), recipient="Home Office",
                               justification="Quarterly return")
    assert result.path == out
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        sheets = " ".join(z.read(n).decode("utf-8", "replace") for n in names
                          if n.startswith("xl/worksheets/"))
    assert "OFFICIAL-SENSITIVE" in sheets
    from openpyxl import load_workbook

    wb = load_workbook(out, read_only=True)
    assert wb.sheetnames[:2] == ["Cover", "Summary"]
    concern = [r for r in wb["By concern"].iter_rows(values_only=True)
               if r and r[0] == "Extreme Right-Wing"]
    assert concern and concern[0][1] == 1
    wb.close()
    as_role(analyst, Role.VIEWER)
    with pytest.raises(NotAllowed):
        svc.export_return(tmp_path / "v.xlsx", date(2025, 1, 1), date(2025, 12, 31),
                          recipient="x", justification="y")
