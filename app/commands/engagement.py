"""Engagement sub-commands: `calendar` (everything due) and `export engagement` (the return)."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from app.cli import Cli, UsageError, parse_date
from app.commands._input import return_period

# Returns that `caseward export RETURN` can write: RETURN -> "module:function", each taking
# (cli, args) and returning an exit code. Other capabilities add their returns here.
EXPORT_RETURNS: dict[str, str] = {
    "engagement": "app.commands.engagement:export_engagement",
    "referrals": "app.commands.prevent:export_referrals",
}


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    from app.domain.rules import DUE_KINDS

    p = sub.add_parser("calendar", parents=[common], help="everything due between two dates")
    p.add_argument("--from", dest="date_from", required=True, metavar="DATE")
    p.add_argument("--to", dest="date_to", required=True, metavar="DATE")
    p.add_argument(
        "--kind",
        action="append",
        choices=list(DUE_KINDS),
        metavar="KIND",
        help=f"only this kind (repeatable): {', '.join(DUE_KINDS)}",
    )
    p.add_argument("--manager", help="only nominals of this nominal manager")
    p.add_argument("--force", help="only nominals of this force")
    p.set_defaults(handler=cmd_calendar)

    if "export" not in getattr(sub, "choices", {}):
        p = sub.add_parser(
            "export", parents=[common], help="write a marked return (xlsx) and audit it"
        )
        p.add_argument("return_name", metavar="RETURN")
        p.add_argument("--out", required=True, metavar="FILE")
        p.add_argument("--recipient", required=True, metavar="WHO")
        p.add_argument("--justification", required=True, metavar="WHY")
        p.add_argument("--from", dest="date_from", metavar="DATE", help="period start")
        p.add_argument("--to", dest="date_to", metavar="DATE", help="period end")
        p.set_defaults(handler=cmd_export)


def cmd_calendar(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.calendar import CalendarService

    start = parse_date(args.date_from, "from")
    end = parse_date(args.date_to, "to")
    items = CalendarService(cli.open_vault()).items(
        start, end, kinds=args.kind, manager=args.manager, force=args.force
    )
    # Only the form asked for is made: a 90-day range holds ~100,000 items.
    if cli.json:
        from app.domain.rules import due_items_as_dicts

        cli.emit(due_items_as_dicts(items))
        return 0
    days: dict[date, str] = {}

    def day(d: date) -> str:
        text = days.get(d)
        if text is None:
            text = days[d] = f"{d.day:>2} {d:%b %Y}"
        return text

    cli.emit(None, "\n".join(f"{day(i.date)}  {i.kind:<17} {i.ref:<10} {i.title}" for i in items)
             or "Nothing due in that range.")
    return 0


def cmd_export(cli: Cli, args: argparse.Namespace) -> int:
    target = EXPORT_RETURNS.get(args.return_name)
    if target is None:
        raise UsageError(
            f"unknown return {args.return_name!r}; known: {', '.join(sorted(EXPORT_RETURNS))}"
        )
    module, _, name = target.partition(":")
    handler: Callable[[Cli, argparse.Namespace], int] = getattr(
        importlib.import_module(module), name
    )
    return handler(cli, args)


def export_engagement(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.engagement import EngagementService

    start, end = return_period(args)
    result = EngagementService(cli.open_vault()).export_engagement_return(
        Path(args.out).expanduser(),
        start,
        end,
        recipient=args.recipient,
        justification=args.justification,
    )
    cli.emit(
        {"out": str(result.path), "sha256": result.sha256, "from": start, "to": end},
        f"Wrote {result.path} (SHA-256 {result.sha256}); the disclosure is in the audit log.",
    )
    return 0
