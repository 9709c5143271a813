"""Retention sub-commands: `retention due` (the review queue) and `retention decide REF`."""

from __future__ import annotations

import argparse
from typing import Any

from app.cli import Cli, parse_date
from app.domain.errors import ValidationError


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("retention", parents=[common],
                       help="MOPI retention review: what is due; retain or erase (admins)")
    rsub = p.add_subparsers(dest="retention_command", metavar="ACTION")

    due = rsub.add_parser("due", parents=[common], help="records due or overdue for review")
    due.add_argument("--type", dest="record_type", metavar="TYPE",
                     help="only nominal or referral")
    due.add_argument("--group", metavar="N", help="only this MOPI group")
    due.add_argument("--overdue", action="store_true", help="only overdue reviews")
    due.add_argument("--force", metavar="FORCE", help="only nominals of this force")
    due.set_defaults(handler=cmd_due)

    decide = rsub.add_parser("decide", parents=[common],
                             help="record a decision: --retain --until DATE, or --erase")
    decide.add_argument("ref", metavar="REF", help="NM-000123 or PR-000123")
    decide.add_argument("--retain", action="store_true", help="keep the record")
    decide.add_argument("--erase", action="store_true", help="erase the record")
    decide.add_argument("--until", metavar="DATE", help="next review date (with --retain)")
    decide.add_argument("--reason", metavar="R", help="why (recorded with the decision)")
    decide.set_defaults(handler=cmd_decide)


def _service(cli: Cli) -> Any:
    from app.services.retention import RetentionService

    service = RetentionService(cli.open_vault())
    service.table()  # the role check comes before any check of the input
    return service


def cmd_due(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.retention import QueueFilter

    service = _service(cli)
    if args.record_type not in (None, "nominal", "referral"):
        raise ValidationError("--type", "must be nominal or referral")
    group = None
    if args.group is not None:
        if not str(args.group).isdigit():
            raise ValidationError("--group", "must be a MOPI group number")
        group = int(args.group)
    items = service.due(QueueFilter(record_type=args.record_type, group=group,
                                    overdue_only=bool(args.overdue), force=args.force))
    lines = [
        f"{i.due.day:>2} {i.due:%b %Y}  {'OVERDUE' if i.overdue else 'due':<8} {i.ref:<10} "
        f"group {i.group}  {i.rule_text}"
        for i in items
    ]
    cli.emit([i.as_json() for i in items],
             "\n".join(lines) or "No retention reviews are due.")
    return 0


def cmd_decide(cli: Cli, args: argparse.Namespace) -> int:
    service = _service(cli)
    if args.retain == args.erase:
        raise ValidationError("--retain/--erase", "give exactly one of --retain or --erase")
    if args.reason is None or not args.reason.strip():
        raise ValidationError("--reason", "say why (it is recorded with the decision)")
    if args.retain:
        if not args.until:
            raise ValidationError("--until", "give the next review date (YYYY-MM-DD)")
        until = parse_date(args.until, "--until")
        try:
            service.retain(args.ref, until, args.reason)
        except ValidationError as exc:
            if exc.field in ("until", "reason"):
                raise ValidationError(f"--{exc.field}", exc.message) from None
            raise
        cli.emit({"ref": args.ref.strip().upper(), "decision": "retain",
                  "next_review": until.isoformat()},
                 f"Retained; next review {until.day} {until:%b %Y}.")
        return 0
    if args.until:
        raise ValidationError("--until", "only goes with --retain")
    result = service.erase(args.ref, args.reason)
    cli.emit(result.as_json(),
             f"Erased. Links from other records now show '{result.placeholder}'"
             + ("." if result.wal_cleared else
                "; the journal could not be cleared yet (another program is reading the "
                "vault): close it and run this again."))
    return 0
