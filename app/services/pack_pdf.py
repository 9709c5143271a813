"""The meeting pack (PDF): cover, agenda and attendees, a one-page briefing per nominal for
discussion, outstanding actions and a performance summary. Marked on every page with "Page N
of M", every value escaped, written atomically with its .sha256 and audited as a disclosure.

For printing, the pack is laid out in memory (never a file on disk) and the print is audited
as a disclosure with the same fields as the export, under the action ``print.pack``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.domain.errors import NotAllowed, ValidationError
from app.domain.meetings import ActionStatus, Figure, clean_text, month_period
from app.domain.nominal import Nominal as NominalRecord
from app.domain.nominal import parse_ref as parse_nominal_ref
from app.domain.roles import Perm, allowed
from app.security.audit import Category
from app.services.base import Service, requires
from app.services.meetings import (
    ActionInfo,
    MeetingDetail,
    _action_infos,
    _detail,
    _meeting_id,
    meeting_lists,
)
from app.services.vault import Vault
from app.store import nominals as nominal_repo
from app.store.models import Action, CivilOrder, ContactPlan, Meeting

__all__ = ["NominalBrief", "PackData", "PackService", "PrintablePack", "build_pack_pdf"]

# Recent contacts on a pack's briefing page: three (the stand-alone briefing shows five) so
# that most briefings fit a page without shrinking, which costs a second layout of the page.
PACK_CONTACTS = 3
ORDER_LABELS = {"tpim": "TPIM notice", "teo": "Temporary exclusion order",
                "scpo": "Serious Crime Prevention Order", "ftro": "Foreign Travel Restriction "
                "Order", "part4": "Part 4 notification order"}


@dataclass(frozen=True)
class NominalBrief:
    """What one briefing page shows about one nominal."""

    record: NominalRecord
    reason: str
    frequency_days: int | None
    last_contact: date | None
    next_due: date | None
    orders: tuple[tuple[str, date, date, str], ...]  # label, start, end, conditions
    actions: tuple[ActionInfo, ...]
    faults: tuple[str, ...]
    # The export layer's nominal briefing (app.services.briefing.BriefingData) when that
    # module is present: the pack then prints the same page as `caseward brief`.
    briefing: Any = None


@dataclass(frozen=True)
class PackData:
    meeting: MeetingDetail
    briefs: tuple[NominalBrief, ...]
    outstanding: tuple[ActionInfo, ...]
    performance: tuple[Figure, ...]
    performance_period: str
    today: date
    generated_at: datetime = field(default_factory=datetime.now)

    @property
    def nominal_refs(self) -> list[str]:
        return [b.record.ref or "" for b in self.briefs]


def _faults(s: Session, ids: Sequence[int], today: date) -> dict[int, list[str]]:
    from app.services.quality import RULES, RuleContext
    from app.store.models import Nominal

    out: dict[int, list[str]] = defaultdict(list)
    if not ids:
        return out
    ctx = RuleContext(today)
    wanted = set(ids)
    for rule in RULES:
        if rule.sql is not None:
            hit = {int(i) for (i,) in s.execute(
                select(Nominal.id).where(Nominal.id.in_(list(wanted)), rule.sql(ctx)))}
        else:
            assert rule.python is not None
            hit = wanted & rule.python(s, ctx, None) if len(wanted) > 5 else {
                i for i in wanted if rule.python(s, ctx, i)}
        for nid in hit:
            out[nid].append(rule.title)
    return out


def gather(s: Session, meeting_key: int | str, today: date) -> tuple[MeetingDetail,
                                                                      list[NominalBrief],
                                                                      list[ActionInfo]]:
    """The meeting, a brief per nominal on its agenda, and the outstanding actions of its
    type (open actions raised at this or any earlier meeting of the type, or carried onto it)."""
    mid = _meeting_id(s, meeting_key)
    meeting = s.get(Meeting, mid)
    assert meeting is not None
    detail = _detail(s, meeting, meeting_lists(s), today)
    items = [i for i in detail.agenda if i.kind == "nominal" and i.nominal_ref]
    ids = [nominal_repo.id_for_ref(s, i.nominal_ref or "") for i in items]
    pairs = [(i, n) for i, n in zip(items, ids, strict=True) if n is not None]
    nids = [n for _, n in pairs]
    records = {parse_nominal_ref(r.ref or "") or 0: r for r in nominal_repo.load_many(s, nids)}
    plans = {p.nominal_id: p for p in s.scalars(
        select(ContactPlan).where(ContactPlan.nominal_id.in_(nids)))}
    orders: dict[int, list[tuple[str, date, date, str]]] = defaultdict(list)
    for o in s.scalars(select(CivilOrder).where(CivilOrder.nominal_id.in_(nids),
                                                 CivilOrder.status == "active")
                       .order_by(CivilOrder.end_date)):
        orders[o.nominal_id].append((ORDER_LABELS.get(o.order_type, o.order_type.upper()),
                                     o.start_date, o.end_date, o.conditions))
    action_rows = list(s.scalars(select(Action).where(
        Action.nominal_id.in_(nids), Action.status == ActionStatus.OPEN.value)
        .order_by(Action.due_date)))
    by_nominal: dict[int, list[ActionInfo]] = defaultdict(list)
    for info, row in zip(_action_infos(s, action_rows, today), action_rows, strict=True):
        by_nominal[row.nominal_id or 0].append(info)
    faults = _faults(s, nids, today)
    briefs = []
    for item, nid in pairs:
        record = records.get(nid)
        if record is None:
            continue
        plan = plans.get(nid)
        briefs.append(NominalBrief(
            record=record, reason=item.reason,
            frequency_days=plan.frequency_days if plan else None,
            last_contact=plan.last_contact_at.date() if plan and plan.last_contact_at else None,
            next_due=plan.next_due if plan else None,
            orders=tuple(orders[nid]), actions=tuple(by_nominal[nid]),
            faults=tuple(faults[nid])))
    same_type = select(Meeting.id).where(Meeting.meeting_type == meeting.meeting_type,
                                         Meeting.meeting_date <= meeting.meeting_date)
    carried = [i.action_ref for i in detail.agenda if i.action_ref]
    outstanding_rows = list(s.scalars(select(Action).where(
        Action.status == ActionStatus.OPEN.value,
        or_(Action.meeting_id.in_(same_type), and_(Action.ref.in_(carried))))
        .order_by(Action.due_date, Action.id)))
    outstanding = _action_infos(s, outstanding_rows, today)
    outstanding.sort(key=lambda a: (not a.overdue, a.due, a.id))
    return detail, briefs, outstanding


@dataclass(frozen=True)
class PrintablePack:
    """A pack laid out in memory for the printer, and what its print record will say."""

    meeting_ref: str
    pdf: bytes = field(repr=False)
    pages: int
    sha256: str
    recipient: str
    nominal_refs: tuple[str, ...]
    action_refs: tuple[str, ...]


class PackService(Service):
    """Gather and write the meeting pack."""

    def __init__(self, vault: Vault, today: Any = date.today) -> None:
        super().__init__(vault)
        self._today = today

    @requires(Perm.MEETING_READ)
    def pack_data(self, meeting_key: int | str, today: date | None = None) -> PackData:
        """Everything the pack prints, resolved (no session needed to render)."""
        from app.services.performance import PerformanceService

        if not allowed(self.vault.actor.role, Perm.NOMINAL_READ):
            raise NotAllowed(f"Your role ({self.vault.actor.role.value}) may not read "
                             "nominal records.")
        today = today or self._today()
        with self.vault.read() as s:
            detail, briefs, outstanding = gather(s, meeting_key, today)
        shared = _shared_briefings(self.vault, briefs, today)
        if shared is not None:
            briefs = [replace(b, briefing=d) for b, d in zip(briefs, shared, strict=True)]
        basis = min(detail.row.starts_at.date(), today)
        period = month_period(basis.year, basis.month)
        report = PerformanceService(self.vault, lambda: today).figures(period, today)
        return PackData(detail, tuple(briefs), tuple(outstanding), report.figures,
                        period.label, today)

    @requires(Perm.EXPORT)
    def export_pack(self, meeting_key: int | str, out: Path, *, recipient: str,
                    justification: str, today: date | None = None,
                    progress: Any = None) -> Any:
        """Write the pack atomically (+ .sha256) and audit the disclosure: recipient,
        justification, the nominals and actions included, the file name and its hash."""
        from app.io.safe_write import atomic_export

        recipient = clean_text(recipient, "recipient", 500, required=True)
        justification = clean_text(justification, "justification", 2000, required=True,
                                   multiline=True)
        data = self.pack_data(meeting_key, today)
        author = self.vault.actor.user

        def write(stream: Any, sink: Any) -> None:
            build_pack_pdf(stream, data, author=author, recipient=recipient, progress=sink)

        result = atomic_export(out, write, progress=progress)
        with self.vault.write() as s:
            self.vault.audit(
                s, Category.DISCLOSURE, "export.pack", entity="meeting", ref=data.meeting.ref,
                reason=justification, recipient=recipient,
                detail={"file": result.path.name, "sha256": result.sha256,
                        "nominals": data.nominal_refs,
                        "actions": [a.ref for a in data.outstanding]})
        return result


    @requires(Perm.EXPORT)
    def printable_pack(self, meeting_key: int | str, *, recipient: str,
                       today: date | None = None, progress: Any = None) -> PrintablePack:
        """Lay the pack out in memory for printing (the cover names ``recipient``). Nothing is
        written to disk and nothing is audited yet: ``record_print`` does that once the
        print is under way."""
        import hashlib
        import io

        recipient = clean_text(recipient, "recipient", 500, required=True)
        data = self.pack_data(meeting_key, today)
        buffer = io.BytesIO()
        pages = build_pack_pdf(buffer, data, author=self.vault.actor.user,
                               recipient=recipient, progress=progress)
        pdf = buffer.getvalue()
        return PrintablePack(data.meeting.ref, pdf, pages, hashlib.sha256(pdf).hexdigest(),
                             recipient, tuple(data.nominal_refs),
                             tuple(a.ref for a in data.outstanding))

    @requires(Perm.EXPORT)
    def record_print(self, pack: PrintablePack, *, justification: str, pages: int) -> None:
        """Audit the print as a disclosure: the export's fields (recipient, justification,
        nominals, actions, the hash of the PDF printed) with the pages sent to the printer."""
        from app.services.exports import ExportService

        justification = clean_text(justification, "justification", 2000, required=True,
                                   multiline=True)
        if not isinstance(pages, int) or isinstance(pages, bool) or pages < 1:
            raise ValidationError("pages", "must be at least 1")
        marking = ExportService(self.vault).marking().text
        with self.vault.write() as s:
            self.vault.audit(
                s, Category.DISCLOSURE, "print.pack", entity="meeting", ref=pack.meeting_ref,
                reason=justification, recipient=pack.recipient,
                detail={"kind": "print", "pages": pages, "sha256": pack.sha256,
                        "marking": marking, "nominals": list(pack.nominal_refs),
                        "actions": list(pack.action_refs)})


def _cap(value: str | None) -> str | None:
    return None if value is None else value.replace("_", " ").capitalize()


def _shared_briefings(vault: Vault, briefs: Sequence[NominalBrief],
                      today: date) -> list[Any] | None:
    """The export layer's BriefingData for every nominal of the pack, read in one session
    with a handful of IN queries (its own ``gather`` opens several write sessions per nominal,
    about 30 ms each: 1.5 s for a 50-nominal pack). The rows have the shapes its ``gather``
    gives. None when that module is not installed."""
    try:
        from app.services.briefing import BriefingData, Section
    except ImportError:
        return None
    from app.domain.nominal import parse_ref
    from app.domain.rules import load_reference, parse_civil_orders
    from app.services.reference import stored_current
    from app.store.models import Contact, NotificationRequirement

    ids = [parse_ref(b.record.ref or "") or 0 for b in briefs]
    with vault.read() as s:
        table = parse_civil_orders(stored_current(s, "civil_orders")
                                   or load_reference("civil_orders"))
        labels = {code: o.label for code, o in table.orders.items()}
        orders: dict[int, list[tuple[object, ...]]] = defaultdict(list)
        for o in s.scalars(select(CivilOrder).where(CivilOrder.nominal_id.in_(ids))
                           .order_by(CivilOrder.start_date.desc(), CivilOrder.id.desc())):
            orders[o.nominal_id].append((labels.get(o.order_type, o.order_type),
                                         o.start_date, o.end_date, o.status.capitalize(),
                                         o.conditions))
        notices: dict[int, list[tuple[object, ...]]] = defaultdict(list)
        for r in s.scalars(select(NotificationRequirement)
                           .where(NotificationRequirement.nominal_id.in_(ids))
                           .order_by(NotificationRequirement.start_date.desc())):
            notices[r.nominal_id].append((r.rule_text or f"{r.period_years} years",
                                          r.start_date, r.end_date, r.next_due,
                                          r.status.capitalize()))
        contacts: dict[int, list[tuple[object, ...]]] = defaultdict(list)
        for nid in ids:  # the newest few per nominal: an index range each
            for c in s.scalars(select(Contact).where(Contact.nominal_id == nid)
                               .order_by(Contact.at.desc()).limit(PACK_CONTACTS)):
                contacts[nid].append((c.at, _cap(c.contact_type), c.officer,
                                      _cap(c.outcome), c.notes))
    out = []
    for b, nid in zip(briefs, ids, strict=True):
        if b.frequency_days is None:
            plan = "No contact plan."
        else:
            plan = f"Every {b.frequency_days} days" + (
                f"; next due {b.next_due:%d/%m/%Y}" if b.next_due else "")
            if b.next_due is not None and b.next_due < today:
                plan += f" (overdue by {(today - b.next_due).days} days)"
        actions: list[tuple[object, ...]] = [(a.ref, a.text, a.owner,
                    f"{a.due:%d/%m/%Y}" + (" (overdue)" if a.overdue else ""))
                   for a in b.actions[:8]]
        out.append(BriefingData(
            b.record, today, Section(orders[nid]), Section(notices[nid]),
            Section(contacts[nid]), plan, Section(actions, note="None open.")))
    return out


# --- layout -----------------------------------------------------------------------------


def _uk(d: date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else "—"


def _name(n: NominalRecord) -> str:
    return n.display_name


def _facts(rows: Sequence[tuple[str, object]], st: Any, label_width: float,
           width: float) -> Any:
    """Label/value pairs: labels are our own constants, drawn as plain cell text (no markup
    parsing: about half the cost of a Paragraph); every value is an escaped Paragraph."""
    from reportlab.lib.colors import HexColor
    from reportlab.platypus import Paragraph, Table, TableStyle

    from app.io.pdf import FONT_BOLD, MUTED, display_text, esc

    table = Table([[label, Paragraph(esc(display_text(value)), st.table_cell)]
                   for label, value in rows], colWidths=[label_width, width - label_width],
                  hAlign="LEFT")
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (0, -1), FONT_BOLD, 8.5),
        ("TEXTCOLOR", (0, 0), (0, -1), HexColor(MUTED)),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, HexColor("#E1E6EB")),
    ]))
    return table


def briefing_page(st: Any, b: NominalBrief, today: date) -> list[Any]:
    """One nominal on one page (shrunk to fit if the record is long): the export layer's
    briefing when present, headed by why the nominal is on the agenda; else a compact page."""
    if b.briefing is not None:
        return _shared_briefing_page(st, b)
    return _compact_briefing_page(st, b, today)


def _shared_briefing_page(st: Any, b: NominalBrief) -> list[Any]:
    from reportlab.lib.colors import HexColor
    from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

    from app.io.pdf import FRAME_WIDTH, MARGIN_BOTTOM, MARGIN_TOP, MM, PAGE_HEIGHT, esc
    from app.services.briefing import layout

    why = f"On the agenda: {b.reason or 'chosen for discussion'}"
    if b.faults:
        why += f"  ·  Data quality: {'; '.join(b.faults)}"
    banner = Table([[Paragraph(esc(why), st.table_cell)]], colWidths=[FRAME_WIDTH],
                   hAlign="LEFT")
    banner.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), HexColor("#FFF4D6")),
                                ("BOX", (0, 0), (-1, -1), 0.5, HexColor("#C9A227")),
                                ("LEFTPADDING", (0, 0), (-1, -1), 6),
                                ("TOPPADDING", (0, 0), (-1, -1), 3),
                                ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
    flow = [banner, Spacer(1, 2 * MM), *layout(b.briefing)]
    height = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM - 2 * MM
    return [_one_page(FRAME_WIDTH, height, flow)]


def _one_page(width: float, height: float, content: list[Any]) -> Any:
    """Content shrunk (never cut) to fit one frame.

    reportlab's KeepInFrame(mode="shrink") searches for the scale with up to seven layouts of
    the content; a briefing a little over a page fits at about H / height, so this lays it out
    at that scale and nudges it up only if the text reflows taller (usually two layouts)."""
    from reportlab.platypus import KeepInFrame
    from reportlab.platypus.flowables import _listWrapOn

    class OnePage(KeepInFrame):  # type: ignore[misc]
        def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
            max_w = min(self.maxWidth or avail_width, avail_width)
            max_h = min(self.maxHeight or avail_height, avail_height)
            w, h = _listWrapOn(self._content, max_w, self.canv)
            scale = 1.0
            for _ in range(6):
                if h <= max_h + 1e-3 and w <= max_w + 1e-3:
                    break
                scale *= max(h / max_h, w / max_w) * 1.005
                w, h = _listWrapOn(self._content, scale * max_w, self.canv)
                w, h = w / scale, h / scale
            self._scale = scale
            self.width, self.height = min(w, max_w), min(h, max_h)
            return self.width, self.height

    return OnePage(width, height, content, mode="shrink")


def _compact_briefing_page(st: Any, b: NominalBrief, today: date) -> list[Any]:
    """Our own one-page layout, used when the export layer's briefing is not installed."""
    from reportlab.lib.colors import HexColor
    from reportlab.platypus import KeepInFrame, Paragraph, Spacer, Table, TableStyle

    from app.io.pdf import (
        FRAME_WIDTH,
        MARGIN_BOTTOM,
        MARGIN_TOP,
        MM,
        PAGE_HEIGHT,
        RULE,
        data_table,
        esc,
        photo_placeholder,
    )

    n = b.record
    head = Table(
        [[[Paragraph(esc(f"{n.ref}  ·  Briefing"), st.small),
           Paragraph(esc(_name(n)), st.title),
           Paragraph(esc(f"Why it is on the agenda: {b.reason or 'chosen for discussion'}"),
                     st.body)],
          photo_placeholder(26 * MM, 32 * MM)]],
        colWidths=[FRAME_WIDTH - 30 * MM, 30 * MM], hAlign="LEFT")
    head.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                              ("LEFTPADDING", (0, 0), (-1, -1), 0),
                              ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                              ("LINEBELOW", (0, 0), (-1, 0), 0.6, HexColor(RULE))]))
    half = (FRAME_WIDTH - 6 * MM) / 2
    mappa = (f"Category {n.mappa_category}, level {n.mappa_level}"
             if n.mappa_category else None)
    left = _facts([
        ("Date of birth", n.dob), ("Gender", n.gender.value if n.gender else None),
        ("PNC ID", n.pnc), ("CRO", n.cro),
        ("Aliases", "; ".join(f"{a.surname.upper()}, {a.forenames}".strip(", ")
                              for a in n.aliases[:4]) or None),
        ("Status", n.status.value.capitalize() if n.status else None),
        ("Establishment", n.establishment), ("Release date", n.release_date),
    ], st, 30 * MM, half)
    right = _facts([
        ("Risk level", n.risk_level.value.capitalize() if n.risk_level else None),
        ("ROSH", n.rosh.value.replace("_", " ").capitalize() if n.rosh else None),
        ("MAPPA", mappa), ("Nominal manager", n.nominal_manager), ("Force", n.force),
        ("LED / SED", f"{_uk(n.dates.led)} / {_uk(n.dates.sed)}"),
        ("Notification end", n.notification_end),
    ], st, 34 * MM, half)
    facts = Table([[left, right]], colWidths=[half + 6 * MM, half], hAlign="LEFT")
    facts.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    if b.next_due is None:
        contact = "No contact plan"
    else:
        late = b.next_due < today
        contact = (f"Every {b.frequency_days} days; last {_uk(b.last_contact)}; next due "
                   f"{_uk(b.next_due)}" + (f" — OVERDUE by {(today - b.next_due).days} days"
                                           if late else ""))
    flow: list[Any] = [head, Spacer(1, 3 * MM), facts, Spacer(1, 2 * MM),
                       Paragraph("Offence", st.h2), Paragraph(esc(n.offence or "—"), st.body),
                       Paragraph("Engagement", st.h2), Paragraph(esc(contact), st.body)]
    flow.append(Paragraph("Civil orders in force", st.h2))
    if b.orders:
        flow.append(data_table(["Order", "From", "Until", "Conditions"],
                               [(label, start, end, cond) for label, start, end, cond
                                in b.orders],
                               [40 * MM, 20 * MM, 20 * MM, FRAME_WIDTH - 80 * MM]))
    else:
        flow.append(Paragraph(esc("None recorded."), st.body))
    flow.append(Paragraph("Open actions", st.h2))
    if b.actions:
        flow.append(data_table(
            ["Ref", "Action", "Owner", "Due"],
            [(a.ref, a.text, a.owner, f"{_uk(a.due)}{' (overdue)' if a.overdue else ''}")
             for a in b.actions[:8]],
            [20 * MM, FRAME_WIDTH - 82 * MM, 34 * MM, 28 * MM]))
    else:
        flow.append(Paragraph(esc("None open."), st.body))
    if b.faults:
        flow.append(Paragraph("Data quality", st.h2))
        flow.append(Paragraph(esc("; ".join(b.faults)), st.body))
    if n.notes:
        flow.append(Paragraph("Notes", st.h2))
        notes = n.notes if len(n.notes) <= 1500 else n.notes[:1499] + "…"
        flow.append(Paragraph(esc(notes), st.small))
    height = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM - 2 * MM
    return [KeepInFrame(FRAME_WIDTH, height, flow, mode="shrink")]


