"""Creating, unlocking, locking, rekeying and backing up a vault; sessions and the audit writer.

A `Vault` is an unlocked vault: it holds the data key, two engines (reads, and writes that take
the write lock at BEGIN), and the signed-in user. Services receive it in their constructor and
open one session per unit of work."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DatabaseError as SQLAlchemyDatabaseError
from sqlalchemy.orm import Session

from app import __version__
from app.domain.caches import forget_record_data
from app.domain.errors import (
    BadInput,
    IntegrityError,
    LockedOut,
    UnknownUser,
    ValidationError,
    VaultDamaged,
    VaultLocked,
    VaultOpenError,
    WrongPassphraseOrDamaged,
)
from app.domain.roles import Role
from app.paths import keyfile_path
from app.security import crypto, keyfile
from app.security.audit import GENESIS, Category, row_hash
from app.security.secrets import SecretStore
from app.store import schema
from app.store.engine import make_engine, raw_connection
from app.store.models import AuditEntry, Revision, User, VaultMeta, utcnow

MIN_PASSPHRASE = 12


@dataclass(frozen=True)
class Actor:
    user: str
    role: Role


def check_new_passphrase(passphrase: str, field: str = "passphrase") -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise ValidationError(field, f"must be at least {MIN_PASSPHRASE} characters")
    if len(set(passphrase)) < 5:
        raise ValidationError(field, "is too repetitive; use several unrelated words")


def check_user_name(name: str) -> None:
    import re

    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9._-]{1,63}", name or ""):
        raise ValidationError(
            "user", "must start with a letter and use only letters, digits, '.', '_' or '-'"
        )


def _terminal_key_name(vault_id: str) -> str:
    return f"vault-{vault_id}"


def _role_mac(integrity_key: bytes, name: str, role: str, removed: datetime | None) -> str:
    # Keyed by the vault's integrity key (kept inside the encrypted database), not by the data
    # key: a rekey then never has to rewrite user rows, so a crash during one cannot leave roles
    # signed under a key the database does not use.
    key = crypto.hkdf(integrity_key, "caseward roles v1")
    return crypto.mac(key, f"{name}|{role}|{removed.isoformat() if removed else ''}".encode())


def _pending_path(path: Path) -> Path:
    return keyfile_path(path).with_name(keyfile_path(path).name + ".pending")


class Vault:
    """An unlocked vault. Call `lock()` to drop the key and close every connection."""

    def __init__(
        self,
        path: Path,
        kf: keyfile.KeyFile,
        data_key: bytes,
        actor: Actor,
        secret_store: SecretStore,
    ) -> None:
        self.path = path
        self.keyfile = kf
        self._key: bytearray | None = bytearray(data_key)
        self.actor = actor
        self.secret_store = secret_store
        self._read_engine: Engine | None = make_engine(path, data_key)
        self._write_engine: Engine | None = make_engine(path, data_key, immediate=True)
        self._integrity_key: bytes | None = None
        self.keyfile_trusted = kf.verify(data_key)
        self.on_lock: list[Callable[[], None]] = []

    # -- state ----------------------------------------------------------------------------
    @property
    def locked(self) -> bool:
        return self._key is None

    @property
    def data_key(self) -> bytes:
        if self._key is None:
            raise VaultLocked("The vault is locked. Unlock it to continue.")
        return bytes(self._key)

    @property
    def integrity_key(self) -> bytes:
        if self._integrity_key is None:
            with self.read() as s:
                value = s.get(VaultMeta, "integrity_key")
                if value is None:
                    raise VaultDamaged("The vault has no integrity key; it is damaged.")
                self._integrity_key = bytes.fromhex(value.value)
        return self._integrity_key

    def lock(self) -> None:
        """Drop the key and every connection. Idempotent."""
        if self._key is None:
            return
        with contextlib.suppress(Exception):
            self.checkpoint_audit()
        for i in range(len(self._key)):
            self._key[i] = 0
        self._key = None
        self._integrity_key = None
        for engine in (self._read_engine, self._write_engine):
            if engine is not None:
                engine.dispose()
        self._read_engine = self._write_engine = None
        forget_record_data()  # names and identifiers memoised by folding and matching
        for callback in list(self.on_lock):
            with contextlib.suppress(Exception):
                callback()

    # -- sessions -------------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Session]:
        if self._read_engine is None:
            raise VaultLocked("The vault is locked. Unlock it to continue.")
        with Session(self._read_engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on any error, then checkpoints."""
        if self._write_engine is None:
            raise VaultLocked("The vault is locked. Unlock it to continue.")
        with Session(self._write_engine, expire_on_commit=False) as session, session.begin():
            yield session
        self.checkpoint_audit()

    # -- audit and revisions --------------------------------------------------------------
    def audit(
        self,
        session: Session,
        category: Category,
        action: str,
        *,
        entity: str = "",
        ref: str = "",
        reason: str = "",
        recipient: str = "",
        detail: dict[str, Any] | None = None,
        user: str | None = None,
    ) -> None:
        """Append one hash-chained row in the caller's transaction."""
        append_audit(
            session,
            self.integrity_key,
            user=user or self.actor.user,
            category=category,
            action=action,
            entity=entity,
            ref=ref,
            reason=reason,
            recipient=recipient,
            detail=detail,
        )

    def revision(
        self,
        session: Session,
        entity: str,
        record_id: int,
        action: str,
        changes: dict[str, tuple[Any, Any]],
        reason: str = "",
    ) -> None:
        """Keep old and new values per field for one change to one record."""
        session.add(
            Revision(
                entity=entity,
                record_id=record_id,
                at=utcnow(),
                user=self.actor.user,
                action=action,
                reason=reason,
                changes=json.dumps(
                    {k: [_jsonable(o), _jsonable(n)] for k, (o, n) in changes.items()},
                    ensure_ascii=False,
                ),
            )
        )

    def record_created(
        self,
        session: Session,
        entity: str,
        record_id: int,
        fields: dict[str, Any],
        *,
        action: str,
        ref: str,
        detail: dict[str, Any],
        reason: str = "",
        category: Category = Category.COLLECTION,
    ) -> None:
        """The history and audit of a new record linked to a nominal, in the caller's
        transaction: a "create" revision holding each field's first value, then one audit row
        naming the nominal (every add in the engagement, meetings and correspondence areas)."""
        self.revision(session, entity, record_id, "create",
                      {k: (None, v) for k, v in fields.items()}, reason=reason)
        self.audit(session, category, action, entity="nominal", ref=ref, detail=detail)

    def checkpoint_audit(self) -> None:
        """Record the audit chain's head and count in the key file (catches truncation).

        The checkpoint only ever moves forward along the chain it recorded: if the row it names
        is gone or different (a truncation, an edit), or the key file fails its MAC, it is left
        as it is so that `audit verify` keeps reporting the problem instead of a later write
        signing it away."""
        if self._read_engine is None:
            return
        with self._read_engine.connect() as conn:
            row = conn.execute(
                text("SELECT id, hash FROM audit_entry ORDER BY id DESC LIMIT 1")
            ).first()
            count, head = (int(row[0]), str(row[1])) if row else (0, "")
            if count == self.keyfile.audit_count and head == self.keyfile.audit_head:
                return

            def advance(kf: keyfile.KeyFile, trusted: bool) -> bool:
                if not trusted or count <= kf.audit_count:
                    return False
                if kf.audit_count > 0:
                    at_checkpoint = conn.execute(
                        text("SELECT hash FROM audit_entry WHERE id = :id"),
                        {"id": kf.audit_count},
                    ).scalar()
                    if at_checkpoint != kf.audit_head:
                        return False
                kf.audit_count, kf.audit_head = count, head
                return True

            self._update_keyfile(advance)

    def _update_keyfile(
        self, change: Callable[[keyfile.KeyFile, bool], bool], *, require_trust: bool = False
    ) -> None:
        """Read the key file from disk under its lock, apply `change(kf, trusted)`, and write it
        back if it returns True; signed only if it was trusted (an edited key file is never
        re-signed). Other processes' changes (slots, checkpoints) are kept."""
        data_key = self.data_key
        kpath = keyfile_path(self.path)
        with keyfile.locked(kpath):
            current = keyfile.load(kpath)
            trusted = current.vault_id == self.keyfile.vault_id and current.verify(data_key)
            if require_trust and not trusted:
                raise IntegrityError(
                    "The key file beside the vault was changed outside this session (another "
                    "rekey, or an edit), so it was left untouched. Lock and unlock again; if "
                    "this persists, run 'caseward audit verify' and ask an admin to rekey."
                )
            if not change(current, trusted):
                return
            if trusted:
                current.sign(data_key)
            keyfile.save(kpath, current)
        self.keyfile = current
        self.keyfile_trusted = trusted

    # -- key operations -------------------------------------------------------------------
    def terminal_secret(self) -> bytes:
        return _terminal_secret(self.keyfile, self.secret_store)

    def check_keyfile(self) -> None:
        """Raise IntegrityError if the key file on disk no longer verifies under this vault's
        key: call before a change that will also rewrite a slot, so that it is refused whole."""
        self._update_keyfile(lambda _kf, _trusted: False, require_trust=True)

    def new_slot(self, user: str, passphrase: str) -> keyfile.Slot:
        """A slot for `user` wrapping this vault's key (Argon2id: a noticeable fraction of a
        second, so callers derive it before taking any lock)."""
        scratch = keyfile.KeyFile(self.keyfile.vault_id, self.keyfile.terminal_bound)
        scratch.set_slot(user, passphrase, self.data_key, self.terminal_secret())
        return scratch.slots[user]

    def store_slot(self, user: str, slot: keyfile.Slot) -> None:
        """Put one slot into the key file (atomic replace; other slots are kept)."""

        def put(kf: keyfile.KeyFile, _trusted: bool) -> bool:
            kf.slots[user] = slot
            kf.failures.pop(user, None)
            return True

        self._update_keyfile(put, require_trust=True)

    def set_passphrase(self, user: str, passphrase: str) -> None:
        """Rewrite one user's slot (the database is not touched)."""
        self.store_slot(user, self.new_slot(user, passphrase))

    def remove_slot(self, user: str) -> None:
        def drop(kf: keyfile.KeyFile, _trusted: bool) -> bool:
            kf.slots.pop(user, None)
            kf.failures.pop(user, None)
            return True

        self._update_keyfile(drop, require_trust=True)

    def clear_failures(self, user: str) -> None:
        def clear(kf: keyfile.KeyFile, _trusted: bool) -> bool:
            return kf.failures.pop(user, None) is not None

        self._update_keyfile(clear)

    def role_mac(self, name: str, role: str, removed: datetime | None) -> str:
        return _role_mac(self.integrity_key, name, role, removed)

    def rekey(self, passphrase: str) -> str:
        """New data key; every other slot and every old recovery key stop working.

        Crash-safe: the new key file is written as `.pending` before the database is rekeyed
        (one SQLite transaction), and unlock tries it when the current key file no longer opens
        the database. Nothing else in the database depends on the data key, so a crash at any
        point leaves a vault that opens with the old key file or with the new one."""
        new_key = secrets.token_bytes(crypto.KEY_BYTES)
        pending = keyfile.KeyFile(
            vault_id=self.keyfile.vault_id, terminal_bound=self.keyfile.terminal_bound
        )
        pending.set_slot(self.actor.user, passphrase, new_key, self.terminal_secret())
        dropped = sorted(u for u in self.keyfile.slots if u != self.actor.user)
        with self.write() as s:
            self.audit(
                s,
                Category.SECURITY,
                "vault.rekey",
                detail={"slots_dropped": dropped},
            )
        with self.read() as s:
            last = s.execute(select(AuditEntry.id, AuditEntry.hash).order_by(
                AuditEntry.id.desc()).limit(1)).first()
        pending.audit_count, pending.audit_head = (int(last[0]), str(last[1])) if last else (0, "")
        pending.sign(new_key)
        keyfile.save(_pending_path(self.path), pending)
        assert self._read_engine is not None and self._write_engine is not None
        self._read_engine.dispose()
        self._write_engine.dispose()
        self._read_engine = self._write_engine = None
        conn = raw_connection(self.path, self.data_key)
        try:
            conn.execute(f"PRAGMA rekey = \"x'{new_key.hex()}'\"")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            conn.close()
        with keyfile.locked(keyfile_path(self.path)):
            os.replace(_pending_path(self.path), keyfile_path(self.path))
            keyfile.fsync_dir(self.path.parent)
        self.keyfile = pending
        self._key = bytearray(new_key)
        self._read_engine = make_engine(self.path, new_key)
        self._write_engine = make_engine(self.path, new_key, immediate=True)
        self.keyfile_trusted = True
        return crypto.encode_recovery_key(new_key)

    def integrity_check(self) -> list[str]:
        """Every page's HMAC (SQLCipher) and the b-tree structure (SQLite); empty when sound."""
        conn = raw_connection(self.path, self.data_key)
        try:
            problems = [str(r[0]) for r in conn.execute("PRAGMA cipher_integrity_check")]
            problems += [
                str(r[0]) for r in conn.execute("PRAGMA quick_check") if str(r[0]) != "ok"
            ]
        except Exception as exc:  # a page so damaged that the check itself cannot run
            problems = [f"check could not complete ({type(exc).__name__})"]
        finally:
            conn.close()
        return problems

    def backup(self, out: Path) -> None:
        """A consistent, encrypted copy (SQLite backup API, same key) and its key file, whose
        audit checkpoint is the copy's own (so the copy verifies on its own)."""
        if out.exists():
            raise BadInput(f"{out.name} already exists; choose a new name.")
        if not out.parent.is_dir():
            raise BadInput(f"The folder {out.parent} does not exist.")
        tmp = out.with_name(f".{out.name}.part")
        src = raw_connection(self.path, self.data_key)
        try:
            dst = raw_connection(tmp, self.data_key)
            try:
                src.backup(dst)
                dst.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
                dst.execute("PRAGMA journal_mode = DELETE").fetchall()
                tail = dst.execute(
                    "SELECT id, hash FROM audit_entry ORDER BY id DESC LIMIT 1"
                ).fetchone()
            finally:
                dst.close()
        except BaseException:
            for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
                with contextlib.suppress(OSError):
                    leftover.unlink()
            raise
        finally:
            src.close()
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        self.checkpoint_audit()
        kpath = keyfile_path(self.path)
        with keyfile.locked(kpath):
            copy = keyfile.load(kpath)
        trusted = copy.verify(self.data_key)
        copy.failures = {}
        copy.audit_count, copy.audit_head = (int(tail[0]), str(tail[1])) if tail else (0, "")
        if trusted:
            copy.sign(self.data_key)  # an untrusted key file stays untrusted in the copy
        keyfile.save(keyfile_path(out), copy)
        os.replace(tmp, out)
        keyfile.fsync_dir(out.parent)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def append_audit(
    session: Session,
    integrity_key: bytes,
    *,
    user: str,
    category: Category,
    action: str,
    entity: str = "",
    ref: str = "",
    reason: str = "",
    recipient: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    tail = session.info.get("audit_tail")
    if tail is None:
        row = session.execute(
            select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
        ).first()
        tail = (int(row[0]), str(row[1])) if row else (0, GENESIS)
    new_id, prev = tail[0] + 1, tail[1]
    at = utcnow()
    detail_text = json.dumps(_jsonable(detail or {}), ensure_ascii=False, sort_keys=True)
    digest = row_hash(
        integrity_key,
        id=new_id,
        at=at,
        user=user,
        category=str(category),
        action=action,
        entity=entity,
        ref=ref,
        reason=reason,
        recipient=recipient,
        detail=detail_text,
        prev_hash=prev,
    )
    session.add(
        AuditEntry(
            id=new_id,
            at=at,
            user=user,
            category=str(category),
            action=action,
            entity=entity,
            ref=ref,
            reason=reason,
            recipient=recipient,
            detail=detail_text,
            prev_hash=prev,
            hash=digest,
        )
    )
    session.info["audit_tail"] = (new_id, digest)


def _terminal_secret(kf: keyfile.KeyFile, store: SecretStore) -> bytes:
    if not kf.terminal_bound:
        return b""
    secret = store.get(_terminal_key_name(kf.vault_id))
    if secret is None:
        raise VaultOpenError(
            "This vault is bound to another terminal: its terminal secret is not in this "
            "machine's keyring. Open it on its own terminal, or with its recovery key."
        )
    return secret


def _open_database(path: Path, data_key: bytes) -> None:
    """Check the key opens the file and migrate the schema if it is older than this build."""
    engine = make_engine(path, data_key, immediate=True)
    try:
        with engine.connect() as conn:
            revision = schema.current_revision(conn)
            if revision is None:
                raise VaultDamaged("The vault has no schema: it is damaged or not a vault.")
            upgrade = schema.needs_upgrade(revision)
        if upgrade:
            _backup_before_migration(path, data_key, revision)
            with engine.begin() as conn:
                schema.upgrade(conn)
    finally:
        engine.dispose()


def _backup_before_migration(path: Path, data_key: bytes, revision: str) -> None:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = path.with_name(f"{path.name}.pre-{revision}-{stamp}.bak")
    src = raw_connection(path, data_key)
    try:
        dst = raw_connection(out, data_key)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def create_vault(
    path: Path,
    admin: str,
    passphrase: str,
    *,
    bind_to_terminal: bool,
    secret_store: SecretStore,
    kdf: crypto.KdfParams | None = None,
) -> tuple[Vault, str]:
    """Create a vault and its first admin. Returns the unlocked vault and the recovery key."""
    check_user_name(admin)
    check_new_passphrase(passphrase)
    path = path.expanduser()
    kpath = keyfile_path(path)
    if path.exists() or kpath.exists():
        raise ValidationError("vault", "a vault already exists at that path; choose another")
    if not path.parent.is_dir():
        raise ValidationError("vault", "the folder does not exist")
    if not os.access(path.parent, os.W_OK):
        raise ValidationError("vault", "the folder is not writable")
    kf = keyfile.KeyFile.new(terminal_bound=bind_to_terminal)
    terminal = b""
    if bind_to_terminal:
        info = secret_store.info()
        if not info.secure:
            raise ValidationError(
                "terminal binding",
                f"no secure keyring is available (backend: {info.name}); choose an unbound "
                "vault explicitly (--no-terminal-binding)",
            )
        terminal = secrets.token_bytes(32)
        secret_store.put(_terminal_key_name(kf.vault_id), terminal)
    data_key = secrets.token_bytes(crypto.KEY_BYTES)
    try:
        engine = make_engine(path, data_key, immediate=True)
        try:
            with engine.begin() as conn:
                schema.create_fresh(conn)
            with Session(engine) as s, s.begin():
                integrity = secrets.token_bytes(32)
                for key, value in {
                    "vault_id": kf.vault_id,
                    "created_at": utcnow().isoformat(),
                    "created_by_version": __version__,
                    "integrity_key": integrity.hex(),
                    "terminal_bound": "1" if bind_to_terminal else "0",
                }.items():
                    s.add(VaultMeta(key=key, value=value))
                s.add(
                    User(
                        name=admin,
                        display_name=admin,
                        role=Role.ADMIN.value,
                        role_mac=_role_mac(integrity, admin, Role.ADMIN.value, None),
                        created_by=admin,
                    )
                )
                append_audit(
                    s,
                    integrity,
                    user=admin,
                    category=Category.SECURITY,
                    action="vault.create",
                    detail={"terminal_bound": bind_to_terminal, "app_version": __version__},
                )
                append_audit(
                    s,
                    integrity,
                    user=admin,
                    category=Category.SECURITY,
                    action="user.add",
                    entity="user",
                    ref=admin,
                    detail={"role": Role.ADMIN.value},
                )
        finally:
            engine.dispose()
        kf.set_slot(admin, passphrase, data_key, terminal, kdf)
        kf.sign(data_key)
        with keyfile.locked(kpath):
            keyfile.save(kpath, kf)
    except BaseException:
        lock = kpath.with_name(kpath.name + ".lock")
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), kpath, lock):
            with contextlib.suppress(OSError):
                leftover.unlink()
        if bind_to_terminal:
            secret_store.delete(_terminal_key_name(kf.vault_id))
        raise
    vault = Vault(path, kf, data_key, Actor(admin, Role.ADMIN), secret_store)
    vault.checkpoint_audit()
    return vault, crypto.encode_recovery_key(data_key)


