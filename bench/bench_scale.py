"""Benchmark (not a test): every scale target of issues 3-9 on one 100,000-nominal vault.

Run: .venv/bin/python -m bench.bench_scale [--nominals 100000] [--audit-rows 1000000]
                                           [--rebuild] [--only NAME ...] [--record]

The vault (100,000 nominals, ten years of contacts, Prevent referrals, meetings and a million
chained audit rows) is built once with `generate_demo` and cached under
/tmp/caseward-bench-scale; building it is itself measured (the nominal step's target is < 60 s).
Its key slot uses the weakest allowed Argon2id (CASEWARD_INSECURE_FAST_KDF=1) so that the
command-line ratio measures Caseward's own start-up; the real slot's derivation is measured on
its own and added to give the real figure.

The machine these figures come from is shared and often loaded, so each figure is given as wall
time and as CPU time (time.process_time, or getrusage of the children for subprocesses), next to
a bare baseline measured in the same run. Each target's verdict uses the CPU figure where the
wall figure is dominated by waiting for a core (noted in the row).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("CASEWARD_INSECURE_FAST_KDF", "1")

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(tempfile.gettempdir()) / "caseward-bench-scale"
PASSPHRASE = "correct horse battery staple"
USER = "alice"
TODAY = "2026-11-25"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.result import Result, ratio  # noqa: E402

# --- timing ----------------------------------------------------------------------------------

@dataclass
class Timing:
    wall: float
    cpu: float


@contextlib.contextmanager
def timed() -> Iterator[Timing]:
    t = Timing(0.0, 0.0)
    w, c = time.perf_counter(), time.process_time()
    try:
        yield t
    finally:
        t.wall, t.cpu = time.perf_counter() - w, time.process_time() - c


def measure(fn: Callable[[], Any], repeats: int) -> tuple[list[float], list[float]]:
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(repeats):
        with timed() as t:
            fn()
        walls.append(t.wall)
        cpus.append(t.cpu)
    return walls, cpus


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def med(values: list[float]) -> float:
    return statistics.median(values)


def child_run(args: list[str], env: dict[str, str]) -> Timing:
    """Run a subprocess; wall time and the CPU it used (user + system, from getrusage)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    w = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    wall = time.perf_counter() - w
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[3:5])} failed ({proc.returncode}): "
                           f"{proc.stderr.strip()[-300:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu)


def ms(x: float) -> float:
    return round(x * 1000, 1)


def load_note() -> str:
    one, _five, _fifteen = os.getloadavg()
    return f"load {one:.1f} on {os.cpu_count()} cores"


# --- the vault -------------------------------------------------------------------------------

def vault_path(nominals: int) -> Path:
    return CACHE / f"scale-{nominals}.cwv"


def build(nominals: int, audit_rows: int, seed: int) -> dict[str, Timing]:
    """Build the demo vault, timing each generator step (wall and CPU)."""
    from app.security.secrets import MemorySecretStore
    from app.services import demo
    from app.services.vault import create_vault

    CACHE.mkdir(exist_ok=True)
    path = vault_path(nominals)
    for leftover in CACHE.glob(path.name + "*"):
        leftover.unlink()
    vault, _ = create_vault(path, USER, PASSPHRASE, bind_to_terminal=False,
                            secret_store=MemorySecretStore())
    steps: dict[str, Timing] = {}
    original = list(demo.STEPS)

    def wrap(name: str, step: Any) -> Any:
        def run(ctx: Any) -> Any:
            with timed() as t:
                made = step(ctx)
            steps[name] = t
            print(f"  step {name}: {made:,} rows, wall {t.wall:.1f} s, CPU {t.cpu:.1f} s "
                  f"({load_note()})", flush=True)
            return made
        return run

    demo.STEPS[:] = [(name, wrap(name, step)) for name, step in original]
    try:
        with timed() as total:
            demo.generate_demo(vault, nominals, seed, today=date.fromisoformat(TODAY),
                               audit_rows=audit_rows)
    finally:
        demo.STEPS[:] = original
        vault.lock()
    steps["total"] = total
    (CACHE / f"scale-{nominals}.json").write_text(json.dumps(
        {k: [v.wall, v.cpu] for k, v in steps.items()} | {"audit_rows": audit_rows}))
    return steps


