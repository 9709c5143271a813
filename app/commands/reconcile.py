"""`caseward reconcile --national FILE --out corrections.xlsx`: match the national headcount
against the regional list, print the counts and write the corrections return.

The command saves no reconciliation and no decisions (that is the Reconcile screen's work): it
reads, matches, records the combination and the disclosure in the audit log, and lists every
difference in the return as not yet reviewed. The contract (DESIGN.md) names no recipient or
justification, so both are optional here with defaults that are recorded in the audit log."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.cli import Cli

# Kept equal to app.services.reconcile's defaults by a test; repeated here so that building the
# parser (done by every command) does not import the reconciliation service.
DEFAULT_RECIPIENT = "National hub"
DEFAULT_JUSTIFICATION = "Reconciliation corrections return"


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "reconcile", parents=[common],
        help="match a national headcount list (xlsx/csv) against the regional list and write "
        "the corrections return",
        description="Reads the national list as untrusted input, matches it against the "
        "regional list (identifiers first, then name and date of birth), prints the counts and "
        "writes the corrections return (a disclosure: recorded in the audit log). Changes no "
        "record.",
    )
    p.add_argument("--national", required=True, metavar="FILE", help="the national list "
                   "(.xlsx or .csv)")
    p.add_argument("--out", required=True, metavar="FILE.xlsx", help="the corrections return "
                   "to write (never replaced: choose a new name)")
    p.add_argument("--recipient", default=DEFAULT_RECIPIENT, metavar="WHO",
                   help=f"who receives the return (default: {DEFAULT_RECIPIENT!r})")
    p.add_argument("--justification", default=DEFAULT_JUSTIFICATION, metavar="WHY",
                   help=f"why it is disclosed (default: {DEFAULT_JUSTIFICATION!r})")
    p.set_defaults(handler=cmd_reconcile)


def cmd_reconcile(cli: Cli, args: argparse.Namespace) -> int:
    from app.domain.errors import BadInput
    from app.services.exports import check_disclosure
    from app.services.reconcile import ReconcileService, read_national

    national = Path(args.national).expanduser()
    out = Path(args.out).expanduser()
    if not national.is_file():
        raise BadInput(f"{national.name}: no such file")
    check_disclosure(args.recipient, args.justification)
    # The file is read before the vault is opened: a file that cannot be read changes nothing,
    # not even the audit log's record of a sign-in.
    national_list, sha256 = read_national(national)
    service = ReconcileService(cli.open_vault())
    result = service.match(national_list, sha256)
    service.record_run(result)
    done = service.export_corrections(result, out, recipient=args.recipient,
                                      justification=args.justification)
    counts = result.counts()
    lines = [
        f"National list {result.source_name}: {counts['national_rows']:,} rows read, "
        f"{len(result.rejected):,} rows or values not read.",
        f"  matched:               {counts['matched']:,}",
        f"  field differences:     {counts['field_differences']:,}",
        f"  possible matches:      {counts['possible_matches']:,}",
        f"  only on national list: {counts['only_national']:,}",
        f"  only on regional list: {counts['only_regional']:,}",
        f"Wrote {done.path} (SHA-256 {done.sha256}); the disclosure is in the audit log.",
    ]
    for r in result.rejected[:20]:
        lines.insert(-1, f"  not read: row {r.row}, column {r.column or '-'}: {r.error}")
    if len(result.rejected) > 20:
        lines.insert(-1, f"  ... and {len(result.rejected) - 20:,} more (sheet 'Not read')")
    cli.emit(result.as_json(), "\n".join(lines))
    return 0
