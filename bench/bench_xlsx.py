"""Benchmark (not a test): write_return against a bare openpyxl write-only script, same cells.

Run: .venv/bin/python -m bench.bench_xlsx [rows] [repeats], or `python -m bench xlsx --record`.
Target: write_return takes at most 1.3x the bare script for 100,000 rows x 15 columns.
write_return streams its own SpreadsheetML into the zip (no temp files); openpyxl here runs
without lxml, as installed.
"""

from __future__ import annotations

import importlib.util
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from app.io.marking import DocumentInfo
from app.io.xlsx import Column, SheetSpec, write_return
from bench.result import Result, ratio

COLUMNS = [
    Column("Reference", width=12),
    Column("Surname"),
    Column("Forenames"),
    Column("Date of birth", "date"),
    Column("Gender", width=8),
    Column("Status", width=12),
    Column("Force"),
    Column("Risk level", width=10),
    Column("Adopted", "date"),
    Column("Last contact", "datetime"),
    Column("Next review", "date"),
    Column("Orders", "int"),
    Column("Contacts", "int"),
    Column("Open actions", "int"),
    Column("Officer"),
]


def make_rows(n: int) -> list[list[object]]:
    """Synthetic nominals; some text starts with a formula trigger, as real data sometimes does."""
    rnd = random.Random(8)
    surnames = ["Jones", "Nowak", "Smith", "Llŵyd", "Żółkiewski", "O'Neil", "Khan", "-Hyphen"]
    forenames = ["Ann", "Gwŷn", "Łukasz", "Mohammed", "Siân", "+44 7700 900123", "Zoë"]
    forces = ["Gwent", "South Wales", "Dyfed-Powys", "North Wales", "Avon and Somerset"]
    base = date(1960, 1, 1)
    seen = datetime(2025, 1, 1, 9, 0)
    rows: list[list[object]] = []
    for i in range(n):
        rows.append([
            f"CW-{i:06d}",
            rnd.choice(surnames),
            rnd.choice(forenames),
            base + timedelta(days=rnd.randrange(20_000)),
            rnd.choice(["F", "M", "X"]),
            rnd.choice(["Active", "Closed", "Referred", "=Review"]),
            rnd.choice(forces),
            rnd.choice(["Low", "Medium", "High"]),
            date(2020, 1, 1) + timedelta(days=rnd.randrange(2_000)),
            seen + timedelta(minutes=rnd.randrange(400_000)),
            date(2026, 1, 1) + timedelta(days=rnd.randrange(365)),
            rnd.randrange(5),
            rnd.randrange(200),
            rnd.randrange(10),
            f"PC {rnd.randrange(9999)} B. Sample",
        ])
    return rows


def bare_openpyxl(path: Path, rows: list[list[object]]) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Nominals")
    ws.append([c.header for c in COLUMNS])
    for row in rows:
        ws.append(row)
    wb.save(path)


def caseward(path: Path, rows: list[list[object]]) -> None:
    info = DocumentInfo(title="Regional headcount return", author="DC 1 Bench",
                        generated_at=datetime(2025, 11, 1, 9, 0), period="October 2025",
                        app_version="bench")
    write_return(path, info, [SheetSpec("Nominals", COLUMNS, iter(rows), len(rows))])


def xlsxwriter_constant_memory(path: Path, rows: list[list[object]]) -> None:
    import xlsxwriter  # type: ignore[import-not-found]

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True,
                                         "strings_to_formulas": False})
    ws = wb.add_worksheet("Nominals")
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    for r, row in enumerate([[c.header for c in COLUMNS], *rows]):
        for c, value in enumerate(row):
            if isinstance(value, date):
                ws.write_datetime(r, c, value, date_fmt)
            else:
                ws.write(r, c, value)
    wb.close()


def timed(fn: Callable[[Path, list[list[object]]], None], folder: Path, name: str,
          rows: list[list[object]]) -> tuple[float, float]:
    """(CPU seconds, wall seconds). CPU time is the fair measure on a shared, busy machine."""
    path = folder / name
    cpu, wall = time.process_time(), time.perf_counter()
    fn(path, rows)
    result = time.process_time() - cpu, time.perf_counter() - wall
    path.unlink()
    return result


def measure(n: int, repeats: int) -> tuple[dict[str, float], dict[str, float]]:
    rows = make_rows(n)
    contenders: list[tuple[str, Callable[[Path, list[list[object]]], None]]] = [
        ("bare openpyxl write-only", bare_openpyxl),
        ("caseward write_return", caseward),
    ]
    cpu: dict[str, float] = {}
    wall: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):  # interleaved, so that machine noise falls on both alike
            for label, fn in contenders:
                c, w = timed(fn, Path(tmp), "bench.xlsx", rows)
                cpu[label] = min(cpu.get(label, c), c)
                wall[label] = min(wall.get(label, w), w)
    return cpu, wall


def run() -> list[Result]:
    """For `python -m bench xlsx`: 100,000 x 15, best of 2, CPU seconds (the fair measure on a
    shared machine) with wall time in the note."""
    cpu, wall = measure(100_000, 2)
    ours, bare = cpu["caseward write_return"], cpu["bare openpyxl write-only"]
    r = ratio(ours, bare)
    return [
        Result("headcount 100,000 x 15 via write_return (cpu)", ours, "s", bare, r,
               "<= 1.30x bare openpyxl write-only", r is not None and r <= 1.3,
               f"wall {wall['caseward write_return']:.1f} s vs "
               f"{wall['bare openpyxl write-only']:.1f} s; no temp files; lxml not installed"),
    ]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    rows = make_rows(n)
    print(f"{n:,} rows x {len(COLUMNS)} columns, best of {repeats}")
    contenders: list[tuple[str, Callable[[Path, list[list[object]]], None]]] = [
        ("bare openpyxl write-only", bare_openpyxl),
        ("caseward write_return", caseward),
    ]
    if importlib.util.find_spec("xlsxwriter"):
        contenders.append(("xlsxwriter constant_memory", xlsxwriter_constant_memory))
    cpu: dict[str, float] = {}
    wall: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):  # interleaved, so that machine noise falls on both alike
            for label, fn in contenders:
                c, w = timed(fn, Path(tmp), "bench.xlsx", rows)
                cpu[label] = min(cpu.get(label, c), c)
                wall[label] = min(wall.get(label, w), w)
    print(f"  {'':30s} {'cpu':>8s} {'wall':>8s}")
    for label in cpu:
        print(f"  {label:30s} {cpu[label]:7.2f}s {wall[label]:7.2f}s")
    ours, bare = "caseward write_return", "bare openpyxl write-only"
    print(f"  ratio caseward / bare: cpu {cpu[ours] / cpu[bare]:.2f}x, "
          f"wall {wall[ours] / wall[bare]:.2f}x (target <= 1.30x)")
    lxml = importlib.util.find_spec("lxml") is not None
    print(f"  lxml installed: {lxml} (openpyxl uses it for faster XML when present)")
    if not importlib.util.find_spec("xlsxwriter"):
        print("  xlsxwriter not installed: no comparison")


if __name__ == "__main__":
    main()
