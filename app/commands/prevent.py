"""Prevent sub-commands: `referral add --from FILE | list | show ID`, and `export referrals`."""

from __future__ import annotations

import argparse
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from app.cli import Cli, parse_date
from app.commands._input import read_items, return_period
from app.domain.errors import ValidationError

REFERRAL_KEYS = frozenset({
    "received", "source_sector", "concern_type", "subject", "summary", "institutions",
    "referrer", "immediate_risk", "area", "notes",
})
SUBJECT_KEYS = frozenset({"surname", "forenames", "dob", "nominal", "person_id"})
REFERRER_KEYS = frozenset({"name", "organisation"})
INSTITUTION_KEYS = frozenset({"name", "type", "area"})


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    ref = sub.add_parser("referral", parents=[common], help="Prevent referrals")
    rsub = ref.add_subparsers(dest="referral_command", metavar="ACTION", required=True)
    p = rsub.add_parser("add", parents=[common], help="add referrals from a JSON file")
    p.add_argument("--from", dest="from_file", required=True, metavar="FILE",
                   help="one referral object or a list of them")
    p.set_defaults(handler=cmd_referral_add)
    p = rsub.add_parser("list", parents=[common], help="referrals, immediate risk first")
    p.add_argument("--stage", choices=["new", "gateway", "decision", "outcome", "closed"],
                   action="append", help="only this stage (repeatable)")
    p.add_argument("--overdue", action="store_true", help="only undecided referrals past target")
    p.add_argument("--limit", type=int, default=1000)
    p.set_defaults(handler=cmd_referral_list)
    p = rsub.add_parser("show", parents=[common], help="one referral (audited as consultation)")
    p.add_argument("id", metavar="ID", help="PR-000123 or 123")
    p.set_defaults(handler=cmd_referral_show)


# --- JSON input -------------------------------------------------------------------------------


