"""Background operations: results, plain errors, bugs logged with a path, cancellation."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from app.domain.errors import ValidationError


def test_result_arrives_in_the_ui_thread(qtbot: Any, runner: Any) -> None:
    got: list[Any] = []
    seen: list[int] = []

    def work(ctx: Any) -> str:
        ctx.progress(1, 2)
        return "done"

    op = runner.start("t", work, on_result=lambda v: got.append((v, threading.current_thread())),
                      on_progress=lambda d, t: seen.append(d))
    qtbot.waitUntil(lambda: bool(got))
    assert got[0] == ("done", threading.main_thread())
    assert seen == [1] and op.done
    qtbot.waitUntil(lambda: runner.active == 0)
    assert runner.wait(5000)


def test_caseward_errors_are_plain_and_other_errors_are_logged_bugs(
    qtbot: Any, runner: Any
) -> None:
    from app.paths import log_dir

    errors: list[Any] = []
    bugs: list[str] = []

    def refuse(ctx: Any) -> None:
        raise ValidationError("user", "is wrong")

    def crash(ctx: Any) -> None:
        raise KeyError("never shown: could be record data")

    runner.start("refuse", refuse, on_error=errors.append)
    runner.start("crash", crash, on_bug=bugs.append)
    qtbot.waitUntil(lambda: bool(errors) and bool(bugs))
    assert isinstance(errors[0], ValidationError)
    log = log_dir() / "caseward.log"
    assert str(log) in bugs[0] and "KeyError" in bugs[0] and "bug" in bugs[0]
    text = Path(log).read_text(encoding="utf-8")
    assert "command=gui:crash error=builtins.KeyError" in text
    assert "never shown" not in text and "never shown" not in bugs[0]
    assert runner.wait(5000)


def test_cancelled_work_delivers_nothing(qtbot: Any, runner: Any) -> None:
    release = threading.Event()
    got: list[Any] = []

    def slow(ctx: Any) -> str:
        release.wait(5)
        return "late"

    def stoppable(ctx: Any) -> str:
        release.wait(5)
        ctx.check()
        return "never"

    a = runner.start("slow", slow, on_result=got.append)
    b = runner.start("stoppable", stoppable, on_result=got.append)
    runner.cancel_all()
    assert runner.active == 0
    release.set()
    assert runner.wait(5000)
    qtbot.waitUntil(lambda: a.done and b.done)
    qtbot.wait(50)
    assert got == []


def test_progress_sink_passes_an_unknown_total_as_busy_and_stops_on_cancel(
    qtbot: Any, runner: Any
) -> None:
    """OpProgressSink (the export layer's sink): a writer that does not know its total yet
    reports None, which reaches the view as total 0 (a busy bar), not dropped."""
    from ui.ops import OpProgressSink

    seen: list[tuple[int, int]] = []
    sinks: list[bool] = []

    def work(ctx: Any) -> str:
        sink = OpProgressSink(ctx)
        sink.progress(3, None)
        sink.progress(4, 10)
        sinks.append(sink.is_cancelled())
        return "done"

    got: list[Any] = []
    runner.start("sink", work, on_result=got.append, on_progress=lambda d, t: seen.append((d, t)))
    qtbot.waitUntil(lambda: bool(got))
    assert seen == [(3, 0), (4, 10)] and sinks == [False]

    started, release = threading.Event(), threading.Event()
    after_cancel: list[bool] = []

    def cancelled(ctx: Any) -> str:
        sink = OpProgressSink(ctx)
        started.set()
        release.wait(5)
        sink.progress(1, 2)  # after Cancel: dropped, and no Cancelled raised into the writer
        after_cancel.append(sink.is_cancelled())
        return "late"

    op = runner.start("sink-cancel", cancelled, on_progress=lambda d, t: seen.append((d, t)))
    assert started.wait(5)
    op.cancel()
    release.set()
    assert runner.wait(5000)
    qtbot.waitUntil(lambda: op.done)
    assert after_cancel == [True] and seen == [(3, 0), (4, 10)]
