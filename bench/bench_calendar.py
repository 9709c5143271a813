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
    f"SELECT p.next_due, n.ref, p.frequency_days FROM contact_plan p JOIN nominal n "
    f"ON n.id = p.nominal_id WHERE p.next_due BETWEEN :a AND :b AND {_LIVE}",
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


def _timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    fn()  # warm the page cache and the statement cache, as a second click would
    times = []
    result = None
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def _bare(conn: Any, start: date, end: date) -> int:
    rows = 0
    params = {"a": start.isoformat(), "b": end.isoformat()}
    for sql in BARE_SQL:
        if sql.startswith("SELECT n."):  # scans of nominal: literal dates, as the service does
            sql = sql.replace(":a", f"'{params['a']}'").replace(":b", f"'{params['b']}'")
        rows += len(conn.execute(sql, params).fetchall())
    return rows


def _bare_today(conn: Any, today: date, lead: int) -> int:
    early = date(1900, 1, 1)
    return _bare(conn, early, today - timedelta(days=1)) + _bare(
        conn, today, today + timedelta(days=max(lead, 6))
    )


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
        cases = [
            (
                "90-day calendar",
                0.200,
                lambda: cal.items(today, today + timedelta(days=89)),
                lambda: _bare(conn, today, today + timedelta(days=89)),
            ),
            (
                "month view (6-week grid)",
                0.500,
                lambda: cal.items(grid_start, grid_end),
                lambda: _bare(conn, grid_start, grid_end),
            ),
            (
                "Today summary",
                0.500,
                lambda: cal.today_summary(today),
                lambda: _bare_today(conn, today, 14),
            ),
        ]
        print(
            f"{'measure':<26} {'items':>8} {'service':>10} {'bare SQL':>10} {'ratio':>6} "
            f"{'target':>8}"
        )
        failed = False
        for name, target, service, bare in cases:
            t_service, result = _timed(service, args.repeats)
            t_bare, rows = _timed(bare, args.repeats)
            n = (
                sum(lst.count for lst in result.lists())
                if hasattr(result, "lists")
                else len(result)
            )
            ok = t_service <= target
            failed |= not ok
            print(
                f"{name:<26} {n:>8,} {t_service * 1000:>8.0f}ms {t_bare * 1000:>8.0f}ms "
                f"{t_service / max(t_bare, 1e-9):>6.1f} {target * 1000:>6.0f}ms"
                f" {'ok' if ok else 'OVER'}   (bare rows {rows:,})"
            )
            if hasattr(result, "lists"):
                print("    " + ", ".join(f"{lst.key} {lst.count:,}" for lst in result.lists()))
        conn.close()
        return 1 if failed else 0
    finally:
        vault.lock()


if __name__ == "__main__":
    sys.exit(main())