def unlock_vault(
    path: Path,
    user: str,
    passphrase: str,
    *,
    secret_store: SecretStore,
    now: Callable[[], float] = time.time,
) -> Vault:
    """Open a vault as `user`. Distinguishes a wrong passphrase from a damaged file."""
    path = path.expanduser()
    if not path.exists():
        raise VaultOpenError(f"No vault at {path}.")
    kpath = keyfile_path(path)
    pending = _pending_path(path)
    with keyfile.locked(kpath):
        if not kpath.exists() and pending.exists():
            os.replace(pending, kpath)  # a rekey stopped after the database changed: finish it
        keyfile.remove_stale_temp_files(kpath)
        kf = keyfile.load(kpath)
    if user not in kf.slots:
        raise UnknownUser(f"There is no account named {user!r} on this vault.")
    wait = kf.retry_after(user, now())
    if wait > 0:
        raise LockedOut(
            f"Too many failed attempts for {user!r}. Try again in {int(wait + 0.999)} s.", wait
        )
    terminal = _terminal_secret(kf, secret_store)
    try:
        data_key = kf.open_slot(user, passphrase, terminal)
    except BadInput as exc:
        raise VaultDamaged(str(exc)) from exc
    if data_key is None:
        with keyfile.locked(kpath):
            # Re-read: another process may have changed the file while Argon2id ran.
            with contextlib.suppress(VaultDamaged):
                kf = keyfile.load(kpath)
            count = kf.record_failure(user, now())
            keyfile.save(kpath, kf)
        wait = kf.retry_after(user, now())
        hint = f" Wait {int(wait + 0.999)} s before the next try." if wait else ""
        raise WrongPassphraseOrDamaged(
            f"Wrong passphrase for {user!r} (failed attempt {count}).{hint}"
        )
    try:
        _open_database(path, data_key)
    except VaultDamaged as exc:
        # A rekey may have stopped between changing the database and replacing the key file.
        pkf = keyfile.load(pending) if pending.exists() else None
        if pkf is None or user not in pkf.slots:
            if pkf is not None:
                raise VaultOpenError(
                    f"The vault was rekeyed and the key slot for {user!r} was retired. Ask an "
                    "admin to set a new passphrase for you (caseward user passwd)."
                ) from exc
            if exc.args and "could not be read with its key" in str(exc.args[0]):
                raise VaultDamaged(
                    "The key file opened, but its key does not open the vault file: the key "
                    "file is an old copy (from before a rekey, or from another vault) or the "
                    "vault file is damaged. Restore both files from the same backup, or open "
                    "the vault with its recovery key. Nothing was changed."
                ) from exc
            raise
        pkey = pkf.open_slot(user, passphrase, terminal)
        if pkey is None:
            raise
        _open_database(path, pkey)
        with keyfile.locked(kpath):
            os.replace(pending, kpath)
        kf, data_key = pkf, pkey
    else:
        with contextlib.suppress(OSError):
            pending.unlink()  # a rekey that never reached the database
    failures = kf.failure_count(user)
    vault = Vault(path, kf, data_key, Actor(user, Role.VIEWER), secret_store)
    try:
        with vault.write() as s:
            account = s.scalars(select(User).where(User.name == user)).first()
            if account is None or account.removed_at is not None:
                raise UnknownUser(f"There is no active account named {user!r} on this vault.")
            if account.role_mac != vault.role_mac(account.name, account.role, None):
                raise IntegrityError(
                    f"The role recorded for {user!r} fails its integrity check; the vault was "
                    "altered outside Caseward. Ask a supervisor to run 'caseward audit verify'."
                )
            vault.actor = Actor(user, Role(account.role))
            if failures:
                vault.audit(
                    s,
                    Category.SECURITY,
                    "unlock.failed",
                    entity="user",
                    ref=user,
                    detail={"failed_attempts": failures},
                )
            vault.audit(s, Category.SECURITY, "unlock", entity="user", ref=user)
            account.last_login_at = utcnow()
    except SQLAlchemyDatabaseError as exc:
        vault.lock()
        raise VaultDamaged(
            "The vault file is damaged (a page failed its integrity check). Restore it from a "
            "backup; nothing was changed."
        ) from exc
    except BaseException:
        vault.lock()
        raise
    if failures:
        vault.clear_failures(user)
    return vault


