"""Benchmark (not a test): a 50-nominal meeting pack, end to end (gather from the vault, lay
out, write atomically with its .sha256, audit), against a bare reportlab document with the same
number of pages (one paragraph per page, Helvetica, no tables, no marking).

Run: .venv/bin/python -m bench.bench_pack [nominals-in-vault] [repeats]
Target (issue 7): a 50-nominal pack builds in at most 2 s.
Wall and CPU time are both shown: on a shared machine wall time includes waiting for the CPU."""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from bench.result import Result, ratio

os.environ.setdefault("CASEWARD_INSECURE_FAST_KDF", "1")  # the KDF is not what is measured

PACK_NOMINALS = 50
TARGET_S = 2.0


def _bare_document(pages: int) -> float:
    """Seconds to build a plain reportlab document of ``pages`` pages."""
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    body = getSampleStyleSheet()["BodyText"]
    text = "Synthetic paragraph of about the length of a briefing's text. " * 12
    story = []
    for _ in range(pages):
        story += [Paragraph(text, body), PageBreak()]
    started = time.perf_counter()
    SimpleDocTemplate(io.BytesIO()).build(story)
    return time.perf_counter() - started


def run(nominals: int = 150, repeats: int = 3) -> list[Result]:
    from sqlalchemy import select

    from app.domain.meetings import MeetingInput, NominalPick
    from app.domain.roles import Role
    from app.security.secrets import MemorySecretStore
    from app.services.demo import generate_demo
    from app.services.meetings import MeetingService
    from app.services.pack_pdf import PackService, build_pack_pdf
    from app.services.vault import Actor, create_vault
    from app.store.models import CivilOrder, Nominal

    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        vault, _ = create_vault(Path(tmp) / "bench.cwv", "admin", "bench passphrase long",
                                bind_to_terminal=False, secret_store=MemorySecretStore())
        try:
            started = time.perf_counter()
            generate_demo(vault, nominals, seed=11)
            print(f"demo vault: {nominals} nominals in {time.perf_counter() - started:.1f} s",
                  file=sys.stderr)
            vault.actor = Actor("coordinator", Role.COORDINATOR)
            with vault.read() as s:
                with_orders = list(dict.fromkeys(s.scalars(select(CivilOrder.nominal_id))))
                others = list(s.scalars(select(Nominal.id).where(
                    Nominal.merged_into_id.is_(None)).order_by(Nominal.id)))
            chosen = list(dict.fromkeys(with_orders + others))[:PACK_NOMINALS]
            meeting = MeetingService(vault).add(MeetingInput(
                "ttcg", datetime.combine(date.today() + timedelta(days=7),
                                         datetime.min.time().replace(hour=10)),
                "DI Bench Chair", "Regional CTU",
                nominals=tuple(NominalPick(f"NM-{i:06d}", "Benchmark") for i in chosen)))
            service = PackService(vault)
            data = service.pack_data(meeting.id)
            pages = build_pack_pdf(io.BytesIO(), data, author="bench", recipient="bench")
            wall: list[float] = []
            cpu: list[float] = []
            layout: list[float] = []
            for k in range(repeats):
                t, c = time.perf_counter(), time.process_time()
                service.export_pack(meeting.id, Path(tmp) / f"pack{k}.pdf",
                                    recipient="Bench", justification="Benchmark")
                wall.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
                t = time.perf_counter()
                build_pack_pdf(io.BytesIO(), data, author="bench", recipient="bench")
                layout.append(time.perf_counter() - t)
            _bare_document(pages)  # warm
            bare = statistics.median(_bare_document(pages) for _ in range(repeats))
        finally:
            vault.lock()
    total = statistics.median(wall)
    results.append(Result(
        f"{len(data.briefs)}-nominal pack, end to end ({pages} pages)", total, "s", bare,
        ratio(total, bare), f"≤ {TARGET_S:g} s", total <= TARGET_S,
        f"CPU {statistics.median(cpu):.2f} s; baseline: bare reportlab, {pages} pages"))
    lay = statistics.median(layout)
    results.append(Result("pack layout only (PDF from gathered data)", lay, "s", bare,
                          ratio(lay, bare), "", None, f"{lay / pages * 1000:.0f} ms per page"))
    return results


def main(argv: list[str]) -> None:
    nominals = int(argv[0]) if argv else 150
    repeats = int(argv[1]) if len(argv) > 1 else 3
    for r in run(nominals, repeats):
        base = f"{r.baseline:.3f} {r.unit}" if r.baseline is not None else "–"
        rat = f"{r.ratio:.1f}x" if r.ratio is not None else "–"
        status = "" if r.ok is None else ("OK" if r.ok else "MISSED")
        print(f"{r.name}: {r.value:.3f} {r.unit} (baseline {base}, ratio {rat}) "
              f"{r.target} {status}  {r.note}")


if __name__ == "__main__":
    main(sys.argv[1:])
