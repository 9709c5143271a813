"""Benchmark (not a test): the calendar and Today view on a large demo vault.

Run: .venv/bin/python -m bench.bench_calendar --vault V.cwv [--user alice]
     .venv/bin/python -m bench.bench_calendar --make V.cwv --nominals 100000   (builds it first)
The passphrase comes from CASEWARD_PASSPHRASE (default: the test passphrase for a built vault).

Targets (issue 6), at 100,000 nominals with ten years of contacts:
  a 90-day calendar query through the service <= 200 ms; the month view's data (a 6-week grid)
  and the Today summary <= 500 ms. Each figure is compared with bare SQL fetching the same rows
  on a raw SQLCipher connection (the floor: no ORM, no DueItem objects).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

DEFAULT_PASSPHRASE = "correct horse battery staple"

# The same rows the built-in sources read, as plain SQL (live nominals only).
_LIVE = "coalesce(n.merged_into_id, 0) = 0 AND n.erased = 0"
_LICENCE = ["release_date", "crd", "ard", "ped", "npd", "hdced", "prrd", "led", "sed", "tused"]
BARE_SQL = [
    # The plan's covering index, less the few dead nominals (the service's own shape).
    "SELECT p.next_due, p.nominal_id, p.frequency_days FROM contact_plan p "
    "WHERE p.next_due BETWEEN :a AND :b AND p.nominal_id NOT IN "
    "(SELECT id FROM nominal WHERE merged_into_id IS NOT NULL OR erased = 1)",
    f"SELECT r.next_due, n.ref FROM notification_requirement r JOIN nominal n "
    f"ON n.id = r.nominal_id WHERE r.status = 'active' AND r.next_due BETWEEN :a AND :b "
    f"AND {_LIVE}",
    f"SELECT e.due_date, n.ref, e.kind, e.departure_date FROM notification_event e "
    f"JOIN nominal n ON n.id = e.nominal_id JOIN notification_requirement r "
    f"ON r.id = e.requirement_id WHERE e.notified_on IS NULL AND e.due_date BETWEEN :a AND :b "
    f"AND r.status = 'active' AND {_LIVE}",
    f"SELECT r.end_date, n.ref FROM notification_requirement r JOIN nominal n "
    f"ON n.id = r.nominal_id WHERE r.end_date BETWEEN :a AND :b AND r.status != 'suspended' "
    f"AND {_LIVE}",
    f"SELECT n.notification_end, n.ref FROM nominal n WHERE n.notification_end BETWEEN :a AND :b "
    f"AND NOT EXISTS (SELECT 1 FROM notification_requirement r WHERE r.nominal_id = n.id) "
    f"AND {_LIVE}",
    f"SELECT o.end_date, n.ref, o.order_type FROM civil_order o JOIN nominal n "
    f"ON n.id = o.nominal_id WHERE o.end_date BETWEEN :a AND :b "
    f"AND o.status IN ('active', 'expired') AND {_LIVE}",
    f"SELECT v.due_date, n.ref, o.order_type FROM civil_order_review v JOIN civil_order o "
    f"ON o.id = v.order_id JOIN nominal n ON n.id = v.nominal_id WHERE v.done_on IS NULL "
    f"AND v.due_date BETWEEN :a AND :b AND o.status = 'active' AND {_LIVE}",
    "SELECT n.ref, "
    + ", ".join(f"n.{c}" for c in _LICENCE)
    + " FROM nominal n WHERE ("
    + " OR ".join(f"n.{c} BETWEEN :a AND :b" for c in _LICENCE)
    + f") AND {_LIVE}",
]


CPU: list[float] = []  # the CPU time of the last _timed call (median), see main()


def _timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time; the median CPU time goes to CPU[-1]. On a loaded machine the CPU
    time is the fairer figure (the wall time includes waiting for a core)."""
    fn()  # warm the page cache and the statement cache, as a second click would
    times = []
    cpu = []
    result = None
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    CPU.append(statistics.median(cpu))
    return statistics.median(times), result


def _bare(conn: Any, start: date, end: date) -> int:
    rows = 0
    params = {"a": start.isoformat(), "b": end.isoformat()}
    for sql in BARE_SQL:
        rows += len(conn.execute(sql, params).fetchall())
    return rows


def _bare_today(conn: Any, today: date, lead: int) -> int:
    early = date(1900, 1, 1)
    return _bare(conn, early, today - timedelta(days=1)) + _bare(
        conn, today, today + timedelta(days=max(lead, 6))
    )


