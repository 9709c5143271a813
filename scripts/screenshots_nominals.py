"""Screenshots of the nominal windows (list, record form and every tab, history, duplicates
review, data quality) at 1366x768 and 1920x1080, plus the list window's memory and timings.

Usage: .venv/bin/python scripts/screenshots_nominals.py VAULT USER [OUT_DIR]
The vault must hold synthetic demo data (``caseward demo``); the passphrase comes from
CASEWARD_PASSPHRASE. Writes PNGs and measurements.json to OUT_DIR (default
/tmp/caseward-shots/). Uses a throw-away home folder and an in-memory keyring."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _shots  # first (sorts first too): a throw-away home and offscreen Qt before the app
from _shots import SIZES, settle


def rss_mb() -> float:
    """Resident memory now (Linux /proc), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def wait_until(app: Any, cond: Callable[[], bool], timeout: float = 600.0) -> float:
    """As _shots.wait_until, with the time a 100,000-nominal vault may need."""
    return _shots.wait_until(app, cond, timeout)


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    vault_path, user = Path(sys.argv[1]), sys.argv[2]
    out = _shots.out_dir(sys.argv[3] if len(sys.argv) > 3 else None)
    passphrase = os.environ.get("CASEWARD_PASSPHRASE", "")
    app = _shots.qt_app()
    ctl = _shots.window_app(vault_path, idle_timeout_ms=3_600_000)
    figures: dict[str, object] = {"rss_before_unlock_mb": round(rss_mb(), 1)}
    _shots.unlock(app, ctl, user, passphrase, 120)
    win = ctl.window
    win.resize(*SIZES[0])
    settle(app)
    figures["rss_unlocked_mb"] = round(rss_mb(), 1)
    saved: list[str] = []

    def shot(name: str) -> None:
        settle(app)
        path = out / f"nominals-{name}.png"
        win.grab().save(str(path))
        saved.append(path.name)

    # -- the list: time to the first page as the user sees it ---------------------------------
    # (the Today area, shown at unlock, loads in the background first: let it finish)
    figures["today_area_background_s"] = round(wait_until(app, lambda: ctl.ops.active == 0), 1)
    started = time.perf_counter()
    area = win.show_area("nominals")
    figures["list_area_built_ms"] = round((time.perf_counter() - started) * 1000)
    lst = area.list  # type: ignore[attr-defined]
    wait_until(app, lambda: lst.model.rowCount() > 0)
    figures["list_open_to_first_page_ms"] = round((time.perf_counter() - started) * 1000)
    wait_until(app, lambda: not lst.loading)
    figures["list_open_to_count_ms"] = round((time.perf_counter() - started) * 1000)
    figures["list_first_page_worker_ms"] = round(lst.first_page_ms)
    figures["list_count_worker_ms"] = round(lst.count_ms)
    figures["list_count_label"] = lst.count_label.text()
    settle(app)
    figures["rss_list_open_mb"] = round(rss_mb(), 1)
    # A header click (sort by date of birth, SQL) and scrolling to the far end.
    started = time.perf_counter()
    lst.model.sort(2)
    lst.model.record(0)
    figures["sort_dob_first_page_ms"] = round((time.perf_counter() - started) * 1000)
    from ui.nominals.models import PLACEHOLDER

    def loaded_row(row: int) -> bool:
        return bool(lst.model.index(row, 1).data() != PLACEHOLDER)

    for name, row in (("end", lst.model.rowCount() - 1), ("middle", lst.model.rowCount() // 2)):
        started = time.perf_counter()
        lst.table.scrollTo(lst.model.index(row, 0))
        settle(app, 2)
        figures[f"scroll_to_{name}_ui_blocked_ms"] = round((time.perf_counter() - started)
                                                          * 1000)
        wait_until(app, lambda r=row: loaded_row(r))  # type: ignore[misc]
        figures[f"scroll_to_{name}_rows_shown_ms"] = round((time.perf_counter() - started)
                                                          * 1000)
    figures["rows_held_after_scroll"] = lst.model.cached_rows()
    figures["rss_after_sort_and_scroll_mb"] = round(rss_mb(), 1)
    lst.model.sort(1)
    lst.table.scrollToTop()
    lst.table.selectRow(0)

    for w, h in SIZES:
        win.resize(w, h)
        lst.clear_filters()
        wait_until(app, lambda: not lst.loading)
        lst.table.selectRow(0)
        shot(f"list-{w}x{h}")
    # Warm: the list again (count and first page), then a search with another spelling.
    win.resize(*SIZES[0])
    wait_until(app, lambda: ctl.ops.active == 0)
    started = time.perf_counter()
    lst.reload()
    wait_until(app, lambda: not lst.loading)
    figures["list_reload_warm_ms"] = round((time.perf_counter() - started) * 1000)
    figures["list_reload_warm_first_page_worker_ms"] = round(lst.first_page_ms)
    figures["list_reload_warm_count_worker_ms"] = round(lst.count_ms)
    started = time.perf_counter()
    lst.search.setText("Muhamad Hussein")
    lst.reload()
    wait_until(app, lambda: not lst.loading)
    figures["search_ms_in_window"] = round((time.perf_counter() - started) * 1000)
    figures["search_count_label"] = lst.count_label.text()
    shot("search-1366x768")
    lst.status.setCurrentIndex(lst.status.findData("custody"))
    wait_until(app, lambda: not lst.loading)
    shot("search-filtered-1366x768")
    lst.clear_filters()
    wait_until(app, lambda: not lst.loading)

    # -- the record form: every tab -------------------------------------------------------------
    from app.services.duplicates import DuplicateService

    pairs = DuplicateService(ctl.vault).pairs(0, 1) if ctl.vault else []
    ref = lst.model.record(3).ref
    for w, h in SIZES:
        win.resize(w, h)
        page = area.open_record(ref)  # type: ignore[attr-defined]
        assert page is not None
        titles = ["identity", "status", "sentence", "risk", "notes", "history"]
        for i, title in enumerate(titles):
            page.view.tabs.setCurrentIndex(i)
            shot(f"form-{title}-{w}x{h}")
        page.view.tabs.setCurrentIndex(2)
        page.view.dates["dates.led"].line.setText("31/02/2031")
        page.view.dates["dates.crd"].line.setText("01/01/1949")
        shot(f"form-validation-{w}x{h}")
        page.controller.load(page.controller.record)
        page.request_back()
    # A new record (blank): what Ctrl+N shows.
    win.resize(*SIZES[0])
    page = area.new_record()  # type: ignore[attr-defined]
    page.view.pnc.setText("09/123456A")
    shot("form-new-1366x768")
    page.controller.load(None)
    page.request_back()

    # -- duplicates -------------------------------------------------------------------------
    dup = win.show_area("duplicates")
    wait_until(app, lambda: not dup.loading)  # type: ignore[attr-defined]
    if not pairs:
        started = time.perf_counter()
        dup.scan()  # type: ignore[attr-defined]
        settle(app)
        shot("duplicates-scanning-1366x768")
        wait_until(app, lambda: dup.scan_op is None, 900)  # type: ignore[attr-defined]
        wait_until(app, lambda: not dup.loading)  # type: ignore[attr-defined]
        figures["duplicate_scan_in_window_s"] = round(time.perf_counter() - started, 1)
    for w, h in SIZES:
        win.resize(w, h)
        dup.table.selectRow(0)  # type: ignore[attr-defined]
        shot(f"duplicates-{w}x{h}")

    # -- data quality ------------------------------------------------------------------------
    started = time.perf_counter()
    dq = win.show_area("quality")
    panel = dq.panel  # type: ignore[attr-defined]
    wait_until(app, lambda: not panel.loading)
    figures["quality_summary_s"] = round(time.perf_counter() - started, 1)
    for w, h in SIZES:
        win.resize(w, h)
        panel.rule_table.selectRow(2)
        shot(f"quality-{w}x{h}")
    win.resize(*SIZES[0])
    panel.record_table.selectRow(0)
    row = panel.selected_record()
    if row is not None:
        dq.open_record(row.ref)  # type: ignore[attr-defined]
        shot("quality-record-faults-1366x768")

    figures["rss_end_mb"] = round(rss_mb(), 1)
    figures["screenshots"] = saved
    (out / "nominals-measurements.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
    ctl.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
