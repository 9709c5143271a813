"""Benchmark (not a test): reconcile a messy national list against 100,000 regional nominals.

Run: .venv/bin/python -m bench.bench_reconcile [--nominals 100000] [--rebuild]

The regional vault is a demo vault of nominal records, cached under /tmp/caseward-bench-reconcile
(a copy of bench_nominals' cached vault of the same size when there is one, else built here).
The national list is written from the regional records the hub's way: 1% left off, 1% extra
people, 2% with a field changed, 1% without identifiers and with the name or date written
differently, 40% with force, status, risk... in other words; title rows, junk rows, mixed
date and PNC forms. It is written as xlsx and as csv; each is reconciled end to end (parsing,
loading the regional list, matching, comparing) and timed in wall-clock and CPU seconds, since
the machine this runs on is shared and wall time alone says more about the neighbours.

Target (issue 9): 100,000 regional against a messy 100,000-row national list in <= 30 s,
including parsing.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("CASEWARD_INSECURE_FAST_KDF", "1")

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(tempfile.gettempdir()) / "caseward-bench-reconcile"
NOMINALS_CACHE = Path(tempfile.gettempdir()) / "caseward-bench-nominals"
PASSPHRASE = "correct horse battery staple"
TARGET = 30.0

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.result import Result  # noqa: E402


def _vault(nominals: int, rebuild: bool, seed: int) -> Path:
    """The cached regional vault (with coordinator 'carol'), built or copied once."""
    from app.paths import keyfile_path
    from app.security.secrets import MemorySecretStore
    from app.services import demo
    from app.services.users import UserService
    from app.services.vault import create_vault, unlock_vault

    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"regional-{nominals}.cwv"
    if path.exists() and keyfile_path(path).exists() and not rebuild:
        return path
    for leftover in CACHE.glob(path.name + "*"):
        leftover.unlink()
    store = MemorySecretStore()
    source = NOMINALS_CACHE / f"bench-{nominals}.cwv"
    if source.exists() and keyfile_path(source).exists() and not rebuild:
        print(f"copying bench_nominals' vault of {nominals:,} nominals...")
        shutil.copy(source, path)
        shutil.copy(keyfile_path(source), keyfile_path(path))
        admin = unlock_vault(path, "alice", PASSPHRASE, secret_store=store)
    else:
        print(f"building a demo vault of {nominals:,} nominals (seed {seed})...")
        start = time.perf_counter()
        admin, _ = create_vault(path, "alice", PASSPHRASE, bind_to_terminal=False,
                                secret_store=store)
        saved = list(demo.STEPS)
        demo.STEPS[:] = [s for s in saved if s[0] == "nominals"]
        try:
            demo.generate_demo(admin, nominals, seed)
        finally:
            demo.STEPS[:] = saved
        print(f"  built in {time.perf_counter() - start:.1f} s")
    UserService(admin).add_user("carol", "coordinator", PASSPHRASE)
    admin.lock()
    return path


_FORCE_WORDS = {"Metropolitan Police Service": "METROPOLITAN POLICE",
                "West Midlands Police": "WMP", "Greater Manchester Police": "GMP",
                "Thames Valley Police": "TVP", "South Wales Police": "SWP",
                "Avon and Somerset Constabulary": "Avon & Somerset"}


def national_records(vault: Any, seed: int) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The regional records as the hub writes them, with what was planted."""
    from sqlalchemy import select

    from app.io.national_fixture import make_people
    from app.store.models import Nominal

    rng = random.Random(seed)
    cols = ["surname", "forenames", "dob", "gender", "pnc_norm", "cro", "status", "force",
            "establishment", "release_date", "nominal_manager", "risk_level", "mappa_category",
            "mappa_level", "offence", "notification_end"]
    with vault.read() as s:
        rows = s.execute(select(*[getattr(Nominal, c) for c in cols]).where(
            Nominal.merged_into_id.is_(None)).order_by(Nominal.id)).all()
    out: list[dict[str, Any]] = []
    planted = {"omitted": 0, "extras": 0, "changed": 0, "lookalikes": 0}
    for r in rows:
        v = dict(zip(cols, r, strict=True))
        roll = rng.random()
        if roll < 0.01:
            planted["omitted"] += 1
            continue
        rec = {**v, "pnc": v.pop("pnc_norm"),
               "status": (v["status"] or "").capitalize() or None,
               "risk_level": (v["risk_level"] or "").capitalize() or None,
               "mappa_category": str(v["mappa_category"] or "") or None,
               "mappa_level": str(v["mappa_level"] or "") or None}
        if rng.random() < 0.4:
            rec["force"] = _FORCE_WORDS.get(v["force"] or "", v["force"])
            if rec["establishment"]:
                rec["establishment"] = str(rec["establishment"]).upper()
        if roll < 0.03 and rec["release_date"]:
            rec["release_date"] = rec["release_date"] + timedelta(days=rng.randint(3, 90))
            planted["changed"] += 1
        elif roll < 0.04:
            rec["pnc"] = rec["cro"] = None
            if rec["forenames"] and " " not in rec["forenames"]:
                rec["surname"], rec["forenames"] = rec["forenames"], rec["surname"]
            planted["lookalikes"] += 1
        out.append(rec)
    extras = make_people(len(rows) // 100, seed=seed + 1)
    planted["extras"] = len(extras)
    for person in extras:
        out.insert(rng.randrange(len(out) + 1), person)
    return out, planted


def _timed(fn: Any) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, value


def measure(path: Path, national: Path, label: str) -> list[Result]:
    from app.security.secrets import MemorySecretStore
    from app.services.reconcile import ReconcileService, read_national
    from app.services.vault import unlock_vault

    vault = unlock_vault(path, "carol", PASSPHRASE, secret_store=MemorySecretStore())
    try:
        service = ReconcileService(vault)
        read_wall, read_cpu, (nl, sha) = _timed(lambda: read_national(national))
        match_wall, match_cpu, result = _timed(lambda: service.match(nl, sha))
    finally:
        vault.lock()
    wall, cpu = read_wall + match_wall, read_cpu + match_cpu
    counts = result.counts()
    print(f"  {label}: read {read_wall:6.2f} s wall / {read_cpu:6.2f} s CPU;  "
          f"match {match_wall:6.2f} s wall / {match_cpu:6.2f} s CPU;  "
          f"total {wall:6.2f} s wall / {cpu:6.2f} s CPU")
    print(f"    {counts}  rejected {len(result.rejected):,}")
    note = (f"{counts['national_rows']:,} rows; read {read_cpu:.1f} s CPU, match "
            f"{match_cpu:.1f} s CPU")
    return [
        Result(f"reconcile {label}, wall", wall, "s", target=f"<= {TARGET:.0f} s",
               ok=wall <= TARGET, note=note),
        Result(f"reconcile {label}, CPU", cpu, "s", target=f"<= {TARGET:.0f} s",
               ok=cpu <= TARGET, note="process CPU time: what the work costs unloaded"),
    ]


def run(nominals: int = 100_000, rebuild: bool = False, seed: int = 42) -> list[Result]:
    from app.io.national_fixture import write_messy_national_list
    from app.security.secrets import MemorySecretStore
    from app.services.vault import unlock_vault

    path = _vault(nominals, rebuild, seed)
    lists: dict[str, Path] = {}
    vault = unlock_vault(path, "carol", PASSPHRASE, secret_store=MemorySecretStore())
    try:
        records, planted = national_records(vault, seed)
    finally:
        vault.lock()
    print(f"national list: {len(records):,} records; planted {planted}")
    for fmt in ("xlsx", "csv"):
        target = CACHE / f"national-{nominals}.{fmt}"
        if rebuild or not target.exists():
            write_messy_national_list(records, target, seed=seed, fmt=fmt,  # type: ignore[arg-type]
                                      title_rows=3, encoding="utf-8-sig")
        lists[fmt] = target
    results: list[Result] = []
    for fmt, national in lists.items():
        results.extend(measure(path, national, fmt))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nominals", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    print(f"reconciliation benchmark: {args.nominals:,} regional nominals "
          f"({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f})")
    for r in run(args.nominals, args.rebuild, args.seed):
        verdict = "" if r.ok is None else ("met" if r.ok else "MISSED")
        print(f"  {r.name:<28} {r.value:8.2f} {r.unit}  {r.target}  {verdict}")


if __name__ == "__main__":
    main()