def _middle_page(cal: Any, start: date, end: date) -> Any:
    total = sum(sum(k.values()) for k in cal.day_counts(start, end).values())
    return cal.items_page(start, end, offset=total // 2, limit=200)


def _size(result: Any) -> int:
    """Items (or counted items) in what a case returned."""
    if hasattr(result, "lists"):
        return int(sum(lst.count for lst in result.lists()))
    if hasattr(result, "total"):
        return len(result.items)
    if isinstance(result, dict):
        return sum(sum(k.values()) for k in result.values())
    if isinstance(result, tuple):
        return sum(_size(r) for r in result)
    return len(result)


def _make(path: Path, nominals: int, seed: int) -> None:
    from app.security.secrets import MemorySecretStore
    from app.services.demo import generate_demo
    from app.services.vault import create_vault

    os.environ.setdefault("CASEWARD_INSECURE_FAST_KDF", "1")
    vault, _recovery = create_vault(
        path,
        "alice",
        DEFAULT_PASSPHRASE,
        bind_to_terminal=False,
        secret_store=MemorySecretStore(),
    )
    started = time.perf_counter()
    summary = generate_demo(vault, nominals, seed)
    vault.lock()
    print(f"built {path.name}: {summary.as_json()} in {time.perf_counter() - started:.0f} s")


def ensure_indexes(vault: Any) -> list[str]:
    """Create the model's indexes that an older (pre-release) vault lacks, or whose columns
    changed; returns their names. Benchmark vaults take an hour to build: reuse them."""
    from sqlalchemy import text

    from app.store.models import Base

    made: list[str] = []
    with vault.write() as s:
        conn = s.connection()
        present = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master"))}
        for table in Base.metadata.sorted_tables:
            if table.name not in present:
                continue
            columns = {r[1] for r in conn.execute(text(f"PRAGMA table_info('{table.name}')"))}
            for index in table.indexes:
                assert index.name is not None
                have = [r[2] for r in conn.execute(text(f"PRAGMA index_info('{index.name}')"))]
                want = [c.name for c in index.columns]
                if have == want or not set(want) <= columns:
                    continue  # present, or on a column this older vault does not have
                if have:
                    conn.execute(text(f"DROP INDEX {index.name}"))
                index.create(conn)
                made.append(index.name)
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vault", type=Path)
    parser.add_argument("--make", type=Path, help="build a demo vault at this path first")
    parser.add_argument("--nominals", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--user", default="alice")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--today", help="the day to measure from (default: today)")
    args = parser.parse_args(argv)

    from sqlalchemy import func, select

    from app.security.secrets import MemorySecretStore
    from app.services.calendar import CalendarService
    from app.services.vault import unlock_vault
    from app.store.engine import raw_connection
    from app.store.models import Contact, ContactPlan, Nominal

    path = args.make or args.vault
    if path is None:
        parser.error("give --vault PATH or --make PATH")
    if args.make is not None:
        _make(args.make, args.nominals, args.seed)
    passphrase = os.environ.get("CASEWARD_PASSPHRASE", DEFAULT_PASSPHRASE)
    vault = unlock_vault(path, args.user, passphrase, secret_store=MemorySecretStore())
    try:
        made = ensure_indexes(vault)
        if made:
            print(f"created indexes: {', '.join(made)}")
        with vault.read() as s:
            counts = (
                s.scalar(select(func.count()).select_from(Nominal)),
                s.scalar(select(func.count()).select_from(Contact)),
                s.scalar(select(func.count()).select_from(ContactPlan)),
            )
        print(f"vault: {counts[0]:,} nominals, {counts[1]:,} contacts, {counts[2]:,} plans")
        today = date.fromisoformat(args.today) if args.today else date.today()
        cal = CalendarService(vault)
        conn = raw_connection(vault.path, vault.data_key)
        first = today.replace(day=1)
        grid_start = first - timedelta(days=first.weekday())  # the Monday the grid starts on
        grid_end = grid_start + timedelta(days=41)
        end90 = today + timedelta(days=89)
        page_one = cal.items_page(today, end90, limit=200)

        def month_view() -> Any:
            # What the month grid does on open: per-day counts, then the selected day's items.
            counts = cal.day_counts(grid_start, grid_end)
            return counts, cal.items(today, today)

        def week_view() -> Any:
            monday = today - timedelta(days=today.weekday())
            return cal.day_counts(monday, monday + timedelta(days=6)), cal.items(today, today)

        cases: list[tuple[str, float | None, Callable[[], Any], Callable[[], Any] | None]] = [
            ("90-day day_counts (grid data)", 0.200,
             lambda: cal.day_counts(today, end90), None),
            ("90-day items() (CLI, all)", 0.200,
             lambda: cal.items(today, end90), lambda: _bare(conn, today, end90)),
            ("agenda first page (90 days)", 0.200,
             lambda: cal.items_page(today, end90, offset=0, limit=200), None),
            ("agenda page at 50% (90 days)", 0.200,
             lambda: _middle_page(cal, today, end90), None),
            ("agenda next page (cursor)", 0.200,
             lambda: cal.items_page(today, end90, limit=200, after=page_one.next), None),
            ("month view open (6-week grid)", 0.500, month_view, None),
            ("week view open", 0.500, week_view, None),
            ("Today summary", 0.500,
             lambda: cal.today_summary(today), lambda: _bare_today(conn, today, 14)),
            ("Today 'show all' page 5", 0.500,
             lambda: cal.today_page("due_this_week", 800, 200, today=today), None),
        ]
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"{'measure':<32} {'items':>8} {'wall':>8} {'CPU':>8} {'bare SQL':>9} "
              f"{'target':>8}")
        failed = False
        for name, target, service, bare in cases:
            t_service, result = _timed(service, args.repeats)
            cpu = CPU[-1]
            t_bare, rows = _timed(bare, args.repeats) if bare is not None else (None, None)
            n = _size(result)
            ok = target is None or t_service <= target
            failed |= not ok
            bare_text = "–" if t_bare is None else f"{t_bare * 1000:.0f}ms"
            print(
                f"{name:<32} {n:>8,} {t_service * 1000:>6.0f}ms {cpu * 1000:>6.0f}ms "
                f"{bare_text:>9} "
                f"{(target or 0) * 1000:>6.0f}ms {'ok' if ok else 'OVER'}"
                + ("" if rows is None else f"   (bare rows {rows:,})")
            )
            if hasattr(result, "lists"):
                print("    " + ", ".join(f"{lst.key} {lst.count:,}" for lst in result.lists()))
        conn.close()
        return 1 if failed else 0
    finally:
        vault.lock()


if __name__ == "__main__":
    sys.exit(main())
