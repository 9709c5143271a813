"""The Nominals area: the list and one record at a time (Escape goes back to the list)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QStackedWidget, QWidget

from app.domain.errors import CasewardError
from ui.nominals.list_view import NominalListView
from ui.services import Services

if TYPE_CHECKING:
    from ui.nominals.form import NominalRecordPage


class RecordStack(QStackedWidget):
    """A page that lists records, and a record page over it; shared by the Nominals and Data
    quality areas."""

    def __init__(self, services: Services, front: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.front = front
        self.addWidget(front)
        self.record: NominalRecordPage | None = None

    def _page(self) -> NominalRecordPage:
        if self.record is None:
            # Imported on the first record opened, not with the list: after an unlock the
            # list is what the user waits for.
            from ui.nominals.form import NominalRecordPage

            self.record = NominalRecordPage(self.services)
            self.record.back_requested.connect(self.show_front)
            self.record.saved.connect(self.on_saved)
            self.addWidget(self.record)
        return self.record

    def open_record(self, ref: str) -> NominalRecordPage | None:
        page = self._page()
        try:
            page.open(ref)
        except CasewardError as exc:
            self.services.dialogs.error(self, "Nominal", str(exc))
            return None
        self.setCurrentWidget(page)
        page.view.tabs.setFocus()
        return page

    def new_record(self) -> NominalRecordPage:
        page = self._page()
        page.new()
        self.setCurrentWidget(page)
        page.view.surname.setFocus()
        return page

    def show_front(self) -> None:
        self.setCurrentWidget(self.front)
        self.focus_front()

    def focus_front(self) -> None:  # pragma: no cover - overridden
        self.front.setFocus()

    def on_saved(self, ref: str) -> None:  # pragma: no cover - overridden
        pass


class NominalsArea(RecordStack):
    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        front = NominalListView(services)
        super().__init__(services, front, parent)
        self.list = front
        self.list.open_requested.connect(self.open_record)
        self.list.new_requested.connect(self.new_record)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self.currentWidget() is self.list:
            QTimer.singleShot(0, self.focus_front)

    def focus_front(self) -> None:
        if self.list.model.rowCount():
            self.list.focus_table()
        else:
            self.list.focus_search()

    def on_saved(self, ref: str) -> None:
        self.list.refresh_choices()
        self.list.reload(select_ref=ref)