def bare_insert_per_row(rows: int = 100_000) -> Timing:
    """Baseline for the demo: executemany of `rows` nominal-sized rows (no indexes but the
    primary key) into a fresh keyed vault file with the same pragmas, one transaction."""
    from app.store.engine import raw_connection

    with tempfile.TemporaryDirectory() as tmp:
        conn = raw_connection(Path(tmp) / "bare.db", os.urandom(32))
        conn.isolation_level = None
        conn.execute(f"PRAGMA cache_size = -{262_144}")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, ref TEXT, surname TEXT, "
                     "forenames TEXT, dob TEXT, pnc TEXT, status TEXT, force TEXT, "
                     "manager TEXT, offence TEXT, notes TEXT)")
        data = [(i, f"NM-{i:06d}", "Surname", "Forename Second", "1990-01-01",
                 "2001/0123456A", "community", "West Midlands Police", "DC Someone",
                 "Preparation of terrorist acts (TA 2006 s.5)", None) for i in range(rows)]
        with timed() as t:
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?,?)", data)
            conn.execute("COMMIT")
        conn.close()
    return t


def open_vault(nominals: int) -> Any:
    from app.security.secrets import MemorySecretStore
    from app.services.vault import unlock_vault

    return unlock_vault(vault_path(nominals), USER, PASSPHRASE, secret_store=MemorySecretStore())


# --- the measurements ------------------------------------------------------------------------

def m_demo(results: list[Result], steps: dict[str, Timing], nominals: int) -> None:
    bare = bare_insert_per_row(min(nominals, 100_000))
    scale = nominals / min(nominals, 100_000)
    nom = steps.get("nominals")
    if nom is None:
        return
    # These steps were timed when the cached vault was built, by the code of that day: the
    # nominal step's verdict belongs to `demo-fresh` (this code, measured in this run).
    results.append(Result(
        f"demo: nominal step, {nominals:,} nominals, when the cached vault was built (CPU)",
        nom.cpu, "s", bare.cpu * scale, ratio(nom.cpu, bare.cpu * scale), "", None,
        f"wall {nom.wall:.0f} s; code of the build day; baseline: bare executemany of as many "
        f"nominal-sized rows (CPU {bare.cpu * scale:.1f} s, wall {bare.wall * scale:.1f} s)"))
    for name in ("engagement", "prevent", "meetings", "total"):
        t = steps.get(name)
        if t is not None:
            results.append(Result(f"demo: {name} step (CPU)", t.cpu, "s", None, None, "", None,
                                  f"wall {t.wall:.0f} s"))


def m_demo_fresh(results: list[Result], nominals: int, seed: int) -> None:
    """The nominal step alone, into a fresh vault with the current code (the cached vault's
    build figures date from when it was built)."""
    from app.security.secrets import MemorySecretStore
    from app.services import demo
    from app.services.vault import create_vault

    bare = bare_insert_per_row(min(nominals, 100_000))
    scale = nominals / min(nominals, 100_000)
    original = list(demo.STEPS)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        vault, _ = create_vault(Path(tmp) / "fresh.cwv", USER, PASSPHRASE,
                                bind_to_terminal=False, secret_store=MemorySecretStore())
        demo.STEPS[:] = [(name, step) for name, step in original if name == "nominals"]
        try:
            with timed() as t:
                demo.generate_demo(vault, nominals, seed, today=date.fromisoformat(TODAY))
        finally:
            demo.STEPS[:] = original
            vault.lock()
    results.append(Result(
        f"demo: nominal step, {nominals:,} nominals, fresh vault, this code (CPU)", t.cpu, "s",
        bare.cpu * scale, ratio(t.cpu, bare.cpu * scale), "< 60 s", t.cpu < 60,
        f"wall {t.wall:.0f} s; baseline: bare executemany of as many nominal-sized rows "
        f"(CPU {bare.cpu * scale:.1f} s, wall {bare.wall * scale:.1f} s); {load_note()}"))


