"""GUI benchmark (issue 10): the real window on the 100,000-nominal vault, offscreen.

Two targets: the window with the Nominals list, the Calendar and Today visited stays within
400 MB of resident memory (VmHWM, the peak, is the verdict; VmRSS after each view is in the
note), and unlock to a usable list takes at most 1.5 s (from pressing Unlock in the unlock
dialog to the Nominals list showing its first page of rows).

Each run is a child process (`--child gui`) that builds `CasewardApp` exactly as `caseward`
does (theme, areas, thread pool) with an in-memory keyring and a private settings file, types
the user and passphrase into the unlock dialog (allowing TYPING_S, 1 s, for the typing: far
less than a person needs), clicks Unlock and goes straight to Nominals,
then scrolls the list, visits Calendar (month, then agenda) and Today, reading
/proc/self/status after each. The baselines run in the same session: a bare QApplication with
a QMainWindow holding an empty QTableView (`--child baseline`: its start time and memory), and
a Qt-free process that unlocks and reads the same first page through the service
(`--child bare`).

The bench vault's key slot uses the minimum Argon2id (CASEWARD_INSECURE_FAST_KDF=1, see
bench_scale.py), so the unlock figure is measured with it; the real-slot figure adds the
difference between one production derivation (t=2, 64 MiB, p=2) and the slot's own,
both measured here.

Run: .venv/bin/python -m bench.bench_gui [--vault PATH] [--runs 3] [--profile FILE]
     .venv/bin/python -m bench gui            (same, through the runner)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.result import Result, ratio  # noqa: E402

DEFAULT_VAULT = Path(tempfile.gettempdir()) / "caseward-bench-scale" / "scale-100000.cwv"
PASSPHRASE = "correct horse battery staple"
USER = "alice"
RSS_TARGET_MB = 400.0
UNLOCK_TARGET_S = 1.5
MARK = "BENCH-GUI-RESULT "
WAIT_S = 120.0
TYPING_S = 1.0


# --- in the child ----------------------------------------------------------------------------

def proc_status() -> dict[str, float]:
    """VmRSS and VmHWM of this process, in MB (10^6 bytes)."""
    out: dict[str, float] = {}
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) * 1024 / 1e6
    return out


def _wait(app: Any, until: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    """Run the event loop until `until()` holds (checked every 2 ms)."""
    from PySide6.QtCore import QEventLoop

    deadline = time.perf_counter() + timeout
    while not until():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 2)
        time.sleep(0.002)


def _settle(app: Any, ms: int = 100) -> None:
    """Let queued events (paints, late results) run, without waiting on anything else."""
    from PySide6.QtCore import QEventLoop

    end = time.perf_counter() + ms / 1000
    while time.perf_counter() < end:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
        time.sleep(0.005)


def child_baseline(started: tuple[float, float]) -> dict[str, Any]:
    """A bare Qt window: QApplication, QMainWindow, an empty QTableView, shown and painted."""
    from PySide6.QtGui import QStandardItemModel
    from PySide6.QtWidgets import QApplication, QMainWindow, QTableView

    app = QApplication(["bench-baseline"])
    window = QMainWindow()
    table = QTableView()
    table.setModel(QStandardItemModel(0, 10))
    window.setCentralWidget(table)
    window.resize(1280, 760)
    window.show()
    _wait(app, window.isVisible, "the bare window")
    _settle(app, 50)
    shown = (time.perf_counter() - started[0], time.process_time() - started[1])
    status = proc_status()
    window.close()
    return {"start_wall": shown[0], "start_cpu": shown[1], "rss": status["VmRSS"],
            "hwm": status["VmHWM"]}


def child_bare(vault_path: Path) -> dict[str, Any]:
    """Without Qt: unlock and read the Nominals list's first page through the service."""
    from app.domain.nominal import NominalFilter, SortKey
    from app.security.secrets import MemorySecretStore
    from app.services.nominals import NominalService
    from app.services.vault import unlock_vault

    wall, cpu = time.perf_counter(), time.process_time()
    vault = unlock_vault(vault_path, USER, PASSPHRASE, secret_store=MemorySecretStore())
    unlocked = time.perf_counter() - wall
    try:
        rows = NominalService(vault).page(NominalFilter(), SortKey.NAME, False, 0, 200)
        assert len(rows) == 200
        result = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                  "unlock_wall": unlocked}
    finally:
        vault.lock()
    result.update({"rss": proc_status()["VmRSS"], "hwm": proc_status()["VmHWM"]})
    return result


