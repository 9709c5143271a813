"""kill -9 at random moments: during committing writes, a rekey and a passphrase change.

After every kill the vault must open, its audit must verify, every write the child reported as
committed must be there, no change may be half-applied, and no plaintext may reach the disk.

CASEWARD_KILL9_ITERATIONS sets the number of kills during writes (default 50; the benchmark's
long mode uses more); rekey and passphrase change get a quarter as many each (at least 12).
CASEWARD_KILL9_SEED picks the random schedule; CASEWARD_KILL9_REPORT, if set, names a file to
which a JSON line per mode is appended (bench/bench_foundation.py reads it)."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

from app.paths import keyfile_path
from app.security.crypto import decode_recovery_key
from app.security.secrets import MemorySecretStore
from app.services.audit import AuditService
from app.services.vault import create_vault, unlock_vault
from tests.conftest import ROOT
from tests.reliability.writer import MARKER, OTHER_PASSPHRASE, PASSPHRASE
from tests.security.support import files_under, plaintext_hits

ITERATIONS = int(os.environ.get("CASEWARD_KILL9_ITERATIONS", "50"))
SEED = int(os.environ.get("CASEWARD_KILL9_SEED", "20261125"))
EARLY = 0.15  # share of kills aimed at the unlock itself, before the worker is ready
# During writes, the full check runs after every CHECK_EVERY-th kill and after the last. Every
# kill is still followed by an unlock: the next worker's, which reports an error if the vault
# does not open. What the full check looks for (a broken chain, a lost commit, a half-applied
# change) persists once it has happened, so a later check still finds it.
CHECK_EVERY = 3


@dataclass
class Summary:
    mode: str
    iterations: int = 0
    killed: int = 0
    finished: int = 0
    commits_reported: int = 0
    commits_lost: int = 0
    users_reported: int = 0
    open_failures: int = 0
    audit_failures: int = 0
    half_applied: int = 0
    plaintext_hits: int = 0
    stray_temp_files: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(text)

    def report(self) -> None:
        target = os.environ.get("CASEWARD_KILL9_REPORT")
        if target:
            with open(target, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(asdict(self)) + "\n")


class Zygote:
    """The warm parent of the workers (tests/reliability/writer.py)."""

    def __init__(self, vault: Path, mode: str, log: Path) -> None:
        self._log = open(log, "w")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.writer", str(vault), mode],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True,
            bufsize=1, cwd=str(ROOT), env=dict(os.environ),
        )
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put((time.perf_counter(), line.strip()))
        self.lines.put((time.perf_counter(), "eof"))

    def next(self, timeout: float = 120.0) -> list[str]:
        """The next line, split, with its arrival time appended as the last element."""
        try:
            at, line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("the writer stopped answering") from None
        if line == "eof":
            raise AssertionError(f"the writer ended: see {self._log.name}")
        return [*line.split(), repr(at)]

    def run(self, it: int, arg: str, kill_after: float | None, early: bool) -> list[list[str]]:
        """Start worker `it`; kill it `kill_after` s after it is ready (or after it starts, when
        `early`); return everything it reported, in order, up to its exit."""
        assert self.proc.stdin is not None
        token = "other" if arg == OTHER_PASSPHRASE else "first"
        self.proc.stdin.write(f"run {it} {token}\n")
        self.proc.stdin.flush()
        events: list[list[str]] = []
        while not events or events[-1][0] != "pid":
            events.append(self.next())
        pid = int(events[-1][2])
        if kill_after is not None:
            if not early:
                while events[-1][0] not in ("ready", "exit"):
                    events.append(self.next())
            time.sleep(kill_after)
            with contextlib.suppress(ProcessLookupError):  # it may have finished already
                os.kill(pid, signal.SIGKILL)
        while events[-1][0] != "exit":
            events.append(self.next())
        return events

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()


def _status(events: list[list[str]], summary: Summary) -> None:
    status = int(events[-1][2])  # "exit", iteration, status, arrival time
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        summary.killed += 1
    elif os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        summary.finished += 1
    else:
        errors = [" ".join(e) for e in events if e[0] == "error"]
        summary.problem(f"worker failed by itself: status {status} {errors}")


@pytest.fixture
def kill_vault(tmp_path: Path) -> Path:
    path = tmp_path / "k.cwv"
    vault, _ = create_vault(path, "alice", PASSPHRASE, bind_to_terminal=False,
                            secret_store=MemorySecretStore())
    vault.lock()
    return path


def _op_seconds(zygote: Zygote, done: str, passphrases: tuple[str, str]) -> float:
    """Let two runs finish: how long the operation itself takes here, from the worker's
    "ready" to its `done` report (sets the kill window)."""
    spans = []
    for it, passphrase in zip((-2, -1), passphrases, strict=True):
        events = zygote.run(it, passphrase, None, False)
        assert not [e for e in events if e[0] == "error"], events
        at = {e[0]: float(e[-1]) for e in events}
        spans.append(at[done] - at["ready"])
    # Generous: the machine's speed varies, and some runs should finish before the kill.
    return max(max(spans) * 1.5, 0.005)


def _schedule(rng: random.Random, n: int, window: float) -> list[tuple[float, bool]]:
    """Kill times spread evenly over [0, window] after "ready" (one per stratum, shuffled), so
    that kills land early, mid-way and after the end whatever the random draw; every sixth
    kill is aimed at the unlock instead."""
    times = [(window * (i + rng.random()) / n, False) for i in range(n)]
    rng.shuffle(times)
    return [(t / 2, True) if i % 6 == 5 else (t, False) for i, (t, _) in enumerate(times)]


def _scan(path: Path, summary: Summary) -> None:
    files = files_under(path.parent)
    summary.plaintext_hits = len(plaintext_hits(MARKER, files))
    summary.stray_temp_files = sum(1 for f in files if f.name.endswith(".tmp"))
    if summary.plaintext_hits:
        summary.problem(f"plaintext marker found in {plaintext_hits(MARKER, files)}")


def _finish(summary: Summary, started: float) -> None:
    summary.seconds = round(time.perf_counter() - started, 1)
    summary.report()
    assert summary.problems == [], summary.problems
    assert summary.open_failures == summary.audit_failures == summary.half_applied == 0
    assert summary.commits_lost == 0 and summary.plaintext_hits == 0
    # The last check's unlock removed any temp file a killed writer left beside the key file.
    assert summary.stray_temp_files == 0


def test_kill9_during_committing_writes(kill_vault: Path, tmp_path: Path) -> None:
    from sqlalchemy import func, select

    from app.security import keyfile
    from app.store.models import AuditEntry, Revision, Setting, User

    rng = random.Random(SEED)
    summary = Summary("write")
    started = time.perf_counter()
    committed: set[int] = set()
    users: set[str] = set()
    zygote = Zygote(kill_vault, "write", tmp_path / "writer.log")
    try:
        for it in range(ITERATIONS):
            early = rng.random() < EARLY
            events = zygote.run(it, PASSPHRASE, rng.uniform(0, 0.12 if early else 0.3), early)
            summary.iterations += 1
            _status(events, summary)
            reported = {int(e[2]) for e in events if e[0] == "commit"}
            committed |= reported
            users |= {e[2] for e in events if e[0] == "user"}
            if it % CHECK_EVERY and it != ITERATIONS - 1:
                continue
            try:
                vault = unlock_vault(kill_vault, "alice", PASSPHRASE,
                                     secret_store=MemorySecretStore())
            except Exception as exc:
                summary.open_failures += 1
                summary.problem(f"iteration {it}: vault did not open: {exc!r}")
                break
            try:
                result = AuditService(vault).verify()
                if not result.ok:
                    summary.audit_failures += 1
                    summary.problem(f"iteration {it}: audit {result.problem} at {result.first_bad}")
                with vault.read() as s:
                    counter_row = s.get(Setting, "kill9.counter")
                    counter = int(counter_row.value) if counter_row else 0
                    present = {
                        json.loads(d)["n"]
                        for d in s.scalars(select(AuditEntry.detail).where(
                            AuditEntry.action == "kill9.write"))
                    }
                    revisions = s.scalar(select(func.count()).select_from(Revision).where(
                        Revision.entity == "kill9"))
                    active = set(s.scalars(select(User.name).where(User.removed_at.is_(None))))
                lost = committed - present
                summary.commits_lost += len(lost)
                if lost:
                    summary.problem(f"iteration {it}: committed writes lost: {sorted(lost)[:5]}")
                if present != set(range(1, counter + 1)) or revisions != counter:
                    summary.half_applied += 1
                    summary.problem(f"iteration {it}: counter {counter}, audit rows "
                                    f"{len(present)}, revisions {revisions}")
                slots = set(keyfile.load(keyfile_path(kill_vault)).slots)
                if not users <= active or not active <= slots:
                    summary.half_applied += 1
                    summary.problem(f"iteration {it}: users {sorted(users - active)} missing or "
                                    f"without a slot {sorted(active - slots)}")
            finally:
                vault.lock()
    finally:
        zygote.close()
    summary.commits_reported = len(committed)
    summary.users_reported = len(users)
    _scan(kill_vault, summary)
    _finish(summary, started)
    assert summary.killed >= ITERATIONS * 0.9 and summary.commits_reported > ITERATIONS, summary


def test_kill9_during_rekey(kill_vault: Path, tmp_path: Path) -> None:
    rng = random.Random(SEED + 1)
    summary = Summary("rekey")
    started = time.perf_counter()
    zygote = Zygote(kill_vault, "rekey", tmp_path / "writer.log")
    pending = keyfile_path(kill_vault).with_name(keyfile_path(kill_vault).name + ".pending")
    try:
        window = _op_seconds(zygote, "rekeyed", (PASSPHRASE, PASSPHRASE))
        current = unlock_vault(kill_vault, "alice", PASSPHRASE, secret_store=MemorySecretStore())
        key = current.data_key
        current.lock()
        for it, (kill_after, early) in enumerate(_schedule(rng, max(12, ITERATIONS // 4), window)):
            events = zygote.run(it, PASSPHRASE, kill_after, early)
            summary.iterations += 1
            _status(events, summary)
            finished = [e[2] for e in events if e[0] == "rekeyed"]
            try:
                vault = unlock_vault(kill_vault, "alice", PASSPHRASE,
                                     secret_store=MemorySecretStore())
            except Exception as exc:
                summary.open_failures += 1
                summary.problem(f"iteration {it}: vault did not open: {exc!r}")
                break
            try:
                if finished and vault.data_key != decode_recovery_key(finished[0]):
                    summary.half_applied += 1
                    summary.problem(f"iteration {it}: a finished rekey did not stick")
                outcome = "old key" if vault.data_key == key else "new key"
                summary.outcomes[outcome] = summary.outcomes.get(outcome, 0) + 1
                key = vault.data_key
                if pending.exists():
                    summary.half_applied += 1
                    summary.problem(f"iteration {it}: a pending key file was left behind")
                result = AuditService(vault).verify()
                if not result.ok:
                    summary.audit_failures += 1
                    summary.problem(f"iteration {it}: audit {result.problem} at {result.first_bad}")
            finally:
                vault.lock()
    finally:
        zygote.close()
    _scan(kill_vault, summary)
    _finish(summary, started)
    assert summary.killed >= summary.iterations // 3, summary
    assert summary.outcomes.get("new key", 0) > 0, summary
    assert summary.outcomes.get("old key", 0) > 0, summary


def test_kill9_during_passphrase_change(kill_vault: Path, tmp_path: Path) -> None:
    from app.domain.errors import WrongPassphraseOrDamaged

    rng = random.Random(SEED + 2)
    summary = Summary("passwd")
    started = time.perf_counter()
    zygote = Zygote(kill_vault, "passwd", tmp_path / "writer.log")
    current = PASSPHRASE
    try:
        window = _op_seconds(zygote, "changed", (PASSPHRASE, OTHER_PASSPHRASE))
        current = PASSPHRASE  # two calibration runs changed it there and back
        for it, (kill_after, early) in enumerate(_schedule(rng, max(12, ITERATIONS // 4), window)):
            other = OTHER_PASSPHRASE if current == PASSPHRASE else PASSPHRASE
            events = zygote.run(it, current, kill_after, early)
            summary.iterations += 1
            _status(events, summary)
            changed = any(e[0] == "changed" for e in events)
            opened = None
            for candidate in (other, current):
                try:
                    opened = unlock_vault(kill_vault, "alice", candidate,
                                          secret_store=MemorySecretStore())
                except WrongPassphraseOrDamaged:
                    continue
                outcome = "new passphrase" if candidate == other else "old passphrase"
                summary.outcomes[outcome] = summary.outcomes.get(outcome, 0) + 1
                if changed and candidate != other:
                    summary.half_applied += 1
                    summary.problem(f"iteration {it}: a finished change did not stick")
                current = candidate
                break
            if opened is None:
                summary.open_failures += 1
                summary.problem(f"iteration {it}: neither passphrase opens the vault")
                break
            try:
                result = AuditService(opened).verify()
                if not result.ok:
                    summary.audit_failures += 1
                    summary.problem(f"iteration {it}: audit {result.problem} at {result.first_bad}")
            finally:
                opened.lock()
    finally:
        zygote.close()
    _scan(kill_vault, summary)
    _finish(summary, started)
    assert summary.killed >= summary.iterations // 3, summary
    assert summary.outcomes.get("new passphrase", 0) > 0, summary
    assert summary.outcomes.get("old passphrase", 0) > 0, summary