def m_search(results: list[Result], vault: Any, count: int, seed: int) -> list[str]:
    from sqlalchemy import text

    from app.services.nominals import NominalService
    from app.store.nominals import match_expression
    from bench.bench_nominals import queries

    qs = queries(vault, count, seed)
    service = NominalService(vault)
    service.search("warm up")
    walls, cpus = [], []
    for q in qs:
        w, c = measure(lambda q=q: service.search(q), 1)
        walls += w
        cpus += c
    bare_w, bare_c = [], []
    with vault.read() as s:
        conn = s.connection()
        for q in qs:
            expression = match_expression(q)
            if expression is None:
                continue
            w, c = measure(lambda e=expression: conn.execute(text(
                "SELECT rowid FROM nominal_search WHERE nominal_search MATCH :q LIMIT 50"),
                {"q": e}).all(), 1)
            bare_w += w
            bare_c += c
    p95w, p95c, b95w, b95c = pct(walls, 95), pct(cpus, 95), pct(bare_w, 95), pct(bare_c, 95)
    results.append(Result(
        f"search p95 through the service ({len(qs)} queries), CPU", ms(p95c), "ms", ms(b95c),
        ratio(p95c, b95c), "≤ 30 ms", p95c <= 0.030,
        f"wall p95 {ms(p95w)} ms (bare {ms(b95w)} ms), p50 {ms(med(walls))} ms; baseline: "
        f"bare FTS5 MATCH, LIMIT 50; {load_note()}"))
    return qs


def m_cli(results: list[Result], nominals: int, query: str, runs: int) -> None:
    """`nominal search` as a process against two baselines measured in the same run: a bare
    start (`caseward --version`) and the floor of any vault command (a Python process that
    imports sqlcipher3, keys the file with the raw data key and runs the same FTS query)."""
    from app.paths import keyfile_path
    from app.security import keyfile
    from app.store.nominals import match_expression

    env = dict(os.environ, CASEWARD_PASSPHRASE=PASSPHRASE)
    base = [sys.executable, "-m", "ui.entry"]
    child_run(base + ["--version"], env)  # warm the page cache
    versions = [child_run(base + ["--version"], env) for _ in range(runs)]
    search_args = base + ["nominal", "search", query, "--vault", str(vault_path(nominals)),
                          "--user", USER, "--json"]
    child_run(search_args, env)
    searches = [child_run(search_args, env) for _ in range(runs)]
    # The floor gets the data key unwrapped once here (no write), through its environment:
    # never on a command line or in an error message.
    key = keyfile.load(keyfile_path(vault_path(nominals))).open_slot(USER, PASSPHRASE, b"")
    if key is None:
        raise RuntimeError("the benchmark vault's slot did not open")
    floor_code = r"""
import os, sys
import sqlcipher3.dbapi2 as sc
c = sc.connect(sys.argv[1])
c.execute("PRAGMA key = \"x'%s'\"" % os.environ["CASEWARD_BENCH_FLOOR_KEY"])
ids = [r[0] for r in c.execute("SELECT rowid FROM nominal_search WHERE nominal_search MATCH ? "
                               "ORDER BY rank LIMIT 50", (sys.argv[2],))]
marks = ",".join("?" * len(ids))
rows = c.execute("SELECT ref, surname, forenames, dob, status, pnc FROM nominal "
                 f"WHERE id IN ({marks}) AND merged_into_id IS NULL", ids).fetchall()
print(len(rows))
"""
    floor_args = [sys.executable, "-c", floor_code, str(vault_path(nominals)),
                  match_expression(query) or "x"]
    floor_env = dict(env, CASEWARD_BENCH_FLOOR_KEY=key.hex())
    child_run(floor_args, floor_env)
    floors = [child_run(floor_args, floor_env) for _ in range(runs)]
    vw, vc = med([t.wall for t in versions]), med([t.cpu for t in versions])
    sw, sc = med([t.wall for t in searches]), med([t.cpu for t in searches])
    fw, fc = med([t.wall for t in floors]), med([t.cpu for t in floors])
    results.append(Result(
        "CLI `nominal search --json` vs `caseward --version` (minimum-KDF slot), CPU", ms(sc),
        "ms", ms(vc), ratio(sc, vc), "≤ 1.2×", sc / vc <= 1.2,
        f"wall {ms(sw)} ms vs {ms(vw)} ms ({sw / vw:.2f}×); median of {runs}; {load_note()}"))
    results.append(Result(
        "CLI `nominal search --json` vs the floor of a vault command, CPU", ms(sc), "ms",
        ms(fc), ratio(sc, fc), "", None,
        f"floor: python + sqlcipher3 + raw key + the FTS query and its rows, no unlock, no "
        f"audit, no SQLAlchemy ({fc / vc:.2f}× --version); wall {ms(sw)} ms vs {ms(fw)} ms"))
    kdf = real_kdf_seconds()
    results.append(Result(
        "CLI `nominal search --json`, real key slot (estimated), CPU", ms(sc + kdf.cpu), "ms",
        ms(vc), ratio(sc + kdf.cpu, vc), "", None,
        f"adds one production Argon2id derivation ({ms(kdf.cpu)} ms CPU, {ms(kdf.wall)} ms "
        f"wall here), which the design sets at 0.3-0.5 s on purpose: {sc / vc:.1f}× "
        f"--version without it, {(sc + kdf.cpu) / vc:.1f}× with it (wall "
        f"{(sw + kdf.wall) / vw:.1f}×); even the floor plus the KDF is "
        f"{(fc + kdf.cpu) / vc:.1f}×, so no command that opens the vault can be within 1.2× "
        f"of a bare start"))


