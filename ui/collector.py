"""Python's cyclic garbage collector, run on the UI thread only.

Left automatic, the collector runs in whichever thread happens to allocate when a generation
fills up: often a background job (a calendar or list query on the OpRunner's pool). A cycle it
breaks there may hold Qt objects of the UI thread (a widget, an action whose slot captures its
view); deleting them from another thread crashes the process (seen as a segmentation fault in
"Garbage-collecting" under a worker's query). While the window runs, automatic collection is
therefore off and a timer on the UI thread collects, by the same generation thresholds Python
uses. Reference counting still frees everything that is not in a cycle at once; only cycles
wait for the next tick.

Bulk passes that pause the collector themselves (``app.domain.bulk.collector_paused``) leave it
as they find it, so a worker never turns automatic collection back on.
"""

from __future__ import annotations

import gc
import time
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, QTimer

TICK_MS = 250
# A full collection walks every object alive (a 100,000-item calendar included): at most one
# per this many seconds. Python defers its own the same way, by the share of long-lived objects.
FULL_EVERY_S = 10.0
# The installed collectors (by id), and whether automatic collection was on before the first.
_active: set[int] = set()
_was_enabled = True


class UiThreadCollector(QObject):
    """Owns the collector while installed: automatic collection off, a UI-thread timer on.

    ``uninstall()`` gives the collector back as it was; so does the object's destruction
    without it (an owner that failed half-way through its constructor)."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = TICK_MS) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self.collections = 0
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.tick)
        self._last_full = time.monotonic()
        self.destroyed.connect(partial(_forget, id(self)))

    @property
    def installed(self) -> bool:
        return id(self) in _active

    def install(self) -> None:
        global _was_enabled
        if self.installed:
            return
        if not _active:  # the first of several (two windows' controllers in one process)
            _was_enabled = gc.isenabled()
            gc.disable()
        _active.add(id(self))
        self._timer.start()

    def uninstall(self) -> None:
        if not self.installed:
            return
        self._timer.stop()
        gc.collect()  # here, on the UI thread, not in the next worker that allocates
        _forget(id(self))

    def tick(self) -> None:
        """Collect the generations Python would have collected by now (youngest first)."""
        t0, t1, t2 = self._thresholds
        c0, c1, c2 = gc.get_count()
        if t0 <= 0 or c0 < t0:
            return
        generation = 0
        if c1 >= t1:
            generation = 1
            now = time.monotonic()
            if c2 >= t2 and now - self._last_full >= FULL_EVERY_S:
                generation = 2
                self._last_full = now
        gc.collect(generation)
        self.collections += 1


def _forget(key: int, *_args: Any) -> None:
    """A collector leaves (uninstalled, or destroyed while installed): the last one gives
    automatic collection back as it was."""
    if key in _active:
        _active.discard(key)
        if not _active and _was_enabled:
            gc.enable()