def _unknown(obj: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    for key in obj:
        if key not in allowed:
            raise ValidationError(f"{where}{key}", "is not a known field")


def _text(obj: dict[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = obj.get(key)
    if value is None:
        if required:
            raise ValidationError(f"{where}{key}", "is required")
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"{where}{key}", "must be text")
    return value


def _date(value: Any, field: str) -> date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError(field, "must be a date written YYYY-MM-DD")
    return parse_date(value, field)


def _received(value: Any, field: str) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "is required (YYYY-MM-DD or YYYY-MM-DDTHH:MM)")
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(9, 0))
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(field, "must be YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    if parsed.tzinfo is not None:  # stored as local wall-clock time, like the window
        parsed = parsed.astimezone().replace(tzinfo=None)
    return parsed


def parse_referral_json(obj: Any, where: str = "") -> tuple[dict[str, Any], list[Any]]:
    """Check one JSON referral: (fields for ReferralInput, institution specs). Unknown keys,
    wrong types and missing fields raise ValidationError naming the key."""
    from app.domain.prevent import SubjectInput

    if not isinstance(obj, dict):
        raise ValidationError(where.rstrip(".") or "referral", "must be a JSON object")
    _unknown(obj, REFERRAL_KEYS, where)
    subject = obj.get("subject")
    if not isinstance(subject, dict):
        raise ValidationError(f"{where}subject", "must be an object with surname, forenames, dob")
    _unknown(subject, SUBJECT_KEYS, f"{where}subject.")
    person_id = subject.get("person_id")
    if person_id is not None and (isinstance(person_id, bool) or not isinstance(person_id, int)):
        raise ValidationError(f"{where}subject.person_id", "must be a whole number")
    referrer = obj.get("referrer")
    ref_name, ref_org = "", ""
    if isinstance(referrer, dict):
        _unknown(referrer, REFERRER_KEYS, f"{where}referrer.")
        ref_name = _text(referrer, "name", f"{where}referrer.")
        ref_org = _text(referrer, "organisation", f"{where}referrer.")
    elif isinstance(referrer, str):
        ref_name = referrer
    elif referrer is not None:
        raise ValidationError(f"{where}referrer", "must be text or {name, organisation}")
    institutions = obj.get("institutions") or []
    if not isinstance(institutions, list):
        raise ValidationError(f"{where}institutions", "must be a list of names")
    specs: list[Any] = []
    for i, inst in enumerate(institutions):
        at = f"{where}institutions[{i}]"
        if isinstance(inst, str):
            specs.append((at, inst, None, ""))
        elif isinstance(inst, dict):
            _unknown(inst, INSTITUTION_KEYS, f"{at}.")
            specs.append((at, _text(inst, "name", f"{at}.", required=True),
                          _text(inst, "type", f"{at}.") or None, _text(inst, "area", f"{at}.")))
        else:
            raise ValidationError(at, "must be a name or {name, type, area}")
    immediate = obj.get("immediate_risk", False)
    if not isinstance(immediate, bool):
        raise ValidationError(f"{where}immediate_risk", "must be true or false")
    notes = obj.get("notes") or []
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise ValidationError(f"{where}notes", "must be a list of texts")
    nominal_ref = subject.get("nominal")
    if nominal_ref is not None and not isinstance(nominal_ref, str):
        raise ValidationError(f"{where}subject.nominal", "must be a nominal ref (NM-000123)")
    fields = {
        "received": _received(obj.get("received"), f"{where}received"),
        "source_sector": _text(obj, "source_sector", where, required=True),
        "concern_type": _text(obj, "concern_type", where, required=True),
        "summary": _text(obj, "summary", where, required=True),
        "subject": SubjectInput(
            surname=_text(subject, "surname", f"{where}subject."),
            forenames=_text(subject, "forenames", f"{where}subject."),
            dob=_date(subject.get("dob"), f"{where}subject.dob"),
            person_id=person_id,
        ),
        "referrer_name": ref_name,
        "referrer_organisation": ref_org,
        "immediate_risk": immediate,
        "area": _text(obj, "area", where),
        "notes": [(f"Note {n + 1}", text) for n, text in enumerate(notes)],
        "_nominal": nominal_ref,
    }
    return fields, specs


def cmd_referral_add(cli: Cli, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from app.domain.errors import NotAllowed
    from app.domain.prevent import InstitutionInput, ReferralInput, SubjectInput
    from app.domain.roles import Perm, allowed
    from app.services.institutions import find_or_create, name_key
    from app.services.referrals import ReferralService
    from app.store.models import Institution, Nominal

    parsed = read_items(args.from_file, parse_referral_json, what="referrals",
                        record="a referral")
    vault = cli.open_vault()
    if not allowed(vault.actor.role, Perm.REFERRAL_WRITE):
        raise NotAllowed(f"Your role ({vault.actor.role.value}) may not add referrals.")
    inputs: list[ReferralInput] = []
    created: list[str] = []
    # Institutions are resolved by name (created as needed) and nominal refs to ids first; the
    # referrals then go in as one transaction. Institutions added here stay registered even if
    # a referral is refused after them — they are register entries, not referral data.
    with vault.write() as s:
        for fields, specs in parsed:
            ids: list[int] = []
            for at, name, kind, area in specs:
                existing = s.scalar(
                    select(Institution.id).where(Institution.name_key == name_key(name))
                )
                if existing is not None:
                    ids.append(int(existing))
                    continue
                try:
                    row, _new = find_or_create(s, vault, InstitutionInput(name, kind or "other",
                                                                          area))
                except ValidationError as exc:
                    raise ValidationError(f"{at}.{exc.field.split('.')[-1]}",
                                          exc.message) from None
                created.append(row.name)
                ids.append(row.id)
            nominal_ref = fields.pop("_nominal")
            subject: SubjectInput = fields["subject"]
            if nominal_ref:
                nid = s.scalar(select(Nominal.id)
                               .where(Nominal.ref == nominal_ref.strip().upper()))
                if nid is None:
                    raise ValidationError("subject.nominal", "is not a known nominal")
                subject = SubjectInput(subject.surname, subject.forenames, subject.dob,
                                       subject.person_id, int(nid))
            inputs.append(ReferralInput(**{**fields, "subject": subject,
                                           "institution_ids": ids}))
    refs = ReferralService(vault).add_many(inputs)
    cli.emit({"added": refs, "institutions_created": created},
             "Added " + ", ".join(refs)
             + (f"\nNew institutions registered: {', '.join(created)}" if created else ""))
    return 0


def _row_text(r: Any) -> str:
    flag = "!" if r.immediate_risk else " "
    clock = f"{r.status:<8}" if r.stage in ("new", "gateway") else f"{r.stage:<8}"
    return (f"{flag} {r.ref:<10} {r.received_at:%d/%m/%Y} {r.stage:<9} {clock} "
            f"due {r.target_due:%d/%m/%Y}  {r.concern_type:<24} {r.subject}")


def cmd_referral_list(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.referrals import ReferralFilter, ReferralService

    if args.limit < 1:
        raise ValidationError("limit", "must be at least 1")
    flt = ReferralFilter(stages=tuple(args.stage or ()), overdue_only=args.overdue)
    rows = ReferralService(cli.open_vault()).queue(flt, limit=args.limit)
    cli.emit([r.as_json() for r in rows],
             "\n".join(_row_text(r) for r in rows) or "No referrals.")
    return 0


def cmd_referral_show(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.referrals import ReferralService

    d = ReferralService(cli.open_vault()).show(args.id)
    lines = [
        f"{d.ref}{'  IMMEDIATE RISK' if d.immediate_risk else ''}",
        f"Received     {d.received_at:%d/%m/%Y %H:%M} from {d.referrer_name or '-'}"
        f" ({d.referrer_organisation or '-'}), sector {d.source_sector}",
        f"Subject      {d.surname.upper()}, {d.forenames}"
        f"{f' born {d.dob:%d/%m/%Y}' if d.dob else ''}"
        f"{f' (nominal {d.nominal_ref})' if d.nominal_ref else ''}",
        f"Concern      {d.concern_type}",
        f"Stage        {d.stage}; target {d.target_due:%d/%m/%Y}"
        f"{f' ({d.clock.status})' if d.clock else ''}",
        f"Outcome      {d.outcome or '-'}{f' ({d.signposted_to})' if d.signposted_to else ''}",
        f"Institutions {', '.join(i['name'] for i in d.institutions) or '-'}",
        "", d.summary,
    ]
    for r in d.reviews:
        lines.append(f"Review at {r.months} months due {r.due_on:%d/%m/%Y}"
                     f"{f' done {r.done_on:%d/%m/%Y}' if r.done_on else ''}")
    cli.emit(d.as_json(), "\n".join(lines))
    return 0


def export_referrals(cli: Cli, args: argparse.Namespace) -> int:
    from app.services.referrals import ReferralService

    start, end = return_period(args)
    result = ReferralService(cli.open_vault()).export_return(
        Path(args.out).expanduser(), start, end,
        recipient=args.recipient, justification=args.justification,
    )
    cli.emit(
        {"out": str(result.path), "sha256": result.sha256, "from": start, "to": end},
        f"Wrote {result.path} (SHA-256 {result.sha256}); the disclosure is in the audit log.",
    )
    return 0
