"""Benchmark runner: `python -m bench [NAME ...] [--record]`.

Discovers the modules bench/bench_*.py that expose `run() -> list[Result]` (bench.result),
runs the named ones (all when none is named; `foundation` and `bench_foundation` both name
bench/bench_foundation.py) and prints one table. `--record` also writes each module's table,
dated, as its own section of bench/RESULTS.md (replacing that module's previous section and
leaving every other section alone)."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import platform
import re
import sys
import time
from datetime import date
from pathlib import Path

import bench
from bench.result import Result

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def discover() -> list[str]:
    return sorted(
        info.name for info in pkgutil.iter_modules(bench.__path__) if info.name.startswith("bench_")
    )


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    if value == int(value):
        text = f"{int(value):,}"
    elif abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}".strip()


def _verdict(r: Result) -> str:
    return "" if r.ok is None else ("met" if r.ok else "MISSED")


def table(results: list[Result]) -> list[list[str]]:
    rows = [["measure", "target", "measured", "baseline", "ratio", "", "note"]]
    for r in results:
        rows.append([
            r.name,
            r.target,
            _fmt(r.value, r.unit),
            _fmt(r.baseline, r.unit),
            "–" if r.ratio is None else f"{r.ratio:.2f}×",
            _verdict(r),
            r.note,
        ])
    return rows


def print_table(title: str, rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print(f"\n{title}")
    for n, row in enumerate(rows):
        print("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))


def markdown(module: str, rows: list[list[str]], seconds: float) -> str:
    today = date.today().isoformat()
    header = ["measure", "target", "measured", "baseline", "ratio", "verdict", "date", "note"]
    lines = [
        f"## {module}",
        "",
        f"Recorded {today} by `python -m bench {module.removeprefix('bench_')} --record` "
        f"({seconds:.0f} s; {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    for row in rows[1:]:
        cells = [*row[:6], today, row[6]]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def record(module: str, section: str) -> None:
    """Replace (or append) this module's section of RESULTS.md."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else (
        "# Benchmark results\n\nEach section is written by `python -m bench NAME --record`;"
        " figures and baselines in a section come from the same run.\n"
    )
    pattern = re.compile(rf"^## {re.escape(module)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="modules to run (default: all)")
    parser.add_argument("--record", action="store_true", help="write the tables to RESULTS.md")
    args = parser.parse_args(argv)
    available = discover()
    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in args.names] or available
    unknown = [n for n in wanted if n not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; have: {', '.join(available)}",
              file=sys.stderr)
        return 2
    missed = False
    for name in wanted:
        module = importlib.import_module(f"bench.{name}")
        run = getattr(module, "run", None)
        if run is None:
            print(f"\n{name}: skipped (no run() -> list[Result]; run it as a script)")
            continue
        started = time.perf_counter()
        results: list[Result] = run()
        seconds = time.perf_counter() - started
        rows = table(results)
        print_table(f"{name} ({seconds:.0f} s)", rows)
        missed |= any(r.ok is False for r in results)
        if args.record:
            record(name, markdown(name, rows, seconds))
    if args.record:
        print(f"\nrecorded in {RESULTS}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