def real_kdf_seconds() -> Timing:
    """One production-strength Argon2id derivation (t=2, 64 MiB, p=2: what bench_foundation
    records for a real slot on this machine), best of 3, wall and CPU (both lanes)."""
    from app.security import crypto

    params = crypto.KdfParams(time_cost=2, memory_kib=64 * 1024, parallelism=2)
    salt = os.urandom(16)
    times = []
    for _ in range(3):
        with timed() as t:
            crypto.argon2id(b"correct horse battery staple", salt, params)
        times.append(t)
    return min(times, key=lambda t: t.wall)


def m_duplicates(results: list[Result], vault: Any) -> None:
    from sqlalchemy import text

    from app.services.duplicates import DuplicateService

    service = DuplicateService(vault)
    with timed() as t:
        scan = service.scan()
    with vault.read() as s, timed() as bare:
        # Baseline: read every live nominal's matching fields once (the scan's floor).
        s.execute(text("SELECT id, surname, forenames, dob, pnc_norm FROM nominal "
                       "WHERE merged_into_id IS NULL")).all()
    # Quality beside speed: the planted duplicates found and the planted twins flagged.
    from app.services.demo import demo_truth

    truth = demo_truth(vault)
    quality = ""
    if truth:
        found = {(p.a, p.b) for p in service.pairs(limit=scan.pairs + 1)}
        planted = {tuple(sorted((a, b))) for a, b, _k in truth["duplicates"]}
        twins = {tuple(sorted((a, b))) for a, b, _k in truth["non_duplicates"]}
        quality = (f"; planted duplicates found {len(planted & found):,}/{len(planted):,}, "
                   f"twins flagged {len(twins & found)}/{len(twins)}")
    results.append(Result(
        "duplicate scan, CPU", t.cpu, "s", bare.cpu, ratio(t.cpu, bare.cpu), "≤ 10 s",
        t.cpu <= 10, f"wall {t.wall:.1f} s; {scan.people:,} people, {scan.comparisons:,} "
        f"comparisons, {scan.pairs:,} pairs{quality}; baseline: reading the fields once"))


