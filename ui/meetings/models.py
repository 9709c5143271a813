"""Table models of the meetings window: meetings, agenda items, actions, correspondence and
performance figures. Each keeps the record in `ObjectRole` and raw values in `SortRole`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from app.domain.meetings import Figure
from app.services.correspondence import CorrespondenceInfo
from app.services.meetings import ActionInfo, AgendaItemInfo, MeetingRow

ObjectRole = Qt.ItemDataRole.UserRole + 1
SortRole = Qt.ItemDataRole.UserRole + 2
_Index = QModelIndex | QPersistentModelIndex
T = TypeVar("T")

_LATE = QColor("#b3261e")
_CARRIED = QColor("#7a4f01")


def uk_date(d: date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else ""


def uk_datetime(d: datetime) -> str:
    return d.strftime("%d/%m/%Y %H:%M")


@dataclass(frozen=True)
class Column(Generic[T]):
    title: str
    text: Callable[[T], str]
    sort: Callable[[T], Any] | None = None


class RecordTableModel(QAbstractTableModel, Generic[T]):
    """Rows of one record type, described by a list of columns."""

    columns: Sequence[Column[Any]] = ()

    def __init__(self, rows: Sequence[T] = ()) -> None:
        super().__init__()
        self._rows: list[T] = list(rows)

    def set_rows(self, rows: Sequence[T]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[T]:
        return list(self._rows)

    def record(self, row: int) -> T:
        return self._rows[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(self.columns)):
            return self.columns[section].title
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        rec = self._rows[index.row()]
        col = self.columns[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return col.text(rec)  # the tooltip shows text a narrow column cuts short
        if role == ObjectRole:
            return rec
        if role == SortRole:
            value = col.sort(rec) if col.sort else col.text(rec)
            return value.isoformat() if isinstance(value, date) else value
        if role == Qt.ItemDataRole.ForegroundRole:
            colour = self.colour(rec)
            return QBrush(colour) if colour is not None else None
        return None

    def colour(self, rec: T) -> QColor | None:
        return None


class MeetingsTableModel(RecordTableModel[MeetingRow]):
    columns = (
        Column[MeetingRow]("Ref", lambda m: m.ref),
        Column[MeetingRow]("Date", lambda m: uk_datetime(m.starts_at), lambda m: m.starts_at
                           .isoformat()),
        Column[MeetingRow]("Type", lambda m: m.type_label),
        Column[MeetingRow]("Chair", lambda m: m.chair),
        Column[MeetingRow]("Status", lambda m: m.status.capitalize()),
        Column[MeetingRow]("Nominals", lambda m: str(m.nominals), lambda m: m.nominals),
        Column[MeetingRow]("Open actions", lambda m: str(m.open_actions),
                           lambda m: m.open_actions),
    )


def agenda_title(item: AgendaItemInfo) -> str:
    if item.kind == "nominal":
        name = f" — {item.nominal_name}" if item.nominal_name else ""
        return f"{item.nominal_ref}{name}"
    if item.kind == "carried":
        return f"{item.action_ref}: {item.title}"
    return item.title


def agenda_note(item: AgendaItemInfo) -> str:
    if item.kind == "carried":
        when = f" ({uk_date(item.carried_from_date)})" if item.carried_from_date else ""
        return f"carried from {item.carried_from_ref or 'an earlier meeting'}{when}"
    return item.reason


_KIND = {"standing": "Standing item", "nominal": "For discussion", "carried": "Carried action",
         "other": "Other business"}


class AgendaTableModel(RecordTableModel[AgendaItemInfo]):
    columns = (
        Column[AgendaItemInfo]("#", lambda i: "", lambda i: i.position),
        Column[AgendaItemInfo]("Kind", lambda i: _KIND.get(i.kind, i.kind)),
        Column[AgendaItemInfo]("Item", agenda_title),
        Column[AgendaItemInfo]("Reason / note", agenda_note),
        Column[AgendaItemInfo]("Minuted", lambda i: "yes" if i.minutes or i.decisions else ""),
    )

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and index.isValid() and index.column() == 0:
            return str(index.row() + 1)
        return super().data(index, role)

    def colour(self, rec: AgendaItemInfo) -> QColor | None:
        return _CARRIED if rec.kind == "carried" else None


class ActionsTableModel(RecordTableModel[ActionInfo]):
    columns = (
        Column[ActionInfo]("Ref", lambda a: a.ref),
        Column[ActionInfo]("Action", lambda a: a.text),
        Column[ActionInfo]("Owner", lambda a: a.owner),
        Column[ActionInfo]("Due", lambda a: uk_date(a.due) + ("  (overdue)" if a.overdue
                                                               else ""), lambda a: a.due),
        Column[ActionInfo]("Status", lambda a: a.status.capitalize()),
        Column[ActionInfo]("Meeting", lambda a: a.meeting_ref or ""),
        Column[ActionInfo]("Nominal", lambda a: a.nominal_ref or ""),
        Column[ActionInfo]("Last update", lambda a: a.last_update),
    )

    def colour(self, rec: ActionInfo) -> QColor | None:
        return _LATE if rec.overdue else None


class CorrespondenceTableModel(RecordTableModel[CorrespondenceInfo]):
    """The log; "Reply" says whether a reply is awaited, overdue or came (``today`` decides),
    and a reply names the item it answers."""

    def __init__(self, rows: Sequence[CorrespondenceInfo] = (),
                 today: Callable[[], date] = date.today) -> None:
        super().__init__(rows)
        self.today = today
        self.columns = (
            Column[CorrespondenceInfo]("Ref", lambda c: c.ref),
            Column[CorrespondenceInfo]("Date", lambda c: uk_date(c.sent_on),
                                       lambda c: c.sent_on),
            Column[CorrespondenceInfo]("Dir.", lambda c: "Out" if c.direction == "out"
                                       else "In"),
            Column[CorrespondenceInfo]("Agency", lambda c: c.agency),
            Column[CorrespondenceInfo]("Type", lambda c: c.type_label),
            Column[CorrespondenceInfo]("Subject", lambda c: (
                f"↳ {c.subject}  (reply to {c.reply_to_ref})" if c.reply_to_ref
                else c.subject)),
            Column[CorrespondenceInfo]("ISA", lambda c: c.isa_ref or ""),
            Column[CorrespondenceInfo]("Nominals", lambda c: ", ".join(c.nominal_refs)),
            Column[CorrespondenceInfo]("Reply", self.reply_text, lambda c: (
                _REPLY_ORDER.get(c.reply_state(self.today()), 3),
                (c.replied_on or c.reply_by or date.max).isoformat())),
        )

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.ToolTipRole and index.isValid()
                and 0 <= index.row() < len(self._rows)
                and self.columns[index.column()].title == "Subject"):
            # The columns a narrow log hides (Type, ISA, Nominals) are read here.
            c = self._rows[index.row()]
            return (f"{self.columns[index.column()].text(c)}\nType: {c.type_label}\n"
                    f"ISA: {c.isa_ref or 'none'}\nNominals: {', '.join(c.nominal_refs) or 'none'}")
        return super().data(index, role)

    def reply_text(self, c: CorrespondenceInfo) -> str:
        """"Overdue 24/11/2026", "Due 04/12/2026", "Replied 09/11/2026" or "" (one length:
        the log's Reply column is sized for it)."""
        state = c.reply_state(self.today())
        if state == "Replied":
            return f"Replied {uk_date(c.replied_on)}" if c.replied_on else "Replied"
        if state == "Reply overdue":
            return f"Overdue {uk_date(c.reply_by)}"
        if state == "Awaiting reply":
            return f"Due {uk_date(c.reply_by)}"
        return ""

    def colour(self, rec: CorrespondenceInfo) -> QColor | None:
        state = rec.reply_state(self.today())
        return _LATE if state == "Reply overdue" else (_AWAITED if state == "Awaiting reply"
                                                        else None)


_REPLY_ORDER = {"Reply overdue": 0, "Awaiting reply": 1, "Replied": 2}
_AWAITED = QColor("#8a5a00")


def _met(f: Figure) -> str:
    return "—" if f.met is None else ("Met" if f.met else "Not met")


class PerformanceTableModel(RecordTableModel[Figure]):
    columns = (
        Column[Figure]("Target", lambda f: f.label),
        Column[Figure]("Goal", lambda f: f.target_text, lambda f: f.target),
        Column[Figure]("Actual", lambda f: f.value_text,
                       lambda f: -1.0 if f.value is None else f.value),
        Column[Figure]("Of", lambda f: "" if f.denominator is None else
                       f"{f.numerator} of {f.denominator}"),
        Column[Figure]("Result", _met),
        Column[Figure]("Note", lambda f: f.note),
    )

    def colour(self, rec: Figure) -> QColor | None:
        return _LATE if rec.met is False else None
