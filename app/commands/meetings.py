"""Meeting sub-commands: `meeting add --from FILE | list | show ID | actions | suggest ID`,
`pack --meeting ID` and `performance`. (`export actions` and `export performance` are
registered with the export layer, app/services/exports.py, which calls MeetingService and
PerformanceService.)"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from app.cli import Cli, parse_date
from app.commands._input import read_items
from app.domain.errors import NotAllowed


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    meeting = sub.add_parser("meeting", parents=[common], help="Nominal Management meetings")
    msub = meeting.add_subparsers(dest="meeting_command", metavar="ACTION", required=True)
    p = msub.add_parser("add", parents=[common],
                        help="add meetings from a JSON file (one object or a list; all or none)")
    p.add_argument("--from", dest="from_file", required=True, metavar="FILE")
    p.add_argument("--reason", default="", help="why (kept in the audit log)")
    p.set_defaults(handler=cmd_meeting_add)
    p = msub.add_parser("list", parents=[common], help="meetings, newest first")
    p.add_argument("--type", dest="meeting_type", metavar="TYPE")
    p.add_argument("--from", dest="date_from", metavar="DATE")
    p.add_argument("--to", dest="date_to", metavar="DATE")
    p.add_argument("--status", choices=["planned", "held", "cancelled"])
    p.add_argument("--limit", type=int, default=500)
    p.set_defaults(handler=cmd_meeting_list)
    p = msub.add_parser("show", parents=[common],
                        help="one meeting (audited; carries overdue actions onto its agenda)")
    p.add_argument("id", metavar="ID", help="MTG-000012 or 12")
    p.set_defaults(handler=cmd_meeting_show)
    p = msub.add_parser("actions", parents=[common], help="the action log, filtered")
    p.add_argument("--owner")
    p.add_argument("--status", choices=["open", "done", "cancelled"])
    p.add_argument("--meeting", metavar="ID")
    p.add_argument("--nominal", metavar="REF")
    p.add_argument("--overdue", action="store_true")
    p.add_argument("--limit", type=int, default=5000)
    p.set_defaults(handler=cmd_meeting_actions)
    p = msub.add_parser("suggest", parents=[common],
                        help="nominals worth discussing at a meeting, with reasons")
    p.add_argument("id", metavar="ID")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(handler=cmd_meeting_suggest)

    p = sub.add_parser("pack", parents=[common],
                       help="write a meeting pack (PDF) and audit the disclosure")
    p.add_argument("--meeting", required=True, metavar="ID")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--recipient", required=True, metavar="WHO")
    p.add_argument("--justification", required=True, metavar="WHY")
    p.set_defaults(handler=cmd_pack)

    p = sub.add_parser("performance", parents=[common],
                       help="actuals against the performance targets for a month or quarter")
    p.add_argument("--period", metavar="PERIOD", help="YYYY-MM or YYYY-Qn (default: this month)")
    p.add_argument("--trend", action="store_true", help="the 12 months ending with the period")
    p.set_defaults(handler=cmd_performance)


def cmd_meeting_add(cli: Cli, args: argparse.Namespace) -> int:
    from app.domain.meetings import parse_meeting_json
    from app.domain.roles import Perm, allowed
    from app.services.meetings import MeetingService

    parsed = read_items(args.from_file, parse_meeting_json, what="meetings", record="a meeting")
    vault = cli.open_vault()
    if not allowed(vault.actor.role, Perm.MEETING_WRITE):
        raise NotAllowed(f"Your role ({vault.actor.role.value}) may not add meetings.")
    details = MeetingService(vault).add_many(parsed, reason=args.reason)
    refs = [d.ref for d in details]
    carried = {d.ref: d.carried_now for d in details}
    lines = [f"Added {d.ref}" + (f" ({d.carried_now} overdue actions carried onto its agenda)"
                                 if d.carried_now else "") for d in details]
    cli.emit({"added": refs, "carried": carried}, "\n".join(lines))
    return 0


def cmd_meeting_list(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.meetings import MeetingService

    rows = MeetingService(cli.open_vault()).meetings(
        meeting_type=args.meeting_type,
        date_from=parse_date(args.date_from, "from") if args.date_from else None,
        date_to=parse_date(args.date_to, "to") if args.date_to else None,
        status=args.status, limit=args.limit)
    cli.emit([r.as_json() for r in rows], "\n".join(
        f"{r.ref}  {r.starts_at:%d/%m/%Y %H:%M}  {r.status:<9} {r.type_label:<36} "
        f"chair {r.chair}; {r.nominals} nominals, {r.open_actions} open actions"
        for r in rows) or "No meetings.")
    return 0


def cmd_meeting_show(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.meetings import MeetingService

    d = MeetingService(cli.open_vault()).show(args.id)
    lines = [f"{d.ref}  {d.row.type_label}", f"When      {d.row.starts_at:%d/%m/%Y %H:%M}",
             f"Where     {d.row.location or '-'}", f"Chair     {d.row.chair}",
             f"Status    {d.row.status}",
             "Attendees " + (", ".join(f"{a.name} ({a.agency})" if a.agency else a.name
                                       for a in d.attendees) or "-"), "", "Agenda"]
    for n, item in enumerate(d.agenda, 1):
        extra = ""
        if item.kind == "carried":
            extra = f"  [carried from {item.carried_from_ref}: {item.reason}]"
        elif item.reason:
            extra = f"  [{item.reason}]"
        lines.append(f"{n:>3}. {item.action_ref + ' ' if item.action_ref else ''}"
                     f"{item.title}{extra}")
    if d.actions:
        lines += ["", "Actions raised"]
        lines += [f"  {a.ref} {a.status:<9} due {a.due:%d/%m/%Y}{' OVERDUE' if a.overdue else ''}"
                  f"  {a.owner}: {a.text}" for a in d.actions]
    if d.carried_now:
        cli.note(f"{d.carried_now} overdue actions were carried onto this agenda.")
    cli.emit(d.as_json(), "\n".join(lines))
    return 0


def cmd_meeting_actions(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.meetings import ActionFilter, MeetingService

    rows = MeetingService(cli.open_vault()).actions(
        ActionFilter(owner=args.owner, status=args.status, meeting=args.meeting,
                     nominal=args.nominal, overdue=args.overdue), limit=args.limit)
    cli.emit([a.as_json() for a in rows], "\n".join(
        f"{a.ref}  {a.status:<9} due {a.due:%d/%m/%Y}{' OVERDUE' if a.overdue else '        '}"
        f"  {a.owner:<24} {a.text}" for a in rows) or "No actions.")
    return 0


def cmd_meeting_suggest(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.meetings import MeetingService

    rows = MeetingService(cli.open_vault()).suggest_nominals(args.id, limit=args.limit)
    cli.emit([r.as_json() for r in rows], "\n".join(
        f"{r.ref}  {r.name:<32} {r.reason_text}" for r in rows) or "Nothing to suggest.")
    return 0


def cmd_pack(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.pack_pdf import PackService

    result = PackService(cli.open_vault()).export_pack(
        args.meeting, Path(args.out).expanduser(), recipient=args.recipient,
        justification=args.justification)
    cli.emit({"out": str(result.path), "sha256": result.sha256},
             f"Wrote {result.path} (SHA-256 {result.sha256}); the disclosure is in the audit "
             "log.")
    return 0


def _period(text: str | None) -> Any:
    from app.domain.meetings import month_period, parse_period

    if text:
        return parse_period(text, "period")
    today = date.today()
    return month_period(today.year, today.month)


def cmd_performance(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.performance import PerformanceService

    period = _period(args.period)
    service = PerformanceService(cli.open_vault())
    if args.trend:
        reports = service.trend(min(period.end, date.today()))
        cli.emit([r.as_json() for r in reports], "\n".join(
            f"{r.period.label:<9} " + "  ".join(f"{f.code}={f.value_text}" for f in r.figures)
            for r in reports))
        return 0
    report = service.figures(period)
    cli.emit(report.as_json(), f"Performance for {period.label} (targets version "
             f"{report.targets_version})\n" + "\n".join(
                 f"  {f.label:<38} target {f.target_text:<7} actual {f.value_text:<8}"
                 f"{'' if f.met is None else (' met' if f.met else ' NOT MET')}"
                 f"{f'  ({f.note})' if f.note else ''}" for f in report.figures))
    return 0
