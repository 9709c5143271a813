"""Benchmark: parse a messy 100,000-row national list (xlsx and csv) against bare-reader baselines.

Run: .venv/bin/python -m bench.bench_import [ROWS]
"""

from __future__ import annotations

import csv
import sys
import tempfile
import time
import warnings
import zipfile
from pathlib import Path
from xml.etree.ElementTree import iterparse

from app.io.national_fixture import make_people, write_messy_national_list
from app.io.national_import import read_national_list


def _timed(label: str, action: object) -> float:
    assert callable(action)
    start = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - start
    print(f"  {label:<44} {elapsed:7.2f} s   ({result})")
    return elapsed


def _openpyxl_baseline(path: Path) -> int:
    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        count = sum(1 for _ in sheet.iter_rows(values_only=True))
        workbook.close()
    return count


def _iterparse_baseline(path: Path) -> int:
    with zipfile.ZipFile(path) as archive, archive.open("xl/worksheets/sheet1.xml") as sheet:
        return sum(1 for _ in iterparse(sheet))


def _csv_baseline(path: Path, encoding: str, delimiter: str) -> int:
    with path.open(encoding=encoding, newline="") as handle:
        return sum(1 for _ in csv.reader(handle, delimiter=delimiter))


def main(rows: int = 100_000) -> None:
    print(f"national list import benchmark: {rows:,} records")
    start = time.perf_counter()
    people = make_people(rows, seed=1)
    print(f"  synthetic people: {time.perf_counter() - start:.2f} s")
    with tempfile.TemporaryDirectory(prefix="caseward-bench-") as folder:
        base = Path(folder)
        start = time.perf_counter()
        xlsx = write_messy_national_list(people, base / "national.xlsx", seed=7)
        print(f"  write messy xlsx: {time.perf_counter() - start:.2f} s "
              f"({xlsx.path.stat().st_size / 1e6:.1f} MB)")  # fmt: skip
        start = time.perf_counter()
        plain = write_messy_national_list(
            people, base / "national.csv", seed=7, encoding="utf-8-sig", delimiter=","
        )
        print(f"  write messy csv:  {time.perf_counter() - start:.2f} s "
              f"({plain.path.stat().st_size / 1e6:.1f} MB)")  # fmt: skip

        print("xlsx")
        ours = _timed(
            "read_national_list",
            lambda: f"{len(read_national_list(xlsx.path).rows):,} rows",
        )
        bare = _timed("openpyxl read_only, values only (baseline)",
                      lambda: f"{_openpyxl_baseline(xlsx.path):,} rows")  # fmt: skip
        floor = _timed("stdlib iterparse of the sheet XML (floor)",
                       lambda: f"{_iterparse_baseline(xlsx.path):,} elements")  # fmt: skip
        print(f"  ratio ours / openpyxl: {ours / bare:.2f}   ours / iterparse: {ours / floor:.2f}")

        print("csv")
        ours = _timed(
            "read_national_list",
            lambda: f"{len(read_national_list(plain.path).rows):,} rows",
        )
        bare = _timed("csv.reader (baseline)",
                      lambda: f"{_csv_baseline(plain.path, 'utf-8-sig', ','):,} rows")  # fmt: skip
        print(f"  ratio ours / csv.reader: {ours / bare:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
