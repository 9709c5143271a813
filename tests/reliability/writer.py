"""Child process for the kill -9 tests.

`python -m tests.reliability.writer VAULT MODE` imports the app once, then waits for commands on
stdin. For each `run I [other]` it forks a worker that unlocks the vault (with the other
passphrase when asked) and works until killed,
and reports on stdout (one line each, written straight to the pipe so that nothing is lost when
the worker dies):

    pid I PID          the worker's process id (from this process, just after the fork)
    ready I            the worker has unlocked the vault and is about to start
    commit I N         write number N is committed (mode "write"; printed after commit returns)
    user I NAME        a user was added and committed (mode "write")
    rekeyed I KEY      the rekey finished; KEY is the new recovery key (mode "rekey")
    changed I          the passphrase change finished (mode "passwd")
    exit I STATUS      the worker is gone (from this process, after waitpid)

Forking from one warm process makes each iteration cost milliseconds instead of an interpreter
start, so the suite can afford dozens of kills."""

from __future__ import annotations

import os
import sys
from pathlib import Path

MARKER = "Kestrel-Vantongeren-4410"  # synthetic: must never appear in plaintext on disk
PASSPHRASE = "correct horse battery staple"
OTHER_PASSPHRASE = "another horse battery staple"
USER_PASSPHRASE = "kill nine user passphrase"


def say(text: str) -> None:
    os.write(1, (text + "\n").encode())


def work(path: Path, mode: str, it: str, arg: str) -> None:
    from app.security.audit import Category
    from app.security.secrets import MemorySecretStore
    from app.services.users import UserService
    from app.services.vault import unlock_vault
    from app.store.models import Setting, utcnow

    passphrase = OTHER_PASSPHRASE if arg == "other" else PASSPHRASE
    vault = unlock_vault(path, "alice", passphrase, secret_store=MemorySecretStore())
    say(f"ready {it}")
    if mode == "rekey":
        recovery = vault.rekey(passphrase)
        say(f"rekeyed {it} {recovery}")
        return
    if mode == "passwd":
        new = OTHER_PASSPHRASE if passphrase == PASSPHRASE else PASSPHRASE
        UserService(vault).change_passphrase("alice", new)
        say(f"changed {it}")
        return
    while True:
        with vault.write() as s:
            row = s.get(Setting, "kill9.counter")
            n = int(row.value) + 1 if row else 1
            if row is None:
                s.add(Setting(key="kill9.counter", value=str(n), updated_by="alice"))
            else:
                row.value, row.updated_at = str(n), utcnow()
            vault.audit(s, Category.COLLECTION, "kill9.write", entity="kill9", ref=f"K-{n}",
                        reason=f"{MARKER} {n}", detail={"n": n, "text": MARKER * 4})
            vault.revision(s, "kill9", n, "create", {"n": (None, n), "text": (None, MARKER)})
        say(f"commit {it} {n}")
        if n % 9 == 0:
            name = f"user{n}"
            UserService(vault).add_user(name, "viewer", USER_PASSPHRASE,
                                        display_name=f"{MARKER} {n}")
            say(f"user {it} {name}")


def warm_up() -> None:
    """Run every code path a worker uses once, on a throwaway vault, so that forked workers
    start warm (imports, mapper configuration, statement caches) and each kill lands in the
    work itself rather than in start-up costs."""
    import shutil
    import tempfile

    from app.security.audit import Category
    from app.security.secrets import MemorySecretStore
    from app.services.users import UserService
    from app.services.vault import create_vault
    from app.store.models import Setting

    folder = Path(tempfile.mkdtemp(prefix="caseward-warm-"))
    try:
        vault, _ = create_vault(folder / "w.cwv", "alice", PASSPHRASE, bind_to_terminal=False,
                                secret_store=MemorySecretStore())
        with vault.write() as s:
            s.get(Setting, "kill9.counter")
            s.add(Setting(key="kill9.counter", value="0", updated_by="alice"))
            vault.audit(s, Category.COLLECTION, "warm", detail={"n": 0})
            vault.revision(s, "warm", 0, "create", {"n": (None, 0)})
        UserService(vault).add_user("warm", "viewer", USER_PASSPHRASE)
        UserService(vault).change_passphrase("alice", OTHER_PASSPHRASE)
        vault.rekey(OTHER_PASSPHRASE)
        vault.lock()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    path, mode = Path(sys.argv[1]), sys.argv[2]
    warm_up()
    for line in sys.stdin:
        parts = line.split()
        if not parts or parts[0] == "quit":
            break
        it, arg = parts[1], (parts[2] if len(parts) > 2 else "")
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                work(path, mode, it, arg)
            except BaseException as exc:  # report, so the parent can tell a bug from a kill
                say(f"error {it} {type(exc).__name__}")
                code = 1
            finally:
                os._exit(code)
        say(f"pid {it} {pid}")
        _, status = os.waitpid(pid, 0)
        say(f"exit {it} {status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
