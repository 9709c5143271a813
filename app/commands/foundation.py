"""Foundation sub-commands: init, user, rekey, backup, recover, audit, selfcheck."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.cli import Cli, parse_date


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("init", parents=[common], help="create a vault and its first admin")
    p.add_argument(
        "--no-terminal-binding",
        action="store_true",
        help="do not bind the vault to this terminal's keyring (needed with no secure keyring)",
    )
    p.set_defaults(handler=cmd_init)

    user = sub.add_parser("user", parents=[common], help="manage users and roles")
    usub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    p = usub.add_parser("add", parents=[common], help="add a user")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=["admin", "coordinator", "analyst", "viewer"])
    p.add_argument("--display-name", default="")
    p.add_argument("--new-passphrase-file", metavar="FILE")
    p.set_defaults(handler=cmd_user_add)
    p = usub.add_parser("list", parents=[common], help="list users")
    p.set_defaults(handler=cmd_user_list)
    p = usub.add_parser("remove", parents=[common], help="remove a user and their key slot")
    p.add_argument("name")
    p.add_argument("--reason", default="")
    p.set_defaults(handler=cmd_user_remove)
    p = usub.add_parser("passwd", parents=[common], help="change a user's passphrase")
    p.add_argument("name")
    p.add_argument("--new-passphrase-file", metavar="FILE")
    p.set_defaults(handler=cmd_user_passwd)
    p = usub.add_parser("role", parents=[common], help="change a user's role")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=["admin", "coordinator", "analyst", "viewer"])
    p.set_defaults(handler=cmd_user_role)

    p = sub.add_parser(
        "rekey", parents=[common], help="new data key: old key files and recovery keys stop working"
    )
    p.set_defaults(handler=cmd_rekey)

    p = sub.add_parser("backup", parents=[common], help="an encrypted, consistent copy")
    p.add_argument("--out", required=True, metavar="FILE")
    p.set_defaults(handler=cmd_backup)

    p = sub.add_parser(
        "recover", parents=[common], help="open with the recovery key and issue a new key file"
    )
    p.add_argument("--recovery-key-file", metavar="FILE")
    p.add_argument("--new-passphrase-file", metavar="FILE")
    p.add_argument("--no-terminal-binding", action="store_true")
    p.set_defaults(handler=cmd_recover)

    audit = sub.add_parser("audit", parents=[common], help="the audit log")
    asub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    p = asub.add_parser("verify", parents=[common], help="prove the hash chain")
    p.set_defaults(handler=cmd_audit_verify)
    p = asub.add_parser("list", parents=[common], help="show the log")
    p.add_argument("--since", metavar="DATE")
    p.add_argument("--until", metavar="DATE")
    p.add_argument("--category")
    p.add_argument("--limit", type=int, default=1000)
    p.set_defaults(handler=cmd_audit_list)

    p = sub.add_parser(
        "selfcheck", parents=[common], help="SQLCipher, Qt plugin, fonts, keyring, folders"
    )
    p.set_defaults(handler=cmd_selfcheck)


def cmd_init(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.vault import create_vault

    path, user = cli.vault_path(), cli.user()
    bind = not args.no_terminal_binding
    store = cli.secret_store()
    if bind and not store.info().secure:
        from app.cli import UsageError

        raise UsageError(
            f"no secure keyring is available here ({store.info().name}). Run again with "
            "--no-terminal-binding to create a vault that is not bound to this terminal."
        )
    passphrase = cli.passphrase("Passphrase for the new admin: ")
    vault, recovery = create_vault(
        path, user, passphrase, bind_to_terminal=bind, secret_store=store
    )
    vault.lock()
    cli.emit(
        {"vault": str(path), "user": user, "recovery_key": recovery, "terminal_bound": bind},
        f"Created vault {path} with admin {user!r}"
        f"{' (bound to this terminal)' if bind else ' (not bound to a terminal)'}.\n\n"
        f"RECOVERY KEY (shown once; print it and store it securely):\n\n    {recovery}\n",
    )
    return 0


def cmd_user_add(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.users import UserService

    vault = cli.open_vault()
    passphrase = cli.new_passphrase(f"Passphrase for {args.name}: ")
    info = UserService(vault).add_user(args.name, args.role, passphrase, args.display_name)
    cli.emit({"user": info.name, "role": info.role.value}, f"Added {info.name} ({info.role}).")
    return 0


def cmd_user_list(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.users import UserService

    users = UserService(cli.open_vault()).list_users()
    cli.emit(
        [
            {
                "user": u.name,
                "role": u.role.value,
                "display_name": u.display_name,
                "created": u.created_at.date().isoformat(),
                "last_login": u.last_login_at.isoformat(timespec="seconds")
                if u.last_login_at
                else None,
                "has_key_slot": u.has_slot,
            }
            for u in users
        ],
        "\n".join(
            f"{u.name:<20} {u.role.value:<12} "
            f"{'' if u.has_slot else '(needs a new passphrase)'}"
            for u in users
        ),
    )
    return 0


def cmd_user_remove(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.users import UserService

    UserService(cli.open_vault()).remove_user(args.name, args.reason)
    cli.emit({"removed": args.name}, f"Removed {args.name}; their key slot is deleted.")
    return 0


def cmd_user_passwd(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.users import UserService

    vault = cli.open_vault()
    new = cli.new_passphrase(f"New passphrase for {args.name}: ")
    UserService(vault).change_passphrase(args.name, new)
    cli.emit({"user": args.name, "changed": True}, f"Passphrase changed for {args.name}.")
    return 0


def cmd_user_role(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.users import UserService

    info = UserService(cli.open_vault()).set_role(args.name, args.role)
    cli.emit({"user": info.name, "role": info.role.value}, f"{info.name} is now {info.role}.")
    return 0


def cmd_rekey(cli: Cli, args: argparse.Namespace) -> int:
    from app.domain.errors import NotAllowed
    from app.domain.roles import Role

    vault = cli.open_vault()
    if vault.actor.role is not Role.ADMIN:
        raise NotAllowed(f"Your role ({vault.actor.role.value}) may not rekey the vault; "
                         "only an admin may.")
    passphrase = cli.passphrase()
    dropped = sorted(u for u in vault.keyfile.slots if u != vault.actor.user)
    recovery = vault.rekey(passphrase)
    cli.emit(
        {"rekeyed": True, "recovery_key": recovery, "users_needing_passphrase": dropped},
        "The vault has a new data key. Old key files and recovery keys no longer open it.\n"
        + (
            f"These users need a new passphrase (caseward user passwd NAME): {', '.join(dropped)}\n"
            if dropped
            else ""
        )
        + f"\nNEW RECOVERY KEY (shown once):\n\n    {recovery}\n",
    )
    return 0


def cmd_backup(cli: Cli, args: argparse.Namespace) -> int:
    from app.domain.errors import NotAllowed
    from app.domain.roles import Perm, allowed
    from app.security.audit import Category

    vault = cli.open_vault()
    if not allowed(vault.actor.role, Perm.VAULT_ADMIN):
        raise NotAllowed(f"Your role ({vault.actor.role.value}) may not back up the vault; "
                         "only an admin may.")
    out = Path(args.out).expanduser()
    with vault.write() as s:
        vault.audit(s, Category.SECURITY, "vault.backup", detail={"file": out.name})
    vault.backup(out)
    cli.emit(
        {"backup": str(out), "keyfile": str(out) + ".keys"},
        f"Encrypted backup written to {out} (with its key file {out.name}.keys).",
    )
    return 0


def cmd_recover(cli: Cli, args: argparse.Namespace) -> int:
    from app.cli import _prompt, _read_secret_file
    from app.services.vault import recover_vault

    if args.recovery_key_file:
        key = _read_secret_file(Path(args.recovery_key_file), "--recovery-key-file")
    else:
        key = _prompt("Recovery key: ", "--recovery-key-file")
    new = cli.new_passphrase()
    vault = recover_vault(
        cli.vault_path(),
        key,
        cli.user(),
        new,
        bind_to_terminal=not args.no_terminal_binding,
        secret_store=cli.secret_store(),
    )
    vault.lock()
    cli.emit(
        {"recovered": True, "user": cli.user()},
        "Vault recovered; a new key file was written. Other users need new passphrases.",
    )
    return 0


def cmd_audit_verify(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.audit import AuditService

    result = AuditService(cli.open_vault()).verify()
    text = (
        f"Audit chain verified: {result.rows} rows, intact."
        if result.ok
        else f"AUDIT CHAIN FAILED at row {result.first_bad}: {result.problem} "
        f"({result.rows} rows read)."
    )
    cli.emit(result.as_json(), text)
    return 0 if result.ok else 6


def cmd_audit_list(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.audit import AuditFilter, AuditService

    flt = AuditFilter(
        since=parse_date(args.since, "--since") if args.since else None,
        until=parse_date(args.until, "--until") if args.until else None,
        category=args.category or "",
    )
    rows = AuditService(cli.open_vault()).page(flt, limit=args.limit, newest_first=False)
    cli.emit(
        [r.as_json() for r in rows],
        "\n".join(
            f"{r.id:>7} {r.at:%Y-%m-%d %H:%M:%S} {r.user:<14} {r.category:<12} {r.action:<22} "
            f"{r.ref}{'  to: ' + r.recipient if r.recipient else ''}"
            f"{'  why: ' + r.reason if r.reason else ''}"
            for r in rows
        )
        or "No audit rows match.",
    )
    return 0


def cmd_selfcheck(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.selfcheck import run_selfcheck

    vault = getattr(args, "vault", None)
    report = run_selfcheck(Path(vault).expanduser() if vault else None, cli.secret_store())
    cli.emit(
        report,
        "\n".join(
            f"[{'ok' if c['ok'] else 'FAIL'}] {c['name']}: {c['detail']}" for c in report["checks"]
        ),
    )
    return 0 if report["ok"] else 6
