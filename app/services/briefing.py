"""The nominal briefing (PDF): one nominal, laid out for reading in a meeting.

``briefing_flowables(vault, ref)`` gives the platypus flowables of one briefing, so that the
meeting pack and the research summary can place the same layout in their own documents;
``briefing_document`` wraps them with the document's facts for ``ExportService.brief``.
Engagement (orders, notification, contacts) and meetings (open actions) are read when those
capabilities are present and the role may read them; otherwise the section says so. Nothing
here audits: the caller records the disclosure (the briefing is the disclosure).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from app import __version__
from app.domain.errors import NotAllowed, NotFound
from app.domain.nominal import Nominal as NominalRecord
from app.domain.nominal import parse_ref
from app.io.marking import DEFAULT_MARKING, DocumentInfo, Marking
from app.services.vault import Vault

RECENT_CONTACTS = 5
OPEN_ACTIONS = 8
T = TypeVar("T")

_DATE_ROWS = [
    ("sentence_date", "Sentenced"), ("crd", "CRD"), ("ard", "ARD"), ("ped", "PED"),
    ("npd", "NPD"), ("hdced", "HDCED"), ("prrd", "PRRD"), ("led", "LED"), ("sed", "SED"),
    ("tused", "TUSED"), ("notification_start", "Notification start"),
]


@dataclass
class Section:
    """What one optional section found: rows, or why there are none."""

    rows: list[tuple[object, ...]] = field(default_factory=list)
    note: str = "None recorded."


@dataclass
class BriefingData:
    record: NominalRecord
    today: date
    orders: Section
    notifications: Section
    contacts: Section
    contact_plan: str
    actions: Section


@dataclass(frozen=True)
class BriefingDocument:
    ref: str
    info: DocumentInfo
    story: list[Any]
    sections: list[str]


def _load_record(vault: Vault, ref: str) -> NominalRecord:
    from app.domain.nominal import format_ref
    from app.domain.roles import Perm, allowed
    from app.store import nominals as repo

    if not allowed(vault.actor.role, Perm.NOMINAL_READ):
        raise NotAllowed("Your role may not read nominal records.")
    number = parse_ref(ref)
    with vault.read() as s:
        nominal_id = None if number is None else repo.id_for_ref(s, format_ref(number))
        record = None if nominal_id is None else repo.load(s, nominal_id)
    if record is None or record.erased:
        raise NotFound("There is no nominal with that reference.")
    if record.merged_into:
        raise NotFound("That nominal was merged into another record; brief the kept one.")
    return record


def _optional(read: Callable[[], T]) -> tuple[T | None, str]:
    """Run a read from another capability; (None, why) if it is absent or not allowed."""
    try:
        return read(), ""
    except ImportError:
        return None, "Not available in this version."
    except NotAllowed:
        return None, "Not shown: your role may not read this."


def gather(vault: Vault, ref: str, today: date | None = None) -> BriefingData:
    today = today or date.today()
    record = _load_record(vault, ref)
    key = record.ref or ref

    def engagement() -> Any:
        from app.services.engagement import EngagementService

        return EngagementService(vault)

    orders, why = _optional(lambda: engagement().orders(key))
    order_rows = Section(note=why or "None recorded.")
    for o in orders or []:
        order_rows.rows.append((o.label, o.start_date, o.end_date, o.status.capitalize(),
                                o.conditions))
    notes, why = _optional(lambda: engagement().notifications(key))
    notif_rows = Section(note=why or "None recorded.")
    for n in notes or []:
        notif_rows.rows.append((n.rule_text or f"{n.period_years} years", n.start_date,
                                n.end_date, n.next_due, n.status.capitalize()))
    contacts, why = _optional(lambda: engagement().contacts(key, limit=RECENT_CONTACTS))
    contact_rows = Section(note=why or "None recorded.")
    for c in contacts or []:
        contact_rows.rows.append((c.at, _cap(c.contact_type), c.officer, _cap(c.outcome),
                                  c.notes))
    plan, _ = _optional(lambda: engagement().plan(key))
    if plan is None or plan.frequency_days is None:
        plan_text = "No contact plan."
    else:
        due = plan.next_due
        late = due is not None and due < today
        plan_text = (f"Every {plan.frequency_days} days; next due "
                     f"{due:%d/%m/%Y}" if due else f"Every {plan.frequency_days} days")
        if late and due is not None:
            plan_text += f" (overdue by {(today - due).days} days)"

    def open_actions() -> Any:
        from app.services.meetings import ActionFilter, MeetingService

        return MeetingService(vault).actions(ActionFilter(nominal=key, status="open"),
                                             today=today, limit=OPEN_ACTIONS)

    actions, why = _optional(open_actions)
    action_rows = Section(note=why or "None open.")
    for a in actions or []:
        action_rows.rows.append((a.ref, a.text, a.owner,
                                 f"{a.due:%d/%m/%Y}" + (" (overdue)" if a.overdue else "")))
    return BriefingData(record, today, order_rows, notif_rows, contact_rows, plan_text,
                        action_rows)


def _name(n: NominalRecord) -> str:
    return f"{n.surname.upper()}, {n.forenames}".strip().rstrip(",")


def _age(dob: date | None, today: date) -> str:
    if dob is None:
        return "—"
    years = today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))
    return f"{dob:%d/%m/%Y} (age {years})"


def _cap(value: Any) -> str | None:
    if value is None:
        return None
    text = str(getattr(value, "value", value))
    return text.replace("_", " ").capitalize()


def layout(data: BriefingData) -> list[Any]:
    """The flowables of one briefing (no page template: the caller's document supplies it)."""
    from reportlab.lib.colors import HexColor
    from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

    from app.io.pdf import (
        FRAME_WIDTH,
        HEADER_FILL,
        MM,
        data_table,
        esc,
        kv_table,
        photo_placeholder,
        styles,
    )

    st = styles()
    n = data.record
    photo_w = 30 * MM
    ident_w = FRAME_WIDTH - photo_w - 6 * MM
    status = _cap(n.status)
    if n.establishment:
        status = f"{status or 'Status not recorded'} — {n.establishment}"
    identity = kv_table([
        ("Date of birth", _age(n.dob, data.today)),
        ("Gender", n.gender.value if n.gender else None),
        ("Status, custody", status),
        ("Release date", n.release_date),
        ("Nominal manager", n.nominal_manager),
        ("Force", n.force),
        ("Offence", n.offence),
    ], label_width=36 * MM, width=ident_w)
    head = Table(
        [[[Paragraph(esc(f"{n.ref}  ·  Nominal briefing"), st.small),
           Paragraph(esc(_name(n)), st.title), Spacer(1, 2 * MM), identity],
          photo_placeholder(photo_w, 38 * MM)]],
        colWidths=[ident_w + 6 * MM, photo_w], hAlign="LEFT")
    head.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                              ("LEFTPADDING", (0, 0), (-1, -1), 0),
                              ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    mappa = "—"
    if n.mappa_category or n.mappa_level:
        mappa = (f"Category {n.mappa_category or '—'}, level {n.mappa_level or '—'}")
    third = FRAME_WIDTH / 3
    risk = Table(
        [[Paragraph(esc("Risk level"), st.label), Paragraph(esc("ROSH"), st.label),
          Paragraph(esc("MAPPA"), st.label)],
         [Paragraph(esc(_cap(n.risk_level) or "Not recorded"), st.h2),
          Paragraph(esc(_cap(n.rosh) or "Not recorded"), st.h2),
          Paragraph(esc(mappa), st.h2)]],
        colWidths=[third] * 3, hAlign="LEFT")
    risk.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), HexColor(HEADER_FILL)),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 6), ("TOPPADDING", (0, 0), (-1, 0), 5),
        ("BOTTOMPADDING", (0, 1), (-1, 1), 3), ("TOPPADDING", (0, 1), (-1, 1), 0),
    ]))
    story: list[Any] = [head, Spacer(1, 3 * MM), risk, Spacer(1, 2 * MM)]

    # Identifiers and dates side by side: short lists, and a briefing should fit one page.
    half = (FRAME_WIDTH - 8 * MM) / 2
    ids: list[tuple[str, object]] = [("PNC ID", n.pnc), ("CRO number", n.cro)]
    ids += [(i.type.label.capitalize() if hasattr(i.type, "label") else str(i.type), i.value)
            for i in n.identifiers if i.value not in (n.pnc, n.cro)]
    aliases = "\n".join(
        _name(NominalRecord(surname=a.surname, forenames=a.forenames))
        + (f" ({a.dob:%d/%m/%Y})" if a.dob else "") for a in n.aliases)
    ids.append(("Aliases", aliases or "None recorded"))
    dates: list[tuple[str, object]] = [(label, getattr(n.dates, name))
                                       for name, label in _DATE_ROWS if getattr(n.dates, name)]
    dates.append(("Notification end", n.notification_end))
    pair = Table(
        [[[*_heading("Aliases and identifiers"), kv_table(ids, label_width=28 * MM,
                                                          width=half)],
          [*_heading("Sentence and licence dates"), kv_table(dates, label_width=34 * MM,
                                                              width=half)]]],
        colWidths=[half + 8 * MM, half], hAlign="LEFT")
    pair.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                              ("LEFTPADDING", (0, 0), (-1, -1), 0),
                              ("RIGHTPADDING", (0, 0), (0, 0), 8 * MM),
                              ("RIGHTPADDING", (1, 0), (1, 0), 0)]))
    story.append(pair)

    story += _heading("Orders and notification")
    story.append(data_table(["Order", "From", "Until", "Status", "Conditions"],
                            data.orders.rows or [], [36 * MM, 22 * MM, 22 * MM, 18 * MM,
                                                     FRAME_WIDTH - 98 * MM])
                 if data.orders.rows else Paragraph(esc(data.orders.note), st.body))
    if data.notifications.rows:
        story.append(Spacer(1, 2 * MM))
        story.append(data_table(["Notification", "From", "Until", "Next due", "Status"],
                                data.notifications.rows,
                                [FRAME_WIDTH - 84 * MM, 22 * MM, 22 * MM, 22 * MM, 18 * MM]))
    else:
        story.append(Paragraph(esc(f"Notification: {data.notifications.note}"), st.body))

    story += _heading("Engagement")
    story.append(Paragraph(esc(f"Contact plan: {data.contact_plan}"), st.body))
    story.append(data_table(["When", "Type", "Officer", "Outcome", "Notes"],
                            data.contacts.rows,
                            [29 * MM, 26 * MM, 34 * MM, 20 * MM, FRAME_WIDTH - 109 * MM])
                 if data.contacts.rows else Paragraph(esc(data.contacts.note), st.body))

    story += _heading("Open actions")
    story.append(data_table(["Ref", "Action", "Owner", "Due"], data.actions.rows,
                            [24 * MM, FRAME_WIDTH - 84 * MM, 34 * MM, 26 * MM])
                 if data.actions.rows else Paragraph(esc(data.actions.note), st.body))
    if n.notes:
        story += _heading("Notes")
        story.append(Paragraph(esc(n.notes), st.body))  # whole: never cut silently
    return story