def child_gui(vault_path: Path, home: Path, started: tuple[float, float],
              profile: str | None) -> dict[str, Any]:
    """The real window, driven through a user's steps; times and memory at each."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.security.secrets import MemorySecretStore
    from ui import theme
    from ui.app import APPLICATION, ORGANISATION, CasewardApp
    from ui.dialogs import RecordingDialogs

    app = QApplication(["caseward"])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    theme.apply(app)
    settings = QSettings(str(home / "settings.ini"), QSettings.Format.IniFormat)
    dialogs = RecordingDialogs()
    controller = CasewardApp(MemorySecretStore(), vault_path=vault_path, settings=settings,
                             dialogs=dialogs)
    out: dict[str, Any] = {"steps": []}

    def shown_errors() -> str:
        return "; ".join(f"{title}: {text[:300]}" for kind, title, text in dialogs.calls
                         if kind == "error")

    shots = os.environ.get("BENCH_GUI_SHOTS")  # a folder: a PNG of the window at each step

    def step(name: str) -> None:
        _settle(app, 100)
        out["steps"].append({"step": name, **proc_status()})
        if shots:
            number = len(out["steps"])
            target = controller.window if controller.window.isVisible() else dialog
            target.grab().save(str(Path(shots) / f"{number:02d}-{name.split(' (')[0]}.png"))

    try:
        controller.start()
        dialog = controller.unlock_dialog
        assert dialog is not None
        _wait(app, dialog.isVisible, "the unlock dialog")
        _settle(app, 50)
        out["start_wall"] = time.perf_counter() - started[0]
        out["start_cpu"] = time.process_time() - started[1]
        step("unlock dialog shown")
        dialog.user.setText(USER)
        dialog.passphrase.setText(PASSPHRASE)
        # A person takes at least this long to type a user name and a passphrase; the window
        # uses it (MainWindow preloads the first views' code) as a real terminal would.
        _settle(app, int(TYPING_S * 1000))

        marks: dict[str, float] = {}

        def on_unlocked() -> None:
            marks["unlocked"] = time.perf_counter()
            controller.window.show_area("nominals")  # the user goes straight to the list

        controller.unlocked.connect(on_unlocked)
        window = controller.window

        def nominal_list() -> Any:
            area = window.area_widget("nominals")
            return getattr(area, "list", None)

        def first_page_shown() -> bool:
            lst = nominal_list()
            return (lst is not None and lst.model.rowCount() > 0
                    and lst.stack.currentWidget() is lst.table)

        # Diagnostics: when each background operation ran (relative to the click), in which order.
        from ui import ops

        timeline: list[tuple[str, float, float]] = []
        original_run = ops.Operation._run

        def traced_run(op: Any) -> None:
            begun = time.perf_counter()
            try:
                original_run(op)
            finally:
                timeline.append((op.name, begun, time.perf_counter()))

        ops.Operation._run = traced_run  # type: ignore[method-assign]

        profiler = None
        if profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.001)
            profiler.start()
        wall, cpu = time.perf_counter(), time.process_time()
        dialog.unlock_button.click()
        _wait(app, first_page_shown, "the Nominals list's first page")
        app.processEvents()  # the paint of the rows that just arrived
        out["unlock_wall"] = time.perf_counter() - wall
        out["unlock_cpu"] = time.process_time() - cpu
        out["unlock_to_signal"] = marks["unlocked"] - wall
        out["ops"] = [(name, round(a - wall, 3), round(b - wall, 3)) for name, a, b in timeline]
        if profiler is not None:
            profiler.stop()
            ran = "\n".join(f"  {name:<24} {a:6.3f} s → {b:6.3f} s" for name, a, b in out["ops"])
            Path(profile or "").write_text(
                profiler.output_text(unicode=True, color=False)
                + "\nBackground operations until the first page (seconds after the click):\n"
                + ran + "\n", encoding="utf-8")
        lst = nominal_list()
        first_ms = lst.first_page_ms
        _wait(app, lambda: not lst.loading, "the count")
        out["list_count_wall"] = time.perf_counter() - wall
        out["first_page_worker_ms"] = first_ms
        out["total"] = lst.model.rowCount()
        step("Nominals list (first page and count)")

        # Scroll as a user would: to the middle and to the end (pages arrive off the UI thread).
        table = lst.table
        for fraction, name in ((0.5, "middle"), (1.0, "end")):
            row = min(lst.model.rowCount() - 1, int(lst.model.rowCount() * fraction))
            table.scrollTo(lst.model.index(row, 0))
            _settle(app, 50)
            # the model answers a placeholder until the page has arrived from its worker
            _wait(app, lambda r=row: lst.model.data(lst.model.index(r, 1)) not in (None, "…"),
                  f"rows at the {name}")
            step(f"Nominals list scrolled to the {name}")

        calendar = window.show_area("calendar")
        _wait(app, lambda: not calendar.busy, "the calendar's month")
        step("Calendar (month)")
        calendar.set_mode("agenda")
        _wait(app, lambda: not calendar.busy, "the calendar's agenda")
        step("Calendar (agenda)")

        today = window.show_area("today")
        _wait(app, lambda: (today.summary is not None and not today.busy) or bool(shown_errors())
              or today.error.isVisible(), "Today")
        if today.summary is None:
            raise RuntimeError(f"Today did not load: {today.error.text()} {shown_errors()}")
        step("Today")
        window.show_area("nominals")
        step("Nominals again")
        out["errors"] = [c for c in dialogs.calls if c[0] == "error"]
        out["hwm"] = proc_status()["VmHWM"]
    finally:
        controller.shutdown()  # also when a step failed: lock the vault, stop the threads
    return out


def child_main(args: argparse.Namespace, started: tuple[float, float]) -> int:
    if args.child == "baseline":
        result = child_baseline(started)
    elif args.child == "bare":
        result = child_bare(Path(args.vault))
    else:
        result = child_gui(Path(args.vault), Path(args.home), started, args.profile)
    print(MARK + json.dumps(result), flush=True)
    return 0


# --- in the parent ---------------------------------------------------------------------------

def _child(kind: str, vault: Path, home: Path, profile: str | None = None) -> dict[str, Any]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CASEWARD_INSECURE_FAST_KDF="1",
               CASEWARD_HOME=str(home), HOME=str(home), XDG_CONFIG_HOME=str(home / "config"),
               XDG_DATA_HOME=str(home / "data"), XDG_CACHE_HOME=str(home / "cache"),
               PYTHONPATH=str(ROOT))
    env.pop("CASEWARD_PASSPHRASE", None)
    args = [sys.executable, "-m", "bench.bench_gui", "--child", kind, "--vault", str(vault),
            "--home", str(home)]
    if profile:
        args += ["--profile", profile]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, check=False,
                          timeout=600)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARK)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"bench_gui child {kind} failed ({proc.returncode}): "
                           f"{(proc.stderr or proc.stdout).strip()[-600:]}")
    result: dict[str, Any] = json.loads(lines[-1][len(MARK):])
    result["process_wall"] = wall
    result["process_cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result["process_maxrss_mb"] = after.ru_maxrss * 1024 / 1e6  # the largest child so far
    return result


def kdf_seconds(vault: Path) -> tuple[float, float, str]:
    """One production Argon2id derivation and one with the bench slot's own (minimum)
    parameters: best of 3 each, wall."""
    from app.paths import keyfile_path
    from app.security import crypto, keyfile

    slot = keyfile.load(keyfile_path(vault)).slots[USER]
    real = crypto.KdfParams(time_cost=2, memory_kib=64 * 1024, parallelism=2)

    def best(params: Any) -> float:
        times = []
        for _ in range(3):
            w = time.perf_counter()
            crypto.argon2id(PASSPHRASE.encode(), slot.salt, params)
            times.append(time.perf_counter() - w)
        return min(times)

    k = slot.kdf
    return best(real), best(slot.kdf), f"t={k.time_cost} m={k.memory_kib} KiB p={k.parallelism}"


def run(vault: Path | None = None, runs: int | None = None,
        profile: str | None = None) -> list[Result]:
    vault = vault or Path(os.environ.get("BENCH_GUI_VAULT", str(DEFAULT_VAULT)))
    runs = runs or int(os.environ.get("BENCH_GUI_RUNS", "3"))
    if not vault.exists():
        return [Result("GUI on the 100k vault", float("nan"), "MB", ok=None,
                       note=f"{vault} not built: run `python -m bench.bench_scale --build-only`")]
    with tempfile.TemporaryDirectory(prefix="caseward-bench-gui-") as tmp:
        home = Path(tmp)
        _child("bare", vault, home)  # warm the OS page cache for everyone alike
        baselines = [_child("baseline", vault, home) for _ in range(runs)]
        bares = [_child("bare", vault, home) for _ in range(runs)]
        guis = [_child("gui", vault, home, profile if i == 0 else None) for i in range(runs)]
    real_kdf, slot_kdf, slot_params = kdf_seconds(vault)
    one, _five, _fifteen = os.getloadavg()
    load = f"load {one:.1f} on {os.cpu_count()} cores"

    def med(rows: list[dict[str, Any]], key: str) -> float:
        return statistics.median(float(r[key]) for r in rows)

    hwm = max(float(g["hwm"]) for g in guis)
    base_hwm = max(float(b["hwm"]) for b in baselines)
    steps = guis[0]["steps"]
    step_note = "; ".join(f"{s['step']} {s['VmRSS']:.0f}" for s in steps)
    errors = sorted({e[1] for g in guis for e in g["errors"]})
    uw, uc = med(guis, "unlock_wall"), med(guis, "unlock_cpu")
    bw, bc = med(bares, "wall"), med(bares, "cpu")
    real = uw + max(real_kdf - slot_kdf, 0.0)
    results = [
        Result("GUI on 100k: peak RSS (VmHWM), list + calendar + Today visited", hwm, "MB",
               base_hwm, ratio(hwm, base_hwm), f"≤ {RSS_TARGET_MB:.0f} MB", hwm <= RSS_TARGET_MB,
               f"worst of {runs} runs; VmRSS (MB) after each step of run 1: {step_note}; "
               f"baseline: bare QApplication + QMainWindow + empty QTableView (VmRSS "
               f"{med(baselines, 'rss'):.0f} MB)"
               + (f"; errors shown: {', '.join(errors)}" if errors else "")),
        Result("unlock → Nominals first page shown (minimum-KDF slot), wall", uw, "s", bw,
               ratio(uw, bw), f"≤ {UNLOCK_TARGET_S} s", uw <= UNLOCK_TARGET_S,
               f"median of {runs}; CPU {uc:.2f} s (all threads); unlock signal after "
               f"{med(guis, 'unlock_to_signal'):.2f} s; list query in its worker "
               f"{med(guis, 'first_page_worker_ms'):.0f} ms; count shown after "
               f"{med(guis, 'list_count_wall'):.2f} s; baseline: Qt-free unlock_vault + "
               f"first page through NominalService (CPU {bc:.2f} s); slot {slot_params}; "
               f"{load}"),
        Result("unlock → Nominals first page, real key slot (estimated), wall", real, "s", bw,
               ratio(real, bw), f"≤ {UNLOCK_TARGET_S} s", real <= UNLOCK_TARGET_S,
               f"adds one production Argon2id derivation (t=2, 64 MiB, p=2: {real_kdf:.2f} s "
               f"here) less the minimum slot's ({slot_kdf * 1000:.0f} ms); the design sets "
               f"it at 0.3-0.5 s on the terminal: with 0.5 s it would be "
               f"{uw + 0.5 - slot_kdf:.2f} s"),
        Result("GUI start: process start → unlock dialog shown, wall", med(guis, "start_wall"),
               "s", med(baselines, "start_wall"),
               ratio(med(guis, "start_wall"), med(baselines, "start_wall")), "", None,
               f"CPU {med(guis, 'start_cpu'):.2f} s vs {med(baselines, 'start_cpu'):.2f} s; "
               "from the child's first line (interpreter start-up not included); baseline: "
               "bare QApplication + QMainWindow + empty QTableView shown"),
    ]
    return results


def main(argv: list[str] | None = None) -> int:
    started = (time.perf_counter(), time.process_time())
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--vault", default=str(DEFAULT_VAULT))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", default=None,
                        help="write a pyinstrument profile of the first run's unlock to FILE")
    parser.add_argument("--child", choices=("gui", "baseline", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(args, started)
    from bench.__main__ import print_table, table

    results = run(Path(args.vault), args.runs, args.profile)
    print_table("bench_gui", table(results))
    if args.profile:
        print(f"\nprofile of the first run's unlock (UI thread): {args.profile}")
    return 1 if any(r.ok is False for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