def m_list(results: list[Result], vault: Any) -> None:
    from sqlalchemy import text

    from app.domain.nominal import NominalFilter, SortKey
    from app.services.nominals import NominalService

    service = NominalService(vault)
    with vault.read() as s:
        conn = s.connection()
        bw, bc = measure(lambda: conn.execute(text(
            "SELECT ref, surname FROM nominal WHERE merged_into_id IS NULL "
            "ORDER BY sort_name LIMIT 200")).all(), 3)
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("list: first page (count + 200 rows)", lambda: (service.count(),
                                                         service.page(limit=200))),
        ("list: sort by date of birth, descending",
         lambda: service.page(sort_key=SortKey.DOB, descending=True, limit=200)),
        ("list: sort by manager", lambda: service.page(sort_key=SortKey.MANAGER, limit=200)),
        ("list: filter custody + sort by release date",
         lambda: (service.count(NominalFilter(status="custody")),
                  service.page(NominalFilter(status="custody"), SortKey.RELEASE_DATE,
                               limit=200))),
        ("list: filter force + search text",
         lambda: (service.count(NominalFilter(force="West Midlands Police", text="mohammed")),
                  service.page(NominalFilter(force="West Midlands Police", text="mohammed"),
                               limit=200))),
    ]
    for label, fn in cases:
        walls, cpus = measure(fn, 3)
        results.append(Result(f"{label}, CPU (best of 3)", ms(min(cpus)), "ms", ms(min(bc)),
                              ratio(min(cpus), min(bc)), "≤ 300 ms", min(cpus) <= 0.300,
                              f"first wall {ms(walls[0])} ms, best wall {ms(min(walls))} ms; "
                              f"baseline: bare first-page SQL"))


def m_calendar(results: list[Result], vault: Any) -> None:
    from app.services.calendar import CalendarService
    from app.store.engine import raw_connection
    from bench.bench_calendar import _bare, _bare_today

    cal = CalendarService(vault)
    today = date.fromisoformat(TODAY)
    end90 = today + timedelta(days=89)  # 90 days, both ends included
    first = today.replace(day=1)
    grid = first - timedelta(days=first.weekday())
    conn = raw_connection(vault.path, vault.data_key)
    after_first = cal.items_page(today, end90, limit=200).next
    try:
        cases: list[tuple[str, float, Callable[[], Any], Callable[[], Any] | None]] = [
            ("calendar: 90-day query through the service (every item)", 0.200,
             lambda: cal.items(today, end90), lambda: _bare(conn, today, end90)),
            ("calendar: 90-day day counts (what a grid draws)", 0.200,
             lambda: cal.day_counts(today, end90), None),
            ("calendar: 90-day agenda, first page of 200", 0.200,
             lambda: cal.items_page(today, end90, offset=0, limit=200), None),
            # Scrolling on: the page after the first, from its cursor (what fetchMore asks).
            ("calendar: 90-day agenda, next page of 200 (cursor)", 0.200,
             lambda: cal.items_page(today, end90, limit=200, after=after_first), None),
            # What the month grid does on open: per-day counts, then the chosen day's items.
            ("calendar: month view data (6-week grid + day)", 0.500,
             lambda: (cal.day_counts(grid, grid + timedelta(days=41)), cal.items(today, today)),
             lambda: _bare(conn, grid, grid + timedelta(days=41))),
            ("calendar: Today summary", 0.500, lambda: cal.today_summary(today),
             lambda: _bare_today(conn, today, 14)),
        ]
        for label, limit, fn, bare in cases:
            fn()  # warm: reference lists parsed, pages in the cache
            walls, cpus = measure(fn, 3)
            base_c: float | None = None
            if bare is not None:
                bare()
                base_c = med(measure(bare, 3)[1])
            results.append(Result(
                f"{label}, CPU (median of 3)", ms(med(cpus)), "ms",
                None if base_c is None else ms(base_c), ratio(med(cpus), base_c or 0.0),
                f"≤ {int(limit * 1000)} ms", med(cpus) <= limit,
                f"wall median {ms(med(walls))} ms; baseline: bare SQL for the same rows"))
    finally:
        conn.close()


