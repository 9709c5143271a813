"""The export registry and the disclosure audit: returns (xlsx) and briefings (PDF) that leave
the terminal, each written safely, marked, and recorded with recipient and justification.

A return is registered by name with a lazily imported ``"module:function"`` string, so that the
command line and the window know every return without importing every capability:

* ``kind="plan"`` (preferred): ``builder(vault, request) -> ReturnPlan``. The builder says what
  goes in (title, sheets, the refs included, markings of its contents); this service writes it
  through ``atomic_export`` and records the disclosure the same way for every return.
* ``kind="writer"``: ``writer(vault, request, out, progress) -> ExportResult`` for a capability
  that writes and audits its own return (kept for the returns written before this registry).

A failed or cancelled export leaves nothing at the target and no audit row (nothing was
disclosed); if the audit row itself cannot be written, the published file is removed again, so
no export is ever on the media without its disclosure record.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select

from app import __version__
from app.domain.errors import NotFound, ValidationError
from app.domain.nominal import parse_ref
from app.domain.roles import Perm
from app.domain.text import MSG_TEXT, text_problem, tidy_text
from app.io.marking import DocumentInfo, Marking, most_restrictive
from app.io.safe_write import ExportResult, ProgressSink, atomic_export
from app.io.xlsx import Column, SheetSpec, write_return
from app.security.audit import Category
from app.services.base import Service, requires
from app.services.vault import Vault

MAX_RECIPIENT = 500
MAX_JUSTIFICATION = 2000
REFS_LISTED_IN_FULL = 200  # above this, the audit keeps a count, the range and a hash
HEADCOUNT_PAGE = 2000

ReturnKind = Literal["plan", "writer"]


# --- what a builder is given and gives back ---------------------------------------------------


@dataclass(frozen=True)
class ReturnRequest:
    """The period asked for (either end may be None: the return picks its own default)."""

    start: date | None = None
    end: date | None = None
    today: date = field(default_factory=date.today)


class IncludedRefs:
    """The record refs that went into a document, tallied as rows stream past.

    Up to REFS_LISTED_IN_FULL refs are kept in full; beyond that the audit row holds the count,
    the lowest and highest ref and a SHA-256 over every ref in the order written, so that a
    later question ("was NM-000123 in that return?") can be answered by re-running the query and
    comparing the hash, without a 100,000-ref audit row."""

    def __init__(self) -> None:
        self.count = 0
        self.first: str | None = None
        self.last: str | None = None
        self._listed: list[str] = []
        self._hash = hashlib.sha256()

    def add(self, ref: str) -> None:
        self.count += 1
        self._hash.update(ref.encode() + b"\n")
        if self.first is None or ref < self.first:
            self.first = ref
        if self.last is None or ref > self.last:
            self.last = ref
        if len(self._listed) <= REFS_LISTED_IN_FULL:
            self._listed.append(ref)

    def as_detail(self) -> dict[str, Any]:
        if self.count <= REFS_LISTED_IN_FULL:
            return {"count": self.count, "refs": list(self._listed)}
        return {"count": self.count, "first": self.first, "last": self.last,
                "sha256": self._hash.hexdigest()}


@dataclass
class ReturnPlan:
    """What a return holds. ``refs`` must be filled while ``sheets`` stream (or before)."""

    title: str
    sheets: list[SheetSpec]
    period: str | None = None
    refs: IncludedRefs = field(default_factory=IncludedRefs)
    markings: list[Marking] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)


PlanBuilder = Callable[[Vault, ReturnRequest], ReturnPlan]
ReturnWriter = Callable[[Vault, ReturnRequest, Path, "ProgressSink | None", str, str], ExportResult]


@dataclass(frozen=True)
class ReturnDef:
    name: str
    title: str
    target: str | Callable[..., Any]
    kind: ReturnKind = "plan"
    description: str = ""
    takes_period: bool = True

    def load(self) -> Callable[..., Any]:
        if callable(self.target):
            return self.target
        module, _, attr = self.target.partition(":")
        fn = getattr(importlib.import_module(module), attr)
        if not callable(fn):
            raise TypeError(f"{self.target} is not callable")
        return fn  # type: ignore[no-any-return]


_REGISTRY: dict[str, ReturnDef] = {}
_NAME_RE = re.compile(r"[a-z][a-z0-9-]{1,31}")


def register_return(
    name: str,
    builder: str | Callable[..., Any],
    *,
    title: str,
    kind: ReturnKind = "plan",
    description: str = "",
    takes_period: bool = True,
    replace: bool = False,
) -> None:
    """Make ``caseward export NAME`` and the export dialog offer a return.

    ``builder`` is ``"package.module:function"`` (imported on first use) or a callable; see the
    module docstring for the two kinds. Registering a taken name is a bug unless ``replace``."""
    if not _NAME_RE.fullmatch(name):
        raise ValueError("a return name is 2-32 lower-case letters, digits or '-'")
    if name in _REGISTRY and not replace:
        raise ValueError(f"a return named {name!r} is already registered")
    _REGISTRY[name] = ReturnDef(name, title, builder, kind, description, takes_period)


def unregister_return(name: str) -> None:
    _REGISTRY.pop(name, None)


def known_returns() -> list[ReturnDef]:
    """Every registered return, in the order registered (the headcount first)."""
    return list(_REGISTRY.values())


def return_def(name: str) -> ReturnDef:
    found = _REGISTRY.get(name)
    if found is None:
        raise KeyError(name)
    return found


# --- the disclosure --------------------------------------------------------------------------


@dataclass(frozen=True)
class Disclosure:
    """A finished export: where it is, its hash and size, and what went into it."""

    path: Path
    sha256: str
    size: int
    what: str  # return name, or "briefing"
    included: int  # number of records
    marking: str

    def as_json(self) -> dict[str, Any]:
        return {"out": str(self.path), "sha256": self.sha256, "size": self.size,
                "what": self.what, "records": self.included, "marking": self.marking}


def _clean(value: str, field_name: str, limit: int, *, multiline: bool = False) -> str:
    """A disclosure's recipient (one line) or justification (may be several lines) as it is
    recorded: judged by the shared check for typed text (``app.domain.text``), never by a list
    of its own. Both are typed at the time of the export and are the audit log's record of
    who was given what and why, so a character that does not belong is refused with a message
    naming the field (a control character; in the recipient a line break or a bidirectional
    override, which could make the name read as someone else) rather than dropped unseen: the
    user corrects the field. Text that passes is kept whole: NFC, line breaks as LF, stripped; the
    recipient's runs of white space (a tab, two spaces) become one space. Record data in the
    cells of a return is not judged here: app.io.xlsx replaces what XML cannot hold with
    U+FFFD and guards formulas, so a return of old data is never refused for its text."""
    text = value or ""
    if not isinstance(text, str):
        raise ValidationError(field_name, MSG_TEXT)
    problem = text_problem(text, multiline=multiline)
    if problem is None and not _encodable(text):
        problem = MSG_NOT_TEXT  # lone surrogates (undecodable bytes of a command line)
    if problem is not None:
        raise ValidationError(field_name, problem)
    text = tidy_text(text, multiline=multiline)
    if not multiline:
        text = " ".join(text.split())
    if not text:
        what = "who will receive it" if field_name == "recipient" else "why it is disclosed"
        raise ValidationError(field_name, f"is required: say {what}")
    if len(text) > limit:
        raise ValidationError(field_name, f"must be at most {limit:,} characters")
    return text


MSG_NOT_TEXT = "contains characters that are not valid text"


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_disclosure(recipient: str, justification: str) -> tuple[str, str]:
    """The recipient (one line) and justification (may be several lines), cleaned; both
    required. Raises ValidationError naming the field."""
    return (_clean(recipient, "recipient", MAX_RECIPIENT),
            _clean(justification, "justification", MAX_JUSTIFICATION, multiline=True))


def proposed_name(what: str, today: date | None = None, ref: str | None = None) -> str:
    """A file name with no personal data: ``headcount-2026-11-25.xlsx``,
    ``briefing-NM-000123.pdf`` (a ref is not personal data)."""
    day = (today or date.today()).isoformat()
    if ref:
        return f"briefing-{ref}.pdf"
    return f"{what}-{day}.xlsx"


def _remove_quietly(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".sha256")):
        with contextlib.suppress(OSError):
            os.unlink(p)


class ExportService(Service):
    """Every return and briefing that leaves the terminal goes through here."""

    @requires(Perm.SELF)
    def marking(self) -> Marking:
        """The marking every export carries at least (the vault's setting)."""
        from app.services.settings import SettingsService

        return SettingsService(self.vault).export_marking()

    @staticmethod
    def returns() -> list[ReturnDef]:
        return known_returns()

    # -- returns ---------------------------------------------------------------------------------
    @requires(Perm.EXPORT)
    def export_return(
        self,
        name: str,
        out: str | os.PathLike[str],
        *,
        recipient: str,
        justification: str,
        start: date | None = None,
        end: date | None = None,
        overwrite: bool = False,
        progress: ProgressSink | None = None,
        today: date | None = None,
    ) -> Disclosure:
        """Write the named return to ``out`` (+ ``.sha256``) and record the disclosure."""
        try:
            definition = return_def(name)
        except KeyError:
            raise ValidationError(
                "return", f"is not known; known returns: {', '.join(sorted(_REGISTRY))}"
            ) from None
        recipient, justification = check_disclosure(recipient, justification)
        if start and end and start > end:
            raise ValidationError("period", "starts after it ends")
        request = ReturnRequest(start, end, today or date.today())
        target = Path(out)
        fn = definition.load()
        if definition.kind == "writer":
            result: ExportResult = fn(self.vault, request, target, progress, recipient,
                                      justification)
            return Disclosure(result.path, result.sha256, result.size, name, -1,
                              self.marking().text)
        plan: ReturnPlan = fn(self.vault, request)
        marking = most_restrictive([self.marking(), *plan.markings])
        info = DocumentInfo(title=plan.title, author=self.vault.actor.user,
                            generated_at=datetime.now(), marking=marking, period=plan.period,
                            app_version=__version__)
        counts: dict[str, int] = {}

        def write(stream: Any, sink: ProgressSink) -> None:
            counts.update(write_return(stream, info, plan.sheets, sink))

        result = atomic_export(target, write, overwrite=overwrite, progress=progress)
        detail = {
            "return": name, "file": result.path.name, "sha256": result.sha256,
            "size": result.size, "app_version": __version__, "marking": marking.text,
            "period_start": request.start, "period_end": request.end, "sheets": counts,
            "included": plan.refs.as_detail(), **plan.detail,
        }
        self._record(result, f"export.{name}", "return", name, recipient, justification,
                     detail)
        return Disclosure(result.path, result.sha256, result.size, name, plan.refs.count,
                          marking.text)

    # -- briefings -------------------------------------------------------------------------------
    @requires(Perm.EXPORT)
    def brief(
        self,
        ref: str,
        out: str | os.PathLike[str],
        *,
        recipient: str,
        justification: str,
        overwrite: bool = False,
        progress: ProgressSink | None = None,
        today: date | None = None,
    ) -> Disclosure:
        """Write the nominal briefing PDF and record the disclosure."""
        from app.io.pdf import build_pdf
        from app.services.briefing import briefing_document

        recipient, justification = check_disclosure(recipient, justification)
        doc = briefing_document(self.vault, ref, marking=self.marking(), today=today)

        def write(stream: Any, sink: ProgressSink) -> None:
            build_pdf(stream, doc.info, doc.story, sink)

        result = atomic_export(Path(out), write, overwrite=overwrite, progress=progress)
        detail = {"file": result.path.name, "sha256": result.sha256, "size": result.size,
                  "app_version": __version__, "marking": doc.info.marking.text,
                  "included": {"count": 1, "refs": [doc.ref]}, "sections": doc.sections}
        self._record(result, "export.briefing", "nominal", doc.ref, recipient, justification,
                     detail)
        return Disclosure(result.path, result.sha256, result.size, "briefing", 1,
                          doc.info.marking.text)

    @requires(Perm.EXPORT)
    def record_print(self, what: str, refs: Sequence[str], *, recipient: str,
                     justification: str, pages: int, sha256: str = "") -> None:
        """A document sent to a printer is a disclosure too: record it (no file, so no hash
        of the print itself; ``sha256`` is the PDF that was printed, if any)."""
        recipient, justification = check_disclosure(recipient, justification)
        included = IncludedRefs()
        for r in refs:
            included.add(r)
        with self.vault.write() as s:
            self.vault.audit(
                s, Category.DISCLOSURE, f"print.{what}", entity="print",
                ref=refs[0] if len(refs) == 1 else what, reason=justification,
                recipient=recipient,
                detail={"pages": pages, "sha256": sha256, "app_version": __version__,
                        "marking": self.marking().text, "included": included.as_detail()})

    def _record(self, result: ExportResult, action: str, entity: str, ref: str,
                recipient: str, justification: str, detail: dict[str, Any]) -> None:
        try:
            with self.vault.write() as s:
                self.vault.audit(s, Category.DISCLOSURE, action, entity=entity, ref=ref,
                                 reason=justification, recipient=recipient, detail=detail)
        except BaseException:
            # No disclosure may stand on the media without its record.
            _remove_quietly(result.path)
            raise


# --- the headcount return ----------------------------------------------------------------------

# Field -> how the headcount shows it; headings come from the national list's own names.
_HEADCOUNT_FIELDS: list[tuple[str, str]] = [
    ("surname", "text"), ("forenames", "text"), ("dob", "date"), ("pnc", "text"),
    ("cro", "text"), ("gender", "text"), ("status", "text"), ("force", "text"),
    ("establishment", "text"), ("release_date", "date"), ("nominal_manager", "text"),
    ("risk_level", "text"), ("mappa_category", "int"), ("mappa_level", "int"),
    ("offence", "text"), ("notification_end", "date"),
]
_WIDTHS = {"surname": 20, "forenames": 22, "pnc": 16, "cro": 14, "gender": 7, "status": 12,
           "force": 22, "establishment": 22, "nominal_manager": 22, "risk_level": 8,
           "mappa_category": 8, "mappa_level": 8, "offence": 36}


def national_headings() -> dict[str, str]:
    """The national return's heading for each field (the first name in
    resources/reference/national_columns.json)."""
    import json

    from app.paths import resources_dir

    data = json.loads((resources_dir() / "reference" / "national_columns.json")
                      .read_text(encoding="utf-8"))
    return {name: spec["names"][0] for name, spec in data["fields"].items()}


def _title(value: str | None) -> str | None:
    return value.capitalize() if value else value


def headcount_return(vault: Vault, request: ReturnRequest) -> ReturnPlan:
    """The regional list in the national return's columns, with a summary sheet.

    Rows stream from the vault in keyset pages of plain column tuples (never ORM objects), in
    one read transaction, so that the summary counts the very rows the list holds."""
    from app.domain.roles import allowed
    from app.store.models import Nominal

    if not allowed(vault.actor.role, Perm.NOMINAL_READ):
        from app.domain.errors import NotAllowed

        raise NotAllowed("Your role may not read nominal records.")
    headings = national_headings()
    columns = [Column("Regional ref", width=12)] + [
        Column(headings.get(f, f), kind, _WIDTHS.get(f))  # type: ignore[arg-type]
        for f, kind in _HEADCOUNT_FIELDS
    ]
    selected = [Nominal.id, Nominal.ref] + [getattr(Nominal, f) for f, _ in _HEADCOUNT_FIELDS]
    with vault.read() as s:
        from sqlalchemy import func

        live = (Nominal.merged_into_id.is_(None), Nominal.erased.is_(False))
        expected = int(s.scalar(select(func.count()).select_from(Nominal).where(*live)) or 0)
    refs = IncludedRefs()
    by_status: Counter[str] = Counter()
    by_force: Counter[str] = Counter()
    by_risk: Counter[str] = Counter()
    status_at = 1 + [f for f, _ in _HEADCOUNT_FIELDS].index("status")
    force_at = 1 + [f for f, _ in _HEADCOUNT_FIELDS].index("force")
    risk_at = 1 + [f for f, _ in _HEADCOUNT_FIELDS].index("risk_level")

    def rows() -> Iterator[tuple[object, ...]]:
        with vault.read() as s:
            last = 0
            while True:
                page = s.execute(
                    select(*selected).where(*live, Nominal.id > last)
                    .order_by(Nominal.id).limit(HEADCOUNT_PAGE)
                ).all()
                if not page:
                    return
                for r in page:
                    row = (r[1], *r[2:])
                    row = (*row[:status_at], _title(row[status_at]), *row[status_at + 1:])
                    row = (*row[:risk_at], _title(row[risk_at]), *row[risk_at + 1:])
                    refs.add(r[1])
                    by_status[row[status_at] or "Not recorded"] += 1
                    by_force[row[force_at] or "Not recorded"] += 1
                    by_risk[row[risk_at] or "Not recorded"] += 1
                    yield row
                last = page[-1][0]

    def summary() -> Iterator[tuple[object, ...]]:
        yield ("All nominals", "Total", refs.count)
        for label, counter in (("Status", by_status), ("Force", by_force),
                               ("Risk level", by_risk)):
            for value, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
                yield (label, value, n)

    today = request.today
    return ReturnPlan(
        title="Regional headcount return",
        period=f"As at {today:%d/%m/%Y}",
        sheets=[
            SheetSpec("Summary", [Column("Breakdown", width=16), Column("Value", width=36),
                                  Column("Nominals", "int", 10)], summary(), deferred=True),
            SheetSpec("Headcount", columns, rows(), expected_rows=expected),
        ],
        refs=refs,
        detail={"as_at": today},
    )


# --- returns other capabilities wrote before this registry (they write and audit) ----------


def _period(request: ReturnRequest) -> tuple[date, date]:
    end = request.end or request.today
    start = request.start or (end.replace(day=1) - _days(335)).replace(day=1)
    return start, end


def _days(n: int) -> Any:
    from datetime import timedelta

    return timedelta(days=n)


def engagement_writer(vault: Vault, request: ReturnRequest, out: Path,
                      progress: ProgressSink | None, recipient: str,
                      justification: str) -> ExportResult:
    from app.services.engagement import EngagementService

    start, end = _period(request)
    result: ExportResult = EngagementService(vault).export_engagement_return(
        out, start, end, recipient=recipient, justification=justification, progress=progress)
    return result


def referrals_writer(vault: Vault, request: ReturnRequest, out: Path,
                     progress: ProgressSink | None, recipient: str,
                     justification: str) -> ExportResult:
    from app.services.referrals import ReferralService

    start, end = _period(request)
    result: ExportResult = ReferralService(vault).export_return(
        out, start, end, recipient=recipient, justification=justification, progress=progress)
    return result


def performance_writer(vault: Vault, request: ReturnRequest, out: Path,
                       progress: ProgressSink | None, recipient: str,
                       justification: str) -> ExportResult:
    from app.domain.meetings import month_period, parse_period
    from app.services.performance import PerformanceService

    # One calendar quarter when the period spans one exactly, otherwise the month of its end.
    end = request.end or request.today
    period = month_period(end.year, end.month)
    start = request.start
    if start and start.day == 1 and start.month % 3 == 1:
        quarter = parse_period(f"{start.year}-Q{(start.month - 1) // 3 + 1}")
        if quarter.end == end:
            period = quarter
    elif start and (start.year, start.month) != (end.year, end.month):
        raise ValidationError("from", "a performance return covers one month or one calendar "
                              "quarter")
    result: ExportResult = PerformanceService(vault).export_return(
        out, period, recipient=recipient, justification=justification, progress=progress)
    return result


def actions_writer(vault: Vault, request: ReturnRequest, out: Path,
                   progress: ProgressSink | None, recipient: str,
                   justification: str) -> ExportResult:
    from app.services.meetings import MeetingService

    result: ExportResult = MeetingService(vault).export_actions(
        out, request.start, request.end, recipient=recipient, justification=justification,
        progress=progress)
    return result


def _builtin() -> None:
    register_return("headcount", "app.services.exports:headcount_return",
                    title="Regional headcount return",
                    description="The regional list in the national return's columns, with a "
                    "summary by status, force and risk level.", takes_period=False)
    register_return("engagement", "app.services.exports:engagement_writer", kind="writer",
                    title="Engagement return",
                    description="Contacts made against plan per nominal manager and month.")
    register_return("referrals", "app.services.exports:referrals_writer", kind="writer",
                    title="Prevent referrals return",
                    description="Referrals by concern, sector, outcome and month, with "
                    "timeliness against target.")
    register_return("performance", "app.services.exports:performance_writer", kind="writer",
                    title="Performance return",
                    description="The month's figures against targets and the 12-month trend "
                    "(the month of the period's end, or a calendar quarter).")
    register_return("actions", "app.services.exports:actions_writer", kind="writer",
                    title="Action log (chair's report)",
                    description="Actions due in the period (default: every open action and "
                    "those due in the last twelve months), with a summary per owner.")
    register_return("corrections", "app.services.reconcile:corrections_writer", kind="writer",
                    title="Reconciliation corrections return",
                    description="Corrections for the national headcount from the most recently "
                    "worked-on saved reconciliation.", takes_period=False)


_builtin()


def nominal_ref(text: str) -> str:
    """A ref as the vault writes it (NM-000123), or NotFound."""
    from app.domain.nominal import format_ref

    number = parse_ref(text)
    if number is None:
        raise NotFound("There is no nominal with that reference.")
    return format_ref(number)