def build_pack_pdf(target: Any, data: PackData, *, author: str, recipient: str,
                   progress: Any = None, invariant: bool = False) -> int:
    """Lay out the pack; returns the number of pages."""
    from reportlab.lib.colors import HexColor
    from reportlab.platypus import PageBreak, Paragraph, Spacer, Table, TableStyle

    from app.io.marking import DocumentInfo
    from app.io.pdf import FRAME_WIDTH, MM, RULE, data_table, esc, kv_table, section

    m = data.meeting
    when = m.row.starts_at
    info = DocumentInfo(
        title=f"Meeting pack {m.ref}",
        author=author, generated_at=data.generated_at)
    standing = m.items("standing")
    carried = m.items("carried")
    nominal_items = m.items("nominal")
    other = m.items("other")

    def story(st: Any) -> list[Any]:
        flow: list[Any] = [Spacer(1, 30 * MM),
                           Paragraph(esc("MEETING PACK"), st.small),
                           Paragraph(esc(m.row.type_label), st.title),
                           Spacer(1, 4 * MM)]
        flow.append(kv_table([
            ("Meeting", m.ref),
            ("Date and time", when.strftime("%A %d %B %Y, %H:%M")),
            ("Location", m.row.location), ("Chair", m.row.chair),
            ("Prepared for", recipient), ("Prepared by", author),
            ("Generated", data.generated_at.strftime("%d/%m/%Y %H:%M")),
        ], label_width=40 * MM))
        flow.append(Spacer(1, 8 * MM))
        flow.append(Paragraph("Contents", st.h1))
        flow.append(kv_table([
            ("1. Agenda and attendees", f"{len(m.agenda)} items, {len(m.attendees)} attendees"),
            ("2. Nominal briefings", f"{len(data.briefs)} nominals, one page each"),
            ("3. Outstanding actions", f"{len(data.outstanding)} open, "
                                       f"{sum(a.overdue for a in data.outstanding)} overdue"),
            ("4. Performance summary", data.performance_period),
        ], label_width=60 * MM))
        flow.append(Spacer(1, 10 * MM))
        notice = Table([[Paragraph(esc(
            "Handling: this pack contains personal data processed for law enforcement purposes "
            "(Data Protection Act 2018, Part 3). It is for the named recipient and the meeting "
            "only. Do not copy or forward it; store it securely and return or destroy it after "
            "the meeting. Its issue has been recorded in the audit log."), st.small)]],
            colWidths=[FRAME_WIDTH])
        notice.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.6, HexColor(RULE)),
                                    ("BACKGROUND", (0, 0), (-1, -1), HexColor("#F3F5F8")),
                                    ("LEFTPADDING", (0, 0), (-1, -1), 8),
                                    ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                                    ("TOPPADDING", (0, 0), (-1, -1), 6),
                                    ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
        flow += [notice, PageBreak()]

        flow += section("1. Agenda")
        rows: list[tuple[object, ...]] = []
        number = 0
        for item in standing:
            number += 1
            rows.append((f"{number}", item.title, ""))
        if carried:
            number += 1
            rows.append((f"{number}", "Actions carried forward (overdue)", ""))
            for k, item in enumerate(carried, 1):
                origin = (f"carried from {item.carried_from_ref} of "
                          f"{_uk(item.carried_from_date)}") if item.carried_from_ref else "carried"
                rows.append((f"{number}.{k}", f"{item.action_ref}: {item.title}",
                             f"{item.reason}; {origin}"))
        if nominal_items:
            number += 1
            rows.append((f"{number}", "Nominals for discussion", ""))
            for k, item in enumerate(nominal_items, 1):
                rows.append((f"{number}.{k}", f"{item.nominal_ref} {item.nominal_name or ''}",
                             item.reason))
        for item in other:
            number += 1
            rows.append((f"{number}", item.title, ""))
        flow.append(data_table(["No.", "Item", "Notes"], rows,
                               [14 * MM, 86 * MM, FRAME_WIDTH - 100 * MM]))
        flow += section("Attendees")
        flow.append(data_table(["Name", "Agency", "Role"],
                               [(a.name, a.agency, a.role) for a in m.attendees],
                               [55 * MM, 65 * MM, FRAME_WIDTH - 120 * MM]))
        if m.notes:
            flow += section("Notes")
            flow.append(Paragraph(esc(m.notes), st.body))
        flow.append(PageBreak())

        for b in data.briefs:
            flow += briefing_page(st, b, data.today)
            flow.append(PageBreak())

        flow += section("3. Outstanding actions")
        flow.append(Paragraph(esc(
            f"Open actions of {m.row.type_label} meetings up to this one, overdue first "
            f"(as at {_uk(data.today)})."), st.small))
        flow.append(data_table(
            ["Ref", "Action", "Owner", "Due", "Raised at", "Nominal"],
            [(a.ref, a.text, a.owner, f"{_uk(a.due)}{' OVERDUE' if a.overdue else ''}",
              a.meeting_ref, a.nominal_ref) for a in data.outstanding],
            [23 * MM, FRAME_WIDTH - 125 * MM, 28 * MM, 26 * MM, 24 * MM, 24 * MM]))
        flow += section(f"4. Performance summary: {data.performance_period}")
        perf = data_table(
            ["Measure", "Target", "Actual", "Met", "Basis"],
            [(f.label, f.target_text, f.value_text,
              "—" if f.met is None else ("Yes" if f.met else "No"),
              (f"{f.numerator} of {f.denominator}" if f.denominator is not None
               else (f.note or "")) if f.value is not None else f.note)
             for f in data.performance],
            [52 * MM, 18 * MM, 20 * MM, 12 * MM, FRAME_WIDTH - 102 * MM])
        flow.append(perf)
        return flow

    from app.io.pdf import build_pdf

    return build_pdf(target, info, story, progress, invariant=invariant)