def m_pack(results: list[Result]) -> None:
    """Issue 7: a 50-nominal meeting pack (bench_pack builds its own small vault)."""
    from bench.bench_pack import run as pack_run

    results.extend(pack_run())


def m_reconcile(results: list[Result], nominals: int) -> None:
    """Issue 9: reconciliation 100k vs 100k, by bench/bench_reconcile.py when it exists."""
    if not (ROOT / "bench" / "bench_reconcile.py").exists():
        results.append(Result("reconciliation 100k vs 100k", float("nan"), "s",
                              note="bench/bench_reconcile.py not present"))
        return
    from bench.bench_reconcile import run as reconcile_run

    results.extend(reconcile_run(nominals=nominals))


def m_gui(results: list[Result], nominals: int) -> None:
    """Issue 10: the window on this vault (peak RSS with the list, calendar and Today visited;
    unlock to the Nominals list's first page), by bench/bench_gui.py in child processes."""
    from bench.bench_gui import run as gui_run

    results.extend(gui_run(vault=vault_path(nominals)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nominals", type=int, default=100_000)
    parser.add_argument("--audit-rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--cli-runs", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--only", nargs="*", default=[])
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args(argv)

    path = vault_path(args.nominals)
    stamp = CACHE / f"scale-{args.nominals}.json"
    if args.rebuild or not path.exists() or not stamp.exists():
        print(f"building {path} ({args.nominals:,} nominals, {args.audit_rows:,} audit rows)",
              flush=True)
        steps = build(args.nominals, args.audit_rows, args.seed)
    else:
        steps = {k: Timing(*v) for k, v in json.loads(stamp.read_text()).items()
                 if isinstance(v, list)}
    if args.build_only:
        return 0
    wanted = set(args.only)

    def want(name: str) -> bool:
        return not wanted or name in wanted

    results: list[Result] = []
    if want("demo"):
        m_demo(results, steps, args.nominals)
    # The vault file (1.9 GB) into the OS page cache first, as on a terminal in daily use: when
    # other work has evicted it, every query also pays its disk reads in system time (the 90-day
    # calendar query measured 303 ms with the file partly evicted, 163 ms with it cached).
    with vault_path(args.nominals).open("rb") as fh:
        while fh.read(1 << 24):
            pass
    vault = open_vault(args.nominals)
    qs: list[str] = []
    try:
        from bench.bench_calendar import ensure_indexes

        made = ensure_indexes(vault)  # a vault built by an older tree: the model's indexes
        if made:
            print(f"created indexes the current model has: {', '.join(made)}", flush=True)
        if want("search") or want("cli"):
            qs = m_search(results, vault, args.queries, args.seed)
        if want("list"):
            m_list(results, vault)
        if want("dups"):
            m_duplicates(results, vault)
        if want("calendar"):
            m_calendar(results, vault)
    finally:
        vault.lock()
    # The fresh build runs after the vault's queries: a 100k bulk load leaves the process's
    # heap in a state no working session has, and the query figures above would carry it.
    if want("demo-fresh"):
        m_demo_fresh(results, args.nominals, args.seed)
    if want("cli"):
        m_cli(results, args.nominals, qs[0] if qs else "smith", args.cli_runs)
    if want("gui"):
        m_gui(results, args.nominals)
    if want("pack"):
        m_pack(results)
    if want("reconcile"):
        m_reconcile(results, args.nominals)
    from bench.__main__ import markdown, print_table, record, table

    rows = table(results)
    print_table("bench_scale", rows)
    if args.record:
        record("bench_scale", markdown("bench_scale", rows, 0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
