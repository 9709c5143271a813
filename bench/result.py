"""What every benchmark module returns: one Result per measured figure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    """One figure. `baseline` is measured in the same run (None when there is nothing to
    compare with); `ratio` is value / baseline unless the module says otherwise; `target` is
    the goal as written in the issue; `ok` says whether the goal was met (None: no goal)."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    ratio: float | None = None
    target: str = ""
    ok: bool | None = None
    note: str = ""


def ratio(value: float, baseline: float | None) -> float | None:
    return value / baseline if baseline else None
