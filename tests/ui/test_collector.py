"""Cycles are collected on the UI thread only while the window runs (ui/collector.py): a worker
thread that allocates never starts a collection that could delete the UI thread's Qt objects."""

from __future__ import annotations

import gc
import threading
from typing import Any

from ui.collector import UiThreadCollector


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_automatic_collection_is_off_while_installed_and_restored_after(qapp: Any,
                                                                         qtbot: Any) -> None:
    assert gc.isenabled()
    collector = UiThreadCollector(interval_ms=10)
    collector.install()
    try:
        assert not gc.isenabled()
        collected_in: list[str] = []

        def note(phase: str, _info: dict[str, Any]) -> None:
            if phase == "start":
                collected_in.append(threading.current_thread().name)

        gc.callbacks.append(note)
        try:
            # A worker allocating far past the thresholds: no collection may start there.
            def churn() -> None:
                for _ in range(50_000):
                    _Cycle()

            worker = threading.Thread(target=churn, name="worker")
            worker.start()
            worker.join()
            assert "worker" not in collected_in
            # ... and the UI thread's timer collects what the worker left.
            qtbot.waitUntil(lambda: collector.collections > 0, timeout=5000)
            assert collected_in and set(collected_in) == {threading.main_thread().name}
        finally:
            gc.callbacks.remove(note)
    finally:
        collector.uninstall()
    assert gc.isenabled()
    collector.deleteLater()


def test_a_window_session_installs_it_and_shutdown_gives_it_back(unlocked: Any) -> None:
    ctl = unlocked
    assert ctl.collector.installed and not gc.isenabled()
    ctl.shutdown()
    assert not ctl.collector.installed and gc.isenabled()


def test_bulk_passes_in_a_worker_leave_automatic_collection_off(qapp: Any) -> None:
    from app.domain.bulk import collector_paused

    collector = UiThreadCollector()
    collector.install()
    try:
        def bulk() -> None:
            with collector_paused():
                [_Cycle() for _ in range(1000)]

        worker = threading.Thread(target=bulk)
        worker.start()
        worker.join()
        assert not gc.isenabled()  # the pass did not turn it back on
    finally:
        collector.uninstall()
        collector.deleteLater()
    assert gc.isenabled()


def test_two_sessions_keep_it_off_until_the_last_one_ends(qapp: Any) -> None:
    first, second = UiThreadCollector(), UiThreadCollector()
    first.install()
    second.install()
    try:
        first.uninstall()
        assert not gc.isenabled()  # the second window still runs
    finally:
        second.uninstall()
        first.uninstall()  # twice is harmless
    assert gc.isenabled()
    first.deleteLater()
    second.deleteLater()


def test_a_collector_destroyed_without_uninstall_gives_collection_back(qapp: Any) -> None:
    import shiboken6

    collector = UiThreadCollector()
    collector.install()
    assert not gc.isenabled()
    shiboken6.delete(collector)  # its owner failed half-way: nobody called uninstall()
    assert gc.isenabled()
