"""The correspondence log: items to and from partner agencies, each under an information-sharing
agreement, with reply-by dates and whether the reply is awaited or overdue; the thread of the
chosen item (the item that began it and every reply); a form to log a new item or a reply.
The Correspondence area puts the log and the ISA register side by side as two tabs."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QEvent, QItemSelection, QObject, Qt
from PySide6.QtGui import QBrush, QColor, QFocusEvent, QFont, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import CasewardError
from app.domain.meetings import CorrespondenceInput, Direction
from app.domain.roles import Perm
from app.services.correspondence import (
    CorrespondenceFilter,
    CorrespondenceInfo,
    CorrespondenceService,
    ThreadItem,
)
from app.services.meetings import MeetingService
from ui.meetings.isa import IsaRegisterView, isa_label
from ui.meetings.meetings import Today, select_where, selected_record, sorted_proxy, table_view
from ui.meetings.models import CorrespondenceTableModel, ObjectRole, uk_date
from ui.prevent.common import code_combo, combo_code, date_edit, guarded, py_date, qdate
from ui.services import Services
from ui.widgets import CELL_PAD, HEADER_PAD, heading, heading_metrics

SUBJECT = 5  # the log's Subject column
SUBJECT_MIN = 160  # Subject is never narrower: columns are hidden, then the log scrolls
SUBJECT_WANTED = 320  # what Subject gets before Agency, Type and Nominals grow past their least
# The log's fixed-format columns: as wide as the longest value they can hold.
LOG_FIXED = {0: ("COR-000000",), 1: ("00/00/0000",), 2: ("Out",), 6: ("ISA-000000",),
             8: ("Overdue 00/00/0000", "Replied 00/00/0000", "Due 00/00/0000")}
# Its free-text columns but Subject, in average characters: (least, wanted). They elide with
# the full text in the tooltip.
LOG_ELASTIC = {3: (10, 18), 4: (10, 18), 7: (9, 12)}  # Agency, Type, Nominals
# Hidden in this order when the log cannot show every column at its least width (Subject's
# tooltip gives their values): Nominals, ISA, then Type.
HIDE_ORDER = (7, 6, 4)


def fit_widths(room: int, least: dict[int, int], wanted: dict[int, int]) -> dict[int, int]:
    """Share ``room`` px among columns: each gets its least; past that the subject column
    (``SUBJECT``) grows to its wanted width first, then the others to theirs in proportion,
    and Subject takes whatever is left. Below the sum of the least widths every column keeps
    its least (the table then scrolls sideways)."""
    widths = dict(least)
    extra = room - sum(least.values())
    if extra <= 0:
        return widths
    grow = min(extra, max(0, wanted[SUBJECT] - least[SUBJECT]))
    widths[SUBJECT] += grow
    extra -= grow
    others = {c: wanted[c] - least[c] for c in least if c != SUBJECT and wanted[c] > least[c]}
    want = sum(others.values())
    if want and extra:
        share = min(1.0, extra / want)
        for c, more in others.items():
            add = int(more * share)
            widths[c] += add
            extra -= add
    widths[SUBJECT] += max(0, extra)
    return widths


class ShowStart(QObject):
    """Makes an editable combo show the start of a long value when it is not being edited (a
    QLineEdit keeps its cursor, and so its view, at the end of what was set or typed): on text
    set while the field has no focus, and when focus leaves it (not for its own pop-up, nor a
    switch to another window, after which typing goes on where it was)."""

    def __init__(self, combo: QComboBox) -> None:
        super().__init__(combo)
        line = combo.lineEdit()
        assert line is not None, "ShowStart needs an editable combo"
        self.combo, self.line = combo, line
        # The combo takes the focus for its line edit (its focus proxy) and hands focus events
        # on directly, past the line edit's filters: watch the combo.
        combo.installEventFilter(self)
        combo.currentTextChanged.connect(self._text_set)

    def _text_set(self, _text: str) -> None:
        if not self.line.hasFocus():
            self.line.setCursorPosition(0)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.combo and isinstance(event, QFocusEvent)
                and event.type() == QEvent.Type.FocusOut
                and event.reason() not in (Qt.FocusReason.PopupFocusReason,
                                           Qt.FocusReason.ActiveWindowFocusReason)):
            self.line.setCursorPosition(0)
        return super().eventFilter(watched, event)


class CorrespondenceView(QWidget):
    """The log (newest first) beside the form for a new entry."""

    def __init__(self, services: Services, parent: QWidget | None = None, *,
                 today: Today | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.log = services.get(CorrespondenceService)
        self.today: Today = today or date.today
        lists = services.get(MeetingService).lists()
        self.types = dict(lists.correspondence_types)

        self.agency_filter = QComboBox()
        self.agency_filter.setAccessibleName("Agency filter")
        self.awaiting = QCheckBox("&Awaiting reply")
        self.count = QLabel()
        self.count.setObjectName("Hint")
        filters = QHBoxLayout()
        lab = QLabel("A&gency")
        lab.setBuddy(self.agency_filter)
        filters.addWidget(lab)
        filters.addWidget(self.agency_filter)
        # Wide enough for most agencies (the list shows them in full), not for the longest.
        self.agency_filter.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.agency_filter.setMinimumContentsLength(18)
        self.count.setWordWrap(True)  # wraps rather than widening the window at 960 px
        self.count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        filters.addWidget(self.awaiting)
        filters.addStretch(1)
        filters.addWidget(self.count, 1)
        # Below FORM_BESIDE_FROM (a 960 px window) the log fits only without the form beside
        # it: the form is then hidden until asked for (this button, or Log reply…).
        self.form_choice: bool | None = None  # None: shown or hidden by the width
        self.form_toggle = QPushButton("&Hide form")
        self.form_toggle.setToolTip("Hide or show the form for a new item, to give the log "
                                    "the width (Log reply… shows it again)")
        filters.addWidget(self.form_toggle)

        self.model = CorrespondenceTableModel(today=self.today)
        self.proxy = sorted_proxy(self.model)
        self.view = table_view(self.proxy, "Correspondence")
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)  # full text in the tool tip
        header = self.view.horizontalHeader()
        header.setMinimumSectionSize(30)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # Fixed-format columns fit their longest value; Agency, Type and Nominals elide down to
        # a few characters; Subject takes the rest but never less than SUBJECT_MIN: only a log
        # narrower than all of that (a 960 px window with the form shown) scrolls sideways.
        self.fixed_widths = self._fixed_widths()
        for col, width in self.fixed_widths.items():
            header.resizeSection(col, width)
        self.fit_columns()
        self.view.viewport().installEventFilter(self)
        self.view.setMinimumWidth(360)
        self.view.selectionModel().selectionChanged.connect(self._on_select)

        # The thread of the chosen item.
        self.thread_title = QLabel("Choose an item to see its thread.")
        self.thread_title.setObjectName("CardTitle")
        self.thread_tree = QTreeWidget()
        self.thread_tree.setAccessibleName("Thread")
        self.thread_tree.setColumnCount(6)
        self.thread_tree.setHeaderLabels(["Ref", "Date", "Dir.", "Agency", "Subject", "Reply"])
        self.thread_tree.setRootIsDecorated(False)
        self.thread_tree.setIndentation(18)
        self.thread_tree.setUniformRowHeights(True)
        self.thread_tree.setTextElideMode(Qt.TextElideMode.ElideRight)  # full text: tooltip
        theader = self.thread_tree.header()
        theader.setStretchLastSection(False)
        theader.setMinimumSectionSize(30)
        # As the log: fixed formats at their width (Ref with room for two levels of replies),
        # the agency elided, Subject the rest.
        bold = QFont(self.thread_tree.font())
        bold.setBold(True)  # the chosen item's row is bold
        bfm = QFontMetrics(bold)
        for col, width in ((0, bfm.horizontalAdvance("COR-000000") + CELL_PAD + 2 * 18),
                           (1, bfm.horizontalAdvance("00/00/0000") + CELL_PAD),
                           (2, self.fixed_widths[2]), (3, self._chars(12)),
                           (5, bfm.horizontalAdvance("Replied 00/00/0000") + CELL_PAD)):
            theader.resizeSection(col, width)
        theader.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.thread_items: list[ThreadItem] = []
        self.reply_button = QPushButton("Log &reply…")
        self.reply_button.setToolTip("Log the answer to the chosen item (in answers out, out "
                                     "answers in); its reply-by date leaves the calendar")
        self.reply_button.clicked.connect(self.start_reply_to_selected)
        self.link_button = QPushButton("Link to &original…")
        self.link_button.setToolTip("The chosen item, already logged, answers an earlier one")
        self.link_button.clicked.connect(self.link_selected)
        self.mark_button = QPushButton("Mar&k replied…")
        self.mark_button.setToolTip("The reply came or went without an entry of its own "
                                    "(e.g. by phone)")
        self.mark_button.clicked.connect(self.mark_replied)
        thread_buttons = QHBoxLayout()
        thread_buttons.addWidget(self.reply_button)
        thread_buttons.addWidget(self.link_button)
        thread_buttons.addWidget(self.mark_button)
        thread_buttons.addStretch(1)
        thread_box = QWidget()
        tlay = QVBoxLayout(thread_box)
        tlay.setContentsMargins(0, 6, 0, 0)
        tlay.addWidget(self.thread_title)
        tlay.addWidget(self.thread_tree, 1)
        tlay.addLayout(thread_buttons)
        log_split = QSplitter(Qt.Orientation.Vertical)
        log_split.addWidget(self.view)
        log_split.addWidget(thread_box)
        log_split.setStretchFactor(0, 3)
        log_split.setStretchFactor(1, 2)
        log_split.setSizes([430, 250])
        self.reply_to: CorrespondenceInfo | None = None

        # The form for a new item.
        self.agency = QComboBox()
        self.agency.setEditable(True)
        self.agency.setAccessibleName("Partner agency")
        ShowStart(self.agency)  # a long agency name shows its start, not its end
        self.direction = code_combo([(Direction.OUT.value, "Out (we sent it)"),
                                     (Direction.IN.value, "In (we received it)")],
                                    name="Direction")
        self.sent_on = date_edit(self.today(), name="Date")
        self.sent_on.setMaximumDate(qdate(date(2100, 12, 31)))
        self.kind = code_combo(self.types.items(), name="Type")
        self.subject = QLineEdit()
        self.subject.setAccessibleName("Subject")
        self.isa = QComboBox()
        self.isa.setAccessibleName("Information-sharing agreement")
        self.nominals = QLineEdit()
        self.nominals.setAccessibleName("Nominals")
        self.nominals.setPlaceholderText("NM-000012, NM-000040")
        self.wants_reply = QCheckBox("Reply &by")
        self.reply_by = date_edit(self.today() + timedelta(days=14), name="Reply by")
        self.reply_by.setMaximumDate(qdate(date(2100, 12, 31)))
        self.reply_by.setEnabled(False)
        self.wants_reply.toggled.connect(self.reply_by.setEnabled)
        self.summary = QPlainTextEdit()
        self.summary.setAccessibleName("Summary")
        self.summary.setTabChangesFocus(True)
        self.summary.setFixedHeight(60)
        self.justification = QPlainTextEdit()
        self.justification.setAccessibleName("Justification")
        self.justification.setTabChangesFocus(True)
        self.justification.setFixedHeight(48)
        self.justification.setPlaceholderText("Needed for an outgoing item without an ISA")
        self.problem = QLabel()
        self.problem.setObjectName("FieldError")
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.add_button = QPushButton("&Log it")
        self.add_button.clicked.connect(self.add)
        self.reply_banner = QLabel()
        self.reply_banner.setObjectName("InfoBox")
        self.reply_banner.setWordWrap(True)
        self.cancel_reply_button = QPushButton("Not a reply")
        self.cancel_reply_button.clicked.connect(self.cancel_reply)
        banner_row = QHBoxLayout()
        banner_row.setContentsMargins(0, 0, 0, 0)
        banner_row.addWidget(self.reply_banner, 1)
        banner_row.addWidget(self.cancel_reply_button, 0, Qt.AlignmentFlag.AlignTop)
        self.banner_box = QWidget()
        self.banner_box.setLayout(banner_row)
        self.banner_box.hide()
        form = QFormLayout()
        form.addRow("&Partner agency", self.agency)
        form.addRow("&Direction", self.direction)
        form.addRow("Da&te", self.sent_on)
        form.addRow("T&ype", self.kind)
        form.addRow("&Subject", self.subject)
        form.addRow("&ISA relied on", self.isa)
        form.addRow("&Nominals", self.nominals)
        form.addRow(self.wants_reply, self.reply_by)
        form.addRow("Su&mmary", self.summary)
        form.addRow("&Justification", self.justification)
        side = QWidget()
        side.setObjectName("CorrespondenceForm")
        slay = QVBoxLayout(side)
        slay.setContentsMargins(8, 0, 0, 0)
        self.form_title = QLabel("Log correspondence")
        self.form_title.setObjectName("CardTitle")
        slay.addWidget(self.form_title)
        slay.addWidget(self.banner_box)
        slay.addLayout(form)
        slay.addWidget(self.problem)
        hint = QLabel("An outgoing item is recorded in the audit log as a disclosure.")
        hint.setObjectName("Hint")
        hint.setWordWrap(True)
        slay.addWidget(hint)
        # Why the form is greyed out for a role that may only read.
        self.read_only_note = QLabel("Your role may read correspondence but not log it.")
        self.read_only_note.setObjectName("InfoBox")
        self.read_only_note.setWordWrap(True)
        self.read_only_note.setVisible(not services.can(Perm.MEETING_WRITE))
        slay.addStretch(1)
        self.writable = services.can(Perm.MEETING_WRITE)
        side.setEnabled(self.writable)
        for combo in (self.agency, self.direction, self.kind, self.isa):
            # Long agreement titles must not widen the form past the log (full text on hover).
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        # The form is as narrow as its labels and fields allow (never cut: the log gets the
        # room), and scrolls rather than squeezing its fields over each other on a short
        # screen; its button stays in sight below it.
        self.form_scroll = QScrollArea()
        self.form_scroll.setWidget(side)
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.add_button.setEnabled(self.writable)
        self.form_box = QWidget()
        fbox = QVBoxLayout(self.form_box)
        fbox.setContentsMargins(0, 0, 0, 0)
        fbox.addWidget(self.form_scroll, 1)
        fbox.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignRight)
        scrollbar = self.form_scroll.verticalScrollBar().sizeHint().width()
        self.form_box.setMinimumWidth(side.minimumSizeHint().width() + scrollbar)
        self.form_box.setMaximumWidth(340 + scrollbar)
        self.form_toggle.clicked.connect(self.toggle_form)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(log_split)
        split.addWidget(self.form_box)
        split.setChildrenCollapsible(False)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 0)
        split.setSizes([1010, self.form_box.minimumWidth()])
        self.split = split
        left = self.outer = QVBoxLayout(self)
        left.addWidget(heading("Correspondence", "Partner agencies, information-sharing "
                               "agreements and replies due"))
        left.addLayout(filters)
        left.addWidget(self.read_only_note)
        left.addWidget(split, 1)

        self.load_choices()
        self.agency_filter.currentIndexChanged.connect(self.refresh)
        self.awaiting.toggled.connect(self.refresh)
        self.refresh()
        self._on_select()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.view.viewport():
            self.fit_columns()
        return super().eventFilter(watched, event)

    def _chars(self, n: int) -> int:
        return self.view.fontMetrics().averageCharWidth() * n + CELL_PAD

    def _fixed_widths(self) -> dict[int, int]:
        fm = self.view.fontMetrics()
        title_fm = heading_metrics(self.view)
        widths = {}
        for col, samples in LOG_FIXED.items():
            title = str(self.model.headerData(col, Qt.Orientation.Horizontal))
            widths[col] = max(max(fm.horizontalAdvance(s) for s in samples) + CELL_PAD,
                              title_fm.horizontalAdvance(title) + HEADER_PAD)
        return widths

    def fit_columns(self) -> None:
        """Fit the log's columns to the width of its viewport: the fixed-format ones at their
        width, the others shared out by ``fit_widths``. When even their least widths do not
        fit, the columns of HIDE_ORDER are hidden in turn (their values are in Subject's
        tooltip); only past that does the log scroll sideways."""
        header = self.view.horizontalHeader()
        room = self.view.viewport().width()
        least = {c: self._chars(lo) for c, (lo, _hi) in LOG_ELASTIC.items()}
        wanted = {c: self._chars(hi) for c, (_lo, hi) in LOG_ELASTIC.items()}
        least[SUBJECT], wanted[SUBJECT] = SUBJECT_MIN, SUBJECT_WANTED
        shown = {**self.fixed_widths, **least}
        hidden: set[int] = set()
        for col in HIDE_ORDER:
            if sum(shown.values()) <= room:
                break
            shown.pop(col)
            hidden.add(col)
        for col in range(header.count()):
            if header.isSectionHidden(col) != (col in hidden):
                self.view.setColumnHidden(col, col in hidden)
        fixed = sum(w for c, w in self.fixed_widths.items() if c not in hidden)
        widths = fit_widths(room - fixed, {c: w for c, w in least.items() if c not in hidden},
                            {c: w for c, w in wanted.items() if c not in hidden})
        for col, width in widths.items():
            if header.sectionSize(col) != width:
                header.resizeSection(col, width)

    def hidden_columns(self) -> list[str]:
        """The titles of the log's columns hidden for want of width."""
        return [str(self.model.headerData(c, Qt.Orientation.Horizontal))
                for c in range(self.model.columnCount()) if self.view.isColumnHidden(c)]

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.form_choice is None:
            self._place_form(self.width() >= self.form_beside_from())

    def form_beside_from(self) -> int:
        """The least width of this view at which the form sits beside a log that shows its
        Ref, Date, Dir., Agency, Subject and Reply without a sideways scroll."""
        least = (sum(w for c, w in self.fixed_widths.items() if c not in HIDE_ORDER)
                 + self._chars(LOG_ELASTIC[3][0]) + SUBJECT_MIN)
        frame = self.view.frameWidth() * 2 + self.view.verticalScrollBar().sizeHint().width()
        margins = self.outer.contentsMargins()
        return (least + frame + self.form_box.minimumWidth() + self.split.handleWidth()
                + margins.left() + margins.right())

    def toggle_form(self) -> None:
        self.show_form(self.form_box.isHidden())

    def show_form(self, shown: bool) -> None:
        """Show or hide the form beside the log (the log takes the width): the user's choice,
        kept whatever the width."""
        self.form_choice = shown
        self._place_form(shown)

    def _place_form(self, shown: bool) -> None:
        if self.form_box.isHidden() == (not shown):
            return
        self.form_box.setVisible(shown)
        self.form_toggle.setText("&Hide form" if shown else "S&how form")

    def load_choices(self) -> None:
        ok, agencies = guarded(self.services, self, None, self.log.agencies)
        ok2, isas = guarded(self.services, self, None, self.log.isas)
        self.agency_filter.blockSignals(True)
        current = self.agency_filter.currentData()
        self.agency_filter.clear()
        self.agency_filter.addItem("Every agency", "")
        for a in agencies if ok else []:
            self.agency_filter.addItem(a, a)
        self.agency_filter.setCurrentIndex(max(self.agency_filter.findData(current), 0))
        self.agency_filter.blockSignals(False)
        typed = self.agency.currentText()
        self.agency.clear()
        self.agency.addItems(agencies if ok else [])
        self.agency.setCurrentText(typed)
        chosen = self.isa.currentData()
        self.isa.clear()
        self.isa.addItem("None (give a justification)", 0)
        today = self.today()
        for i in isas if ok2 else []:
            self.isa.addItem(isa_label(i, today), i.id)
        self.isa.setCurrentIndex(max(self.isa.findData(chosen), 0))

    def refresh(self) -> None:
        chosen = self.current()
        flt = CorrespondenceFilter(agency=str(self.agency_filter.currentData() or "") or None,
                                   awaiting_reply=self.awaiting.isChecked())
        ok, rows = guarded(self.services, self, None,
                           lambda: self.log.log(flt, today=self.today()))
        if ok:
            self.model.set_rows(rows)
            today = self.today()
            late = sum(1 for r in rows if r.reply_overdue(today))
            awaited = sum(1 for r in rows if r.reply_state(today) == "Awaiting reply")
            self.count.setText(f"{len(rows)} item(s); {late} reply overdue"
                               + (f", {awaited} awaiting a reply" if awaited else ""))
            if chosen is not None:
                self.select(chosen.ref)
            self._on_select()

    # -- the chosen item and its thread -----------------------------------------------------
    def current(self) -> CorrespondenceInfo | None:
        rec = selected_record(self.view)
        return rec if isinstance(rec, CorrespondenceInfo) else None

    def select(self, ref: str) -> bool:
        return select_where(self.view, lambda rec: rec.ref == ref)

    def _on_select(self, *_args: QItemSelection) -> None:
        item = self.current()
        for b in (self.reply_button, self.link_button, self.mark_button):
            b.setEnabled(item is not None and self.writable)
        if item is not None:
            self.link_button.setEnabled(self.writable and item.reply_to_ref is None)
            self.mark_button.setEnabled(self.writable and item.replied_on is None
                                        and not item.reply_refs)
        self.show_thread(item)

    def show_thread(self, item: CorrespondenceInfo | None) -> list[ThreadItem]:
        self.thread_tree.clear()
        self.thread_items = []
        if item is None:
            self.thread_title.setText("Choose an item to see its thread.")
            return []
        ok, found = guarded(self.services, self, None, lambda: self.log.thread(item.ref))
        if not ok:
            return []
        self.thread_items = list(found)
        today = self.today()
        parents: dict[int, QTreeWidgetItem] = {}
        for t in self.thread_items:
            c = t.item
            state = c.reply_state(today)
            if state == "Replied" and c.replied_on:
                state = f"Replied {uk_date(c.replied_on)}"
            node = QTreeWidgetItem([c.ref, uk_date(c.sent_on),
                                    "Out" if c.direction == "out" else "In", c.agency,
                                    c.subject, state])
            node.setData(0, ObjectRole, c)
            for col in range(6):
                node.setToolTip(col, node.text(col))
            colour = (_LATE if state == "Reply overdue" else
                      _AWAITED if state == "Awaiting reply" else None)
            if colour is not None:
                node.setForeground(5, QBrush(colour))
            if c.id == item.id:
                font = node.font(0)
                font.setBold(True)
                for col in range(6):
                    node.setFont(col, font)
            parent = parents.get(t.depth - 1) if t.depth else None
            if parent is None:
                self.thread_tree.addTopLevelItem(node)
            else:
                parent.addChild(node)
            parents[t.depth] = node
        self.thread_tree.expandAll()
        replies = len(self.thread_items) - 1
        self.thread_title.setText(
            f"Thread of {self.thread_items[0].item.ref}: the item and {replies} repl"
            f"{'y' if replies == 1 else 'ies'}" if replies else
            f"{item.ref}: no reply linked yet"
            + (f" ({item.reply_state(today).lower()})" if item.reply_state(today) else ""))
        return self.thread_items

    # -- replies ----------------------------------------------------------------------------
    def start_reply_to_selected(self) -> bool:
        item = self.current()
        return self.start_reply(item) if item is not None else False

    def start_reply(self, item: CorrespondenceInfo) -> bool:
        """Fill the form for the answer to ``item``: the other direction, the same agency,
        type, agreement and nominals, and "Re:" before the subject."""
        self.reply_to = item
        other = Direction.IN.value if item.direction == Direction.OUT.value else (
            Direction.OUT.value)
        self.direction.setCurrentIndex(max(self.direction.findData(other), 0))
        self.agency.setCurrentText(item.agency)
        self.kind.setCurrentIndex(max(self.kind.findData(item.corr_type), 0))
        self.isa.setCurrentIndex(max(self.isa.findData(item.isa_id or 0), 0))
        subject = item.subject if item.subject.lower().startswith("re:") else (
            f"Re: {item.subject}")
        self.subject.setText(subject[:500])
        self.nominals.setText(", ".join(item.nominal_refs))
        # A narrow form shows the start of what was filled in, not its end.
        for line in (self.agency.lineEdit(), self.subject, self.nominals):
            if line is not None:
                line.setCursorPosition(0)
        self.sent_on.setDate(qdate(max(self.today(), item.sent_on)))
        self.wants_reply.setChecked(False)
        way = "from" if other == Direction.IN.value else "to"
        self.form_title.setText("Log a reply")
        self.reply_banner.setText(f"Reply {way} {item.agency} to {item.ref} of "
                                  f"{uk_date(item.sent_on)}: {item.subject}")
        self.banner_box.show()
        self.problem.hide()
        self.show_form(True)
        self.summary.setFocus()
        return True

    def cancel_reply(self) -> None:
        self.reply_to = None
        self.banner_box.hide()
        self.form_title.setText("Log correspondence")

    def link_selected(self) -> CorrespondenceInfo | None:
        """The chosen item answers an earlier one going the other way: pick which."""
        item = self.current()
        if item is None:
            return None
        candidates = [r for r in self.model.rows()
                      if r.direction != item.direction and r.sent_on <= item.sent_on
                      and r.agency == item.agency and r.id != item.id]
        if not candidates:
            self.services.dialogs.info(
                self, "Link to the original",
                f"No earlier item {'to' if item.direction == 'in' else 'from'} {item.agency} "
                "is in the log as shown. Clear the filters, or log the reply with Log reply….")
            return None
        labels = [f"{r.ref}  {uk_date(r.sent_on)}  {r.subject}" for r in candidates]
        chosen = self.services.dialogs.choose(
            self, "Link to the original", f"{item.ref} answers which item?", labels, 0)
        if not chosen:
            return None
        original = candidates[labels.index(chosen)]
        ok, done = guarded(self.services, self, None,
                           lambda: self.log.link_reply(item.ref, original.ref))
        if not ok:
            return None
        self.refresh()
        return done if isinstance(done, CorrespondenceInfo) else None

    def mark_replied(self) -> CorrespondenceInfo | None:
        item = self.current()
        if item is None:
            return None
        text = self.services.dialogs.ask_text(
            self, "Mark replied", f"{item.ref}: the reply came or went without an entry of "
            "its own. On what date (dd/mm/yyyy)?", uk_date(self.today()))
        if not text:
            return None
        try:
            day, month, year = (int(p) for p in text.strip().split("/"))
            when = date(year, month, day)
        except ValueError:
            self.services.dialogs.error(self, "Mark replied", "Give the date as dd/mm/yyyy.")
            return None
        ok, done = guarded(self.services, self, None,
                           lambda: self.log.record_reply(item.ref, when))
        if not ok:
            return None
        self.refresh()
        return done if isinstance(done, CorrespondenceInfo) else None

    def add(self) -> CorrespondenceInfo | None:
        self.problem.hide()
        refs = tuple(r.strip().upper() for r in self.nominals.text().replace(";", ",")
                     .split(",") if r.strip())
        isa_id = int(self.isa.currentData() or 0) or None
        entry = CorrespondenceInput(
            agency=self.agency.currentText().strip(), direction=Direction(
                combo_code(self.direction)), sent_on=py_date(self.sent_on.date()),
            subject=self.subject.text().strip(), corr_type=combo_code(self.kind) or "general",
            isa_id=isa_id, nominal_refs=refs,
            reply_by=py_date(self.reply_by.date()) if self.wants_reply.isChecked() else None,
            summary=self.summary.toPlainText().strip(),
            justification=self.justification.toPlainText().strip(),
            reply_to=self.reply_to.ref if self.reply_to is not None else None)
        try:
            made = self.log.add(entry)
        except CasewardError as exc:
            self.problem.setText(str(exc))
            self.problem.show()
            return None
        self.cancel_reply()
        for w in (self.subject, self.nominals):
            w.clear()
        for t in (self.summary, self.justification):
            t.clear()
        self.wants_reply.setChecked(False)
        self.load_choices()
        self.refresh()
        self.select(made.ref)
        return made


_LATE = QColor("#b3261e")
_AWAITED = QColor("#8a5a00")


class CorrespondenceWorkspace(QWidget):
    """Correspondence | Information-sharing agreements. The log's agreement chooser is
    re-read whenever the register changes."""

    def __init__(self, services: Services, parent: QWidget | None = None, *,
                 today: Today | None = None) -> None:
        super().__init__(parent)
        self.log_view = CorrespondenceView(services, today=today)
        self.register = IsaRegisterView(services, today=today)
        self.register.changed.connect(self.log_view.load_choices)
        self.register.changed.connect(self.log_view.refresh)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.log_view, "&Correspondence")
        self.tabs.addTab(self.register, "Information-sharing agr&eements")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
