"""Printing the meeting pack: laid out in memory (nothing opened for writing), the same marked
and paginated pages as the exported pack, and the print audited as a disclosure with the
export's fields."""

from __future__ import annotations

import builtins
import hashlib
import json
import os
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from app.domain.errors import NotAllowed, ValidationError
from app.domain.meetings import ActionInput, NominalPick
from app.services.meetings import MeetingService
from app.services.pack_pdf import PackService
from app.services.vault import Vault
from tests.services.test_meetings import (
    TODAY,
    _pdf_pages,
    add_nominal,
    audit,
    coord,  # noqa: F401 - fixture
    ttcg,
    users,  # noqa: F401 - fixture
)


def _meeting(v: Vault) -> tuple[Any, list[str]]:
    refs = [add_nominal(v, f"PRINTTEST{i}") for i in range(2)]
    svc = MeetingService(v)
    svc.add(ttcg(datetime(2026, 1, 6, 10), actions=(
        ActionInput("Chase <probation>", "DS Late", date(2026, 1, 20), refs[0]),)),
        today=date(2026, 1, 6))
    m = svc.add(ttcg(datetime(2026, 3, 17, 10),
                     nominals=tuple(NominalPick(r, "Review") for r in refs)), today=TODAY)
    return m, refs


def test_printable_pack_is_built_in_memory_and_marked(coord: Vault, tmp_path: Path,  # noqa: F811
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    m, refs = _meeting(coord)
    writes: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def watch_open(file: Any, mode: str = "r", *a: Any, **kw: Any) -> Any:
        if any(c in mode for c in "wax+"):
            writes.append(str(file))
        return real_open(file, mode, *a, **kw)

    def watch_os_open(path: Any, flags: int, *a: Any, **kw: Any) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            writes.append(str(path))
        return real_os_open(path, flags, *a, **kw)

    monkeypatch.setattr(builtins, "open", watch_open)
    monkeypatch.setattr(os, "open", watch_os_open)
    pack = PackService(coord).printable_pack(m.id, recipient="TTCG members", today=TODAY)
    monkeypatch.undo()
    # No file, temporary or not, was opened for writing, but the vault's own key file (its
    # signed audit head moves on as records are consulted for the briefings).
    own = Path(coord.path).name
    assert [w for w in writes if not Path(w).name.lstrip(".").startswith(own)] == []
    assert pack.pdf.startswith(b"%PDF") and pack.pages >= 2 + 2 + 1
    assert pack.sha256 == hashlib.sha256(pack.pdf).hexdigest()
    assert pack.meeting_ref == m.ref and list(pack.nominal_refs) == refs
    assert "ACT-000001" in pack.action_refs
    assert "pdf" not in repr(pack).replace("PrintablePack", "")  # bytes kept out of reprs
    assert audit(coord, "print.pack") == []  # nothing is recorded until it is printed

    # The test (only) looks at the pages through a file: marked and paginated like the export.
    shown = tmp_path / "printed.pdf"
    shown.write_bytes(pack.pdf)
    pages = _pdf_pages(shown)
    assert len(pages) == pack.pages
    for n, page in enumerate(pages, 1):
        assert page.count("OFFICIAL-SENSITIVE") >= 2 and f"Page {n} of {pack.pages}" in page
    assert "Prepared for" in pages[0] and "TTCG members" in pages[0]


def test_print_is_audited_like_the_export(coord: Vault) -> None:  # noqa: F811
    m, refs = _meeting(coord)
    packs = PackService(coord)
    pack = packs.printable_pack(m.id, recipient="TTCG members", today=TODAY)
    with pytest.raises(ValidationError):
        packs.record_print(pack, justification=" ", pages=pack.pages)
    with pytest.raises(ValidationError):
        packs.record_print(pack, justification="Monthly TTCG", pages=0)
    packs.record_print(pack, justification="Monthly TTCG", pages=pack.pages)
    (row,) = audit(coord, "print.pack")
    detail = json.loads(row.detail or "{}")
    assert row.category == "disclosure" and row.recipient == "TTCG members"
    assert row.reason == "Monthly TTCG" and row.ref == m.ref and row.entity == "meeting"
    assert detail["kind"] == "print" and detail["pages"] == pack.pages
    assert detail["sha256"] == pack.sha256 and detail["nominals"] == refs
    assert "ACT-000001" in detail["actions"] and detail["marking"] == "OFFICIAL-SENSITIVE"


def test_viewer_cannot_print_the_pack(users: dict[str, Vault]) -> None:  # noqa: F811
    m, _ = _meeting(users["coordinator"])
    pack = PackService(users["coordinator"]).printable_pack(m.id, recipient="R", today=TODAY)
    with pytest.raises(NotAllowed):
        PackService(users["viewer"]).printable_pack(m.id, recipient="R", today=TODAY)
    with pytest.raises(NotAllowed):
        PackService(users["viewer"]).record_print(pack, justification="J", pages=1)
    assert audit(users["coordinator"], "print.pack") == []
