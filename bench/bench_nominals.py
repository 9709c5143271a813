"""Benchmark (not a test): nominals at scale — demo generation, search, list, duplicate scan, CLI.

Run: .venv/bin/python -m bench.bench_nominals [--nominals 100000] [--rebuild] [--queries 200]

The demo vault is built once and cached under /tmp/caseward-bench-nominals (rebuilt with
--rebuild or when the size differs). It is made with CASEWARD_INSECURE_FAST_KDF=1 so that the
command-line figure measures Caseward, not the deliberate 0.3-0.5 s Argon2id unlock.

Targets (issue 4), at 100,000 nominals:
  demo generation < 60 s; search p95 <= 30 ms through the service; CLI search within 1.2x of
  `caseward --version`; duplicate scan <= 10 s; first list page and a column sort <= 300 ms.
Each service figure is printed beside a bare baseline on the same connection.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

os.environ.setdefault("CASEWARD_INSECURE_FAST_KDF", "1")

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(tempfile.gettempdir()) / "caseward-bench-nominals"
PASSPHRASE = "correct horse battery staple"
USER = "alice"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def build(path: Path, nominals: int, seed: int, all_steps: bool) -> dict[str, float]:
    from app.security.secrets import MemorySecretStore
    from app.services import demo
    from app.services.vault import create_vault

    for leftover in path.parent.glob(path.name + "*"):
        leftover.unlink()
    vault, _ = create_vault(path, USER, PASSPHRASE, bind_to_terminal=False,
                            secret_store=MemorySecretStore())
    step_times: dict[str, float] = {}
    original = list(demo.STEPS)

    def timed_step(name: str, step: Any) -> Any:
        def run(ctx: Any) -> Any:
            start = time.perf_counter()
            try:
                return step(ctx)
            finally:
                step_times[name] = time.perf_counter() - start
        return run

    demo.STEPS[:] = [(name, timed_step(name, step)) for name, step in original
                     if all_steps or name == "nominals"]
    try:
        summary = demo.generate_demo(vault, nominals, seed)
    finally:
        demo.STEPS[:] = original
        vault.lock()
    step_times["total"] = summary.seconds
    (path.parent / "built.txt").write_text(f"{nominals}\n")
    return step_times


def queries(vault: Any, count: int, seed: int) -> list[str]:
    """Varied searches a coordinator types: names either way round, other spellings, prefixes,
    PNC in several written forms, refs and dates of birth."""
    from sqlalchemy import text

    from app.services.demo import _NominalMaker

    rng = random.Random(seed)
    with vault.read() as s:
        rows = s.execute(text(
            "SELECT id, surname, forenames, dob, pnc_norm FROM nominal "
            "WHERE merged_into_id IS NULL ORDER BY random() LIMIT :n"), {"n": count}).all()

    class _Ctx:
        def __init__(self) -> None:
            self.rng = rng
            self.today = date.today()

    maker = _NominalMaker(_Ctx())  # type: ignore[arg-type]
    out: list[str] = []
    for i, (nid, surname, forenames, dob_text, pnc) in enumerate(rows):
        dob = date.fromisoformat(str(dob_text)[:10]) if dob_text else None
        first = forenames.split()[0] if forenames else ""
        kind = i % 10
        if kind == 0:
            out.append(f"{first} {surname}")
        elif kind == 1:
            out.append(f"{surname} {first}")
        elif kind == 2:
            out.append(maker.variant_of(surname))
        elif kind == 3:
            out.append(f"{maker.variant_of(first)} {surname[:3]}")
        elif kind == 4 and pnc:
            year, serial, letter = pnc[:4], int(pnc[5:12]), pnc[-1]
            out.append(rng.choice([f"{year[2:]}/{serial}{letter}", pnc.lower(),
                                   f"{year} {serial:07d} {letter}"]))
        elif kind == 5:
            out.append(f"NM-{nid}" if rng.random() < 0.5 else f"nm{nid:06d}")
        elif kind == 6 and dob:
            out.append(dob.strftime("%d/%m/%Y") if rng.random() < 0.5 else dob.isoformat())
        elif kind == 7:
            out.append(surname[:2])
        elif kind == 8:
            out.append(f"{surname} {dob.isoformat() if dob else ''}")
        else:
            out.append(first)
    return out


def bench_search(vault: Any, qs: list[str]) -> None:
    from sqlalchemy import text

    from app.services.nominals import NominalService
    from app.store.nominals import match_expression

    service = NominalService(vault)
    service.search("warm up")
    service_times: list[float] = []
    hits = 0
    for q in qs:
        elapsed, rows = _timed(lambda q=q: service.search(q))
        service_times.append(elapsed)
        hits += bool(rows)
    bare_times: list[float] = []
    with vault.read() as s:
        conn = s.connection()
        for q in qs:
            expression = match_expression(q)
            if expression is None:
                continue
            elapsed, _ = _timed(lambda e=expression: conn.execute(text(
                "SELECT rowid FROM nominal_search WHERE nominal_search MATCH :q LIMIT 50"),
                {"q": e}).all())
            bare_times.append(elapsed)
    p95, bare95 = _pct(service_times, 95), _pct(bare_times, 95)
    print(f"search ({len(qs)} queries, {hits} with results)")
    print(f"  service p50 {_ms(statistics.median(service_times))}  p95 {_ms(p95)}  "
          f"max {_ms(max(service_times))}   target p95 <= 30 ms")
    print(f"  bare FTS5  p50 {_ms(statistics.median(bare_times))}  p95 {_ms(bare95)}  "
          f"ratio p95 {p95 / bare95 if bare95 else float('nan'):.1f}x")


def bench_list(vault: Any) -> None:
    from sqlalchemy import text

    from app.domain.nominal import NominalFilter, SortKey
    from app.services.nominals import NominalService

    service = NominalService(vault)
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("first page (count + 200 rows by name)",
         lambda: (service.count(), service.page(limit=200))),
        ("sort by date of birth, descending",
         lambda: service.page(sort_key=SortKey.DOB, descending=True, limit=200)),
        ("sort by manager", lambda: service.page(sort_key=SortKey.MANAGER, limit=200)),
        ("filter custody + sort by release date",
         lambda: (service.count(NominalFilter(status="custody")),
                  service.page(NominalFilter(status="custody"), SortKey.RELEASE_DATE,
                               limit=200))),
        ("filter by force + search 'mohammed'",
         lambda: (service.count(NominalFilter(force="West Midlands Police", text="mohammed")),
                  service.page(NominalFilter(force="West Midlands Police", text="mohammed"),
                               limit=200))),
        ("page at offset 50,000 by name", lambda: service.page(offset=50_000, limit=200)),
        ("distinct managers (filter combo)", lambda: service.distinct_values("nominal_manager")),
    ]
    print("list (target <= 300 ms each)")
    for label, fn in cases:
        times = [_timed(fn)[0] for _ in range(3)]
        print(f"  {label:<42} first {_ms(times[0])}  best {_ms(min(times))}")
    with vault.read() as s:
        conn = s.connection()
        elapsed, _ = _timed(lambda: conn.execute(text(
            "SELECT ref, surname FROM nominal WHERE merged_into_id IS NULL "
            "ORDER BY sort_name LIMIT 200")).all())
    print(f"  bare SQL first page (200 rows)             {_ms(elapsed)}")


def bench_duplicates(vault: Any, truth: dict[str, Any] | None) -> None:
    from app.services.duplicates import DuplicateService

    service = DuplicateService(vault)
    # CPU beside wall: the machine is shared, and wall time there mostly measures the queue.
    cpu = time.process_time()
    elapsed, result = _timed(service.scan)
    cpu = time.process_time() - cpu
    print(f"duplicate scan: CPU {cpu:.2f} s, wall {elapsed:.2f} s for {result.people} nominals, "
          f"{result.comparisons} comparisons, {result.pairs} pairs   target <= 10 s")
    cpu = time.process_time()
    elapsed, _again = _timed(service.scan)
    cpu = time.process_time() - cpu
    print(f"  again in the same process (name caches warm): CPU {cpu:.2f} s, wall {elapsed:.2f} s")
    if truth:
        found = {(p.a, p.b) for p in service.pairs(limit=100_000)}
        planted = {tuple(sorted((a, b))) for a, b, _k in truth["duplicates"]}
        twins = {tuple(sorted((a, b))) for a, b, _k in truth["non_duplicates"]}
        recall = len(planted & found) / len(planted) if planted else float("nan")
        print(f"  planted duplicates found: {len(planted & found)}/{len(planted)} "
              f"(recall {recall:.3f}); twins flagged: {len(twins & found)}/{len(twins)}")


def bench_cli(path: Path, text_query: str, runs: int) -> None:
    env = dict(os.environ, CASEWARD_PASSPHRASE=PASSPHRASE)
    base = [sys.executable, "-m", "ui.entry"]

    def run(args: list[str]) -> float:
        start = time.perf_counter()
        proc = subprocess.run(base + args, capture_output=True, text=True, env=env, cwd=ROOT,
                              check=False)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"caseward {' '.join(args[:2])} failed: {proc.stderr.strip()}")
        return elapsed

    version = [run(["--version"]) for _ in range(runs)]
    search = [run(["nominal", "search", text_query, "--vault", str(path), "--user", USER])
              for _ in range(runs)]
    v, s = statistics.median(version), statistics.median(search)
    print(f"CLI: --version {_ms(v)}  nominal search {_ms(s)}  ratio {s / v:.2f}x   "
          f"target <= 1.2x (median of {runs})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nominals", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--cli-runs", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--all-steps", action="store_true",
                        help="run every demo step (engagement, prevent...), not only nominals")
    parser.add_argument("--skip", nargs="*", default=[], choices=["search", "list", "dups",
                                                                  "cli"])
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from app.security.secrets import MemorySecretStore
    from app.services.demo import demo_truth
    from app.services.vault import unlock_vault

    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"bench-{args.nominals}.cwv"
    marker = CACHE / "built.txt"
    fresh = (args.rebuild or not path.exists() or not marker.exists()
             or marker.read_text().strip() != str(args.nominals))
    if fresh:
        print(f"building a demo vault of {args.nominals:,} nominals (seed {args.seed})...")
        times = build(path, args.nominals, args.seed, args.all_steps)
        print("demo generation: " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items())
              + "   target (nominals) < 60 s")
    else:
        print(f"reusing {path} (--rebuild to make it again)")
    vault = unlock_vault(path, USER, PASSPHRASE, secret_store=MemorySecretStore())
    try:
        truth = demo_truth(vault)
        qs = queries(vault, args.queries, args.seed)
        if "search" not in args.skip:
            bench_search(vault, qs)
        if "list" not in args.skip:
            bench_list(vault)
        if "dups" not in args.skip:
            bench_duplicates(vault, truth)
    finally:
        vault.lock()
    if "cli" not in args.skip:
        bench_cli(path, qs[0] if qs else "smith", args.cli_runs)


if __name__ == "__main__":
    main()