def recover_vault(
    path: Path,
    recovery_key: str,
    user: str,
    new_passphrase: str,
    *,
    bind_to_terminal: bool,
    secret_store: SecretStore,
) -> Vault:
    """Open a vault with its recovery key (key file or keyring lost) and issue a new key file.

    The named admin gets a new slot; every other user needs a new passphrase from an admin."""
    check_new_passphrase(new_passphrase, "new passphrase")
    path = path.expanduser()
    data_key = crypto.decode_recovery_key(recovery_key)
    try:
        _open_database(path, data_key)
    except VaultDamaged as exc:
        raise WrongPassphraseOrDamaged(
            "The recovery key does not open this vault (it may belong to another vault, or the "
            "vault was rekeyed since), or the vault file is damaged."
        ) from exc
    engine = make_engine(path, data_key)
    try:
        with Session(engine) as s:
            account = s.scalars(select(User).where(User.name == user)).first()
            meta = s.get(VaultMeta, "vault_id")
            if account is None or account.removed_at is not None or meta is None:
                raise UnknownUser(f"There is no active account named {user!r} on this vault.")
            if account.role != Role.ADMIN.value:
                raise UnknownUser("Recovery must be done by an admin account.")
            vault_id = meta.value
    finally:
        engine.dispose()
    kf = keyfile.KeyFile(vault_id=vault_id, terminal_bound=bind_to_terminal)
    terminal = b""
    if bind_to_terminal:
        if not secret_store.info().secure:
            raise ValidationError(
                "terminal binding",
                "no secure keyring is available; recover with --no-terminal-binding",
            )
        terminal = secrets.token_bytes(32)
        secret_store.put(_terminal_key_name(vault_id), terminal)
    kf.set_slot(user, new_passphrase, data_key, terminal)
    kf.sign(data_key)
    kpath = keyfile_path(path)
    with keyfile.locked(kpath):
        if kpath.exists():
            keyfile.write_atomic(
                kpath.with_name(kpath.name + f".replaced-{int(time.time())}"), kpath.read_bytes()
            )
        keyfile.save(kpath, kf)
        with contextlib.suppress(OSError):
            _pending_path(path).unlink()
    vault = Vault(path, kf, data_key, Actor(user, Role.ADMIN), secret_store)
    with vault.write() as s:
        vault.audit(
            s,
            Category.SECURITY,
            "vault.recover",
            entity="user",
            ref=user,
            detail={"terminal_bound": bind_to_terminal},
        )
    return vault