def _heading(title: str) -> list[Any]:
    """A compact section heading with a hairline: a briefing should fit one page."""
    from reportlab.lib.colors import HexColor
    from reportlab.platypus import CondPageBreak, Paragraph
    from reportlab.platypus.flowables import HRFlowable

    from app.io.pdf import MM, RULE, esc, styles

    return [CondPageBreak(14 * MM), Paragraph(esc(title), styles().h2),
            HRFlowable(width="100%", thickness=0.5, color=HexColor(RULE), spaceBefore=0,
                       spaceAfter=3)]


def briefing_flowables(vault: Vault, ref: str, today: date | None = None) -> list[Any]:
    """One nominal's briefing as flowables, for any document (pack, research summary).

    Not audited here: the document that carries it records the disclosure."""
    return layout(gather(vault, ref, today))


def briefing_document(vault: Vault, ref: str, *, marking: Marking = DEFAULT_MARKING,
                      today: date | None = None) -> BriefingDocument:
    data = gather(vault, ref, today)
    record_ref = data.record.ref or ref
    info = DocumentInfo(title=f"Nominal briefing {record_ref}", author=vault.actor.user,
                        generated_at=datetime.now(), marking=marking,
                        period=f"As at {data.today:%d/%m/%Y}", app_version=__version__)
    sections = ["identity", "risk", "identifiers", "dates", "orders", "notification",
                "contacts", "actions"] + (["notes"] if data.record.notes else [])
    return BriefingDocument(record_ref, info, layout(data), sections)
