"""Export sub-commands: `export RETURN` (a marked xlsx return) and `brief --nominal REF` (the
nominal briefing PDF). Both need --recipient and --justification: each is a disclosure."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.cli import Cli, UsageError, parse_date


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "export", parents=[common],
        help="write a marked return (xlsx) with its .sha256 and record the disclosure",
        description="RETURN is one of the registered returns (headcount, engagement, "
        "referrals, performance, ...); an unknown name lists them.",
    )
    p.add_argument("return_name", metavar="RETURN")
    _disclosure_options(p, "FILE.xlsx")
    p.add_argument("--from", dest="date_from", metavar="DATE", help="period start (YYYY-MM-DD)")
    p.add_argument("--to", dest="date_to", metavar="DATE", help="period end (YYYY-MM-DD)")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser(
        "brief", parents=[common],
        help="write the briefing PDF of one nominal and record the disclosure",
    )
    p.add_argument("--nominal", required=True, metavar="REF")
    _disclosure_options(p, "FILE.pdf")
    p.set_defaults(handler=cmd_brief)


def _disclosure_options(p: argparse.ArgumentParser, metavar: str) -> None:
    p.add_argument("--out", required=True, metavar=metavar, help="the file to write (never "
                   "replaced: choose a new name)")
    p.add_argument("--recipient", required=True, metavar="WHO",
                   help="who receives it (organisation or role)")
    p.add_argument("--justification", required=True, metavar="WHY",
                   help="why it is disclosed (recorded in the audit log)")


def cmd_export(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.exports import ExportService, known_returns

    names = [d.name for d in known_returns()]
    if args.return_name not in names:
        raise UsageError(f"unknown return {args.return_name!r}; known: {', '.join(names)}")
    start = parse_date(args.date_from, "from") if args.date_from else None
    end = parse_date(args.date_to, "to") if args.date_to else None
    done = ExportService(cli.open_vault()).export_return(
        args.return_name, Path(args.out).expanduser(), recipient=args.recipient,
        justification=args.justification, start=start, end=end,
    )
    data = done.as_json()
    if start or end:
        data.update({"from": start, "to": end})
    cli.emit(data, f"Wrote {done.path} (SHA-256 {done.sha256}); the disclosure is in the "
                   "audit log.")
    return 0


def cmd_brief(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.exports import ExportService

    done = ExportService(cli.open_vault()).brief(
        args.nominal, Path(args.out).expanduser(), recipient=args.recipient,
        justification=args.justification,
    )
    cli.emit(done.as_json(), f"Wrote {done.path} (SHA-256 {done.sha256}); the disclosure is "
                             "in the audit log.")
    return 0
