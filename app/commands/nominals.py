"""Nominal sub-commands: `nominal add|show|list|search`, `duplicates`, `merge`, `demo`.

Imports of services happen inside the handlers: `caseward nominal search` must start nearly as
fast as `caseward --version`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.cli import Cli

MAX_FILE_BYTES = 50 * 1024 * 1024
STATUSES = ["custody", "community", "abroad", "deceased", "closed"]
RISKS = ["high", "medium", "low"]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    nominal = sub.add_parser("nominal", parents=[common], help="nominal records")
    nsub = nominal.add_subparsers(dest="nominal_command", metavar="ACTION", required=True)
    p = nsub.add_parser("add", parents=[common], help="add nominals from a JSON file (one "
                        "object or a list); all or none")
    p.add_argument("--from", dest="source", required=True, metavar="FILE")
    p.add_argument("--reason", default="", help="why they are added (kept in the audit log)")
    p.set_defaults(handler=cmd_add)
    p = nsub.add_parser("show", parents=[common], help="one nominal (audited as consultation)")
    p.add_argument("ref")
    p.add_argument("--purpose", default="view", help="why it is opened (audit log)")
    p.set_defaults(handler=cmd_show)
    p = nsub.add_parser("list", parents=[common], help="nominals, by name")
    p.add_argument("--status", choices=STATUSES)
    p.add_argument("--manager", metavar="NAME")
    p.add_argument("--force", metavar="FORCE")
    p.add_argument("--risk", choices=RISKS)
    p.add_argument("--sort", default="name", help="ref, name, dob, pnc, status, risk, manager, "
                   "force, establishment, release_date, updated")
    p.add_argument("--descending", action="store_true")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--offset", type=int, default=0)
    p.set_defaults(handler=cmd_list)
    p = nsub.add_parser("search", parents=[common], help="names, aliases, PNC, ref, date of "
                        "birth in one box")
    p.add_argument("text")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(handler=cmd_search)

    p = sub.add_parser("duplicates", parents=[common], help="likely duplicate nominals, best "
                       "first, with reasons")
    p.add_argument("--cached", action="store_true", help="show the last scan's pairs "
                   "without scanning again")
    p.add_argument("--limit", type=int, default=1000)
    p.set_defaults(handler=cmd_duplicates)

    p = sub.add_parser("merge", parents=[common], help="merge DROP into KEEP (history and "
                       "audit kept; KEEP's values win where both have one)")
    p.add_argument("keep")
    p.add_argument("drop")
    p.add_argument("--reason", default="", help="why (kept in the audit log)")
    p.set_defaults(handler=cmd_merge)

    p = sub.add_parser("demo", parents=[common], help="synthetic demo data (admin only)")
    p.add_argument("--nominals", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(handler=cmd_demo)


def _read_json(path: Path) -> Any:
    # Imported here: `nominal search` must not load what only `nominal add` needs.
    from app.commands._input import read_json

    return read_json(path, max_bytes=MAX_FILE_BYTES, record="a nominal record")


def _problems_text(problems: Any) -> str:
    return "\n".join(f"  {p.severity.value}: {p.field}: {p.message}" for p in problems)


def cmd_add(cli: Cli, args: argparse.Namespace) -> int:
    from app.domain.nominal import NominalInvalid, Severity
    from app.services.nominals import NominalService

    raw = _read_json(Path(args.source).expanduser())
    vault = cli.open_vault()
    try:
        refs, problems = NominalService(vault).add_from_json(raw, args.reason)
    except NominalInvalid as exc:
        errors = [p for p in exc.problems if p.severity is Severity.ERROR]
        if len(errors) > 1:
            cli.note("Nothing was added. Problems:\n" + _problems_text(errors))
        raise
    warnings = [p for p in problems if p.severity is Severity.WARNING]
    if warnings:
        cli.note("Added, with warnings:\n" + _problems_text(warnings))
    cli.emit({"added": refs}, "Added " + ", ".join(refs))
    return 0


def _show_text(n: Any) -> str:
    from app.domain.nominal import nominal_to_json

    data = nominal_to_json(n)
    lines = [f"{n.ref}  {n.display_name}"]
    if n.merged_into:
        lines.append(f"  MERGED into {n.merged_into}: see that record.")
    for key, value in data.items():
        if key in ("ref", "aliases") or value is None:
            continue
        lines.append(f"  {key.replace('_', ' '):<17} {value}")
    for alias in n.aliases:
        dob = f" ({alias.dob.isoformat()})" if alias.dob else ""
        lines.append(f"  alias             {alias.surname}, {alias.forenames}{dob}")
    for ident in n.identifiers:
        lines.append(f"  {ident.type.label:<17} {ident.value}")
    return "\n".join(lines)


def cmd_show(cli: Cli, args: argparse.Namespace) -> int:
    from app.domain.nominal import nominal_to_json
    from app.services.nominals import NominalService

    record = NominalService(cli.open_vault()).get(args.ref, purpose=args.purpose)
    if record.merged_into and cli.json:
        cli.note(f"{record.ref} was merged into {record.merged_into}.")
    cli.emit(nominal_to_json(record), _show_text(record))
    return 0


def _rows_out(cli: Cli, refs: list[str], purpose: str) -> None:
    from app.domain.nominal import nominal_to_json
    from app.services.nominals import NominalService

    if cli.json:
        records = NominalService(cli.open_vault()).get_many(refs, purpose) if refs else []
        cli.emit([nominal_to_json(r) for r in records])


def _row_line(r: Any) -> str:
    dob = r.dob.isoformat() if r.dob else "-"
    status = r.status.value if r.status else "-"
    return f"{r.ref}  {r.surname.upper()}, {r.forenames:<28} {dob}  {status:<10} {r.pnc or ''}"


def cmd_list(cli: Cli, args: argparse.Namespace) -> int:
    from app.domain.errors import ValidationError
    from app.domain.nominal import NominalFilter
    from app.services.nominals import NominalService

    if args.limit < 0 or args.offset < 0:
        raise ValidationError("limit", "must not be negative")
    service = NominalService(cli.open_vault())
    flt = NominalFilter(status=args.status, nominal_manager=args.manager, risk_level=args.risk,
                        force=args.force)
    rows = service.page(flt, args.sort, args.descending, args.offset, args.limit)
    if cli.json:
        _rows_out(cli, [r.ref for r in rows], "list")
    else:
        total = service.count(flt)
        cli.emit(None, "\n".join([_row_line(r) for r in rows]
                                 + [f"({len(rows)} of {total} shown)"]))
    return 0


def cmd_search(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.nominals import NominalService

    rows = NominalService(cli.open_vault()).search(args.text, max(args.limit, 0))
    if cli.json:
        _rows_out(cli, [r.ref for r in rows], "search")
    else:
        cli.emit(None, "\n".join(_row_line(r) for r in rows) if rows else "No match.")
    return 0


def cmd_duplicates(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.duplicates import DuplicateService

    service = DuplicateService(cli.open_vault())
    if not args.cached:
        result = service.scan()
        cli.note(f"Compared {result.people} nominals ({result.comparisons} comparisons) in "
                 f"{result.seconds:.1f} s.")
    pairs = service.pairs(limit=max(args.limit, 0))
    cli.emit(
        [p.as_json() for p in pairs],
        "\n".join(f"{p.a}  {p.b}  {p.score:.2f}  " + "; ".join(p.reasons) for p in pairs)
        if pairs else "No likely duplicates.",
    )
    return 0


def cmd_merge(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.duplicates import DuplicateService

    result = DuplicateService(cli.open_vault()).merge(args.keep, args.drop, None, args.reason)
    cli.emit(
        {"kept": result.keep, "merged": result.drop,
         "fields_from_drop": list(result.fields_from_drop)},
        f"Merged {result.drop} into {result.keep}"
        + (f" (took {', '.join(result.fields_from_drop)} from {result.drop})"
           if result.fields_from_drop else "") + ".",
    )
    return 0


def cmd_demo(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.demo import DemoService

    def progress(step: str, done: int, total: int) -> None:
        if not cli.json and total:
            cli.note(f"{step}: {done}/{total}")

    summary = DemoService(cli.open_vault()).generate(args.nominals, args.seed, progress)
    cli.emit(summary.as_json(),
             f"Made {summary.nominals} synthetic nominals ({summary.first_ref} to "
             f"{summary.last_ref}) with seed {summary.seed} in {summary.seconds:.1f} s.")
    return 0
