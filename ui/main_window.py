"""The main window: marking banner, left-hand navigation of areas, Lock, status bar.

Areas are registered once with `add_area` (specs only: no data). After an unlock the window is
`attach`ed to a `Services`; each area's widget is made on first visit by its factory. On lock,
`detach` destroys every area widget, so no record data stays in the window."""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.domain.roles import Perm
from ui.preferences import Preferences
from ui.services import Services
from ui.theme import MARKING, icon
from ui.widgets import EmptyState, MarkingBanner

AreaFactory = Callable[[Services], QWidget]
# Which area opens a record, by calendar kind or by ref prefix (see MainWindow.open_record).
RECORD_AREAS: dict[str, str] = {
    "nominal": "nominals", "contact_due": "nominals", "notification_due": "nominals",
    "order_expiry": "nominals", "order_review": "nominals", "licence_date": "nominals",
    "retention_review": "nominals", "NM-": "nominals",
    "referral_review": "referrals", "meeting": "meetings", "MTG-": "meetings",
    "ACT-": "meetings", "COR-": "correspondence",
}
_KEY_ROLE = Qt.ItemDataRole.UserRole
# Modules of the views a user meets first after an unlock (Today opens; Nominals is the list
# most go to). They are imported on a background thread while the unlock dialog waits for the
# passphrase, so that after the unlock their widgets are built without reading and compiling
# code (measured on the 100k bench vault: ~0.35 s of the unlock-to-list time). Importing
# defines classes only: no widget or other QObject is made off the UI thread.
PRELOAD_MODULES = ("ui.views.today", "ui.nominals.area", "ui.calendar.view")
PRELOAD_DELAY_MS = 250


@dataclass(frozen=True)
class Area:
    key: str
    title: str
    icon_name: str
    factory: AreaFactory
    permission: Perm | None = None
    position: int = 100


class MainWindow(QMainWindow):
    lock_requested = Signal()
    about_requested = Signal()
    quit_requested = Signal()

    def __init__(self, prefs: Preferences, marking: str = MARKING) -> None:
        super().__init__()
        self.prefs = prefs
        self.services: Services | None = None
        self._areas: dict[str, Area] = {}
        self._widgets: dict[str, QWidget] = {}
        self.setWindowTitle("Caseward")
        self.setMinimumSize(960, 600)

        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.banner = MarkingBanner(marking)
        outer.addWidget(self.banner)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        self.nav = QListWidget()
        self.nav.setObjectName("SideBar")
        self.nav.setIconSize(QSize(20, 20))
        self.nav.setFixedWidth(210)
        self.nav.setAccessibleName("Areas")
        self.nav.currentItemChanged.connect(self._on_nav)
        row.addWidget(self.nav)
        self.stack = QStackedWidget()
        self.locked_page = EmptyState(
            "lock-large", "Caseward is locked",
            "Nothing from the vault is shown while it is locked. Unlock it to continue.",
        )
        self.stack.addWidget(self.locked_page)
        row.addWidget(self.stack, 1)
        outer.addLayout(row, 1)
        self.setCentralWidget(central)

        self.lock_action = QAction(icon("lock"), "&Lock", self)
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        self.lock_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.lock_action.setToolTip("Lock the vault now (Ctrl+L)")
        self.lock_action.triggered.connect(self.lock_requested)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.triggered.connect(self.quit_requested)
        about_action = QAction(icon("info"), "&About Caseward", self)
        about_action.triggered.connect(self.about_requested)

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.lock_action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        self.go_menu = menu.addMenu("&Go")
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(about_action)

        # The tool bar sits in the menu bar's corner: one row, and Lock always in reach.
        self.toolbar = QToolBar("Main")
        self.toolbar.setObjectName("MainToolBar")
        self.toolbar.setMovable(False)
        self.toolbar.setIconSize(QSize(16, 16))
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toolbar.addAction(self.lock_action)
        menu.setCornerWidget(self.toolbar, Qt.Corner.TopRightCorner)

        bar = self.statusBar()
        bar.setSizeGripEnabled(False)
        self.status_user = QLabel()
        self.status_role = QLabel()
        self.status_vault = QLabel()
        self.status_marking = QLabel(marking)
        self.status_marking.setObjectName("StatusMarking")
        for label in (self.status_user, self.status_role, self.status_vault):
            bar.addWidget(label)
        bar.addPermanentWidget(self.status_marking)

        geometry = prefs.geometry("main")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 760)
        self._show_locked()
        QTimer.singleShot(PRELOAD_DELAY_MS, self._preload)

    @staticmethod
    def _preload() -> None:
        def work() -> None:
            for name in PRELOAD_MODULES:
                # A module that fails to import here fails again, visibly, on first visit.
                with contextlib.suppress(Exception):
                    importlib.import_module(name)

        threading.Thread(target=work, name="caseward-preload", daemon=True).start()

    # -- the public API for areas --------------------------------------------------------------
    def add_area(
        self,
        key: str,
        title: str,
        icon_name: str,
        factory: AreaFactory,
        permission: Perm | None = None,
        position: int = 100,
    ) -> None:
        """Register an area (left-hand navigation entry) once; it shows for roles that may see it.

        `factory(services)` builds the area's widget on first visit after each unlock; the
        widget is destroyed on lock. Lower `position` sorts first; ties keep insertion order."""
        if key in self._areas:
            raise ValueError(f"an area named {key!r} is already registered")
        self._areas[key] = Area(key, title, icon_name, factory, permission, position)
        if self.services is not None:
            self._rebuild_nav()

    def areas(self) -> list[Area]:
        order = {k: i for i, k in enumerate(self._areas)}
        return sorted(self._areas.values(), key=lambda a: (a.position, order[a.key]))

    def visible_areas(self) -> list[str]:
        return [self.nav.item(i).data(_KEY_ROLE) for i in range(self.nav.count())]

    def area_widget(self, key: str) -> QWidget | None:
        """The widget of an area if it has been made since the last unlock."""
        return self._widgets.get(key)

    def current_area(self) -> str | None:
        item = self.nav.currentItem()
        return str(item.data(_KEY_ROLE)) if item is not None else None

    def show_area(self, key: str) -> QWidget:
        """Switch to an area (making its widget if needed) and return the widget."""
        for i in range(self.nav.count()):
            if self.nav.item(i).data(_KEY_ROLE) == key:
                self.nav.setCurrentRow(i)
                widget = self._widgets.get(key)
                assert widget is not None
                return widget
        raise KeyError(f"no visible area {key!r}")

    def open_record(self, kind: str, ref: str) -> bool:
        """Open a record shown in another area (a calendar or Today item): switch to the area
        that holds it and ask it to open ``ref``. False (and a message) when none can."""
        area = RECORD_AREAS.get(kind) or RECORD_AREAS.get(ref.split("-", 1)[0] + "-")
        if area is not None and area in self.visible_areas():
            widget = self.show_area(area)
            for name in ("open_record", "open_referral"):
                method = getattr(widget, name, None)
                if callable(method):
                    method(ref)
                    return True
        if self.services is not None:
            self.services.dialogs.info(
                self, "Open record", f"{ref} cannot be opened from here yet: its area is not "
                "available in this version or for your role.")
        return False

    # -- unlock / lock -------------------------------------------------------------------------
    def attach(self, services: Services) -> None:
        self.detach()
        self.services = services
        self.status_user.setText(f"Signed in: {services.user}")
        self.status_role.setText(f"Role: {services.role_label}")
        self.status_vault.setText(f"Vault: {services.vault_name}")
        self.status_vault.setToolTip(str(services.vault_path))
        self.setWindowTitle(f"Caseward — {services.vault_name}")
        self.lock_action.setEnabled(True)
        self._rebuild_nav()
        if self.nav.count():
            self.nav.setCurrentRow(0)

    def detach(self) -> None:
        """Destroy every area widget and forget the services (no data left in the window)."""
        self.nav.blockSignals(True)
        self.nav.clear()
        self.nav.blockSignals(False)
        self.go_menu.clear()
        for widget in self._widgets.values():
            # Still the stack's child (Qt owns it), so only deleteLater() destroys it.
            self.stack.removeWidget(widget)
            widget.hide()
            widget.deleteLater()
        self._widgets.clear()
        self.services = None
        self._show_locked()

    def _show_locked(self) -> None:
        self.stack.setCurrentWidget(self.locked_page)
        for label in (self.status_user, self.status_role, self.status_vault):
            label.clear()
        self.status_vault.setToolTip("")
        self.setWindowTitle("Caseward — locked")
        self.lock_action.setEnabled(False)

    def _rebuild_nav(self) -> None:
        services = self.services
        assert services is not None
        current = self.current_area()
        self.nav.blockSignals(True)
        self.nav.clear()
        self.go_menu.clear()
        for n, area in enumerate(a for a in self.areas() if services.can(a.permission)):
            item = QListWidgetItem(icon(area.icon_name), area.title)
            item.setData(_KEY_ROLE, area.key)
            item.setSizeHint(QSize(0, 40))
            self.nav.addItem(item)
            action = self.go_menu.addAction(icon(area.icon_name), area.title)
            if n < 9:
                action.setShortcut(QKeySequence(f"Ctrl+{n + 1}"))
            action.triggered.connect(lambda _=False, k=area.key: self.show_area(k))
        self.nav.blockSignals(False)
        if current is not None and current in self.visible_areas():
            self.show_area(current)

    def _on_nav(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if item is None or self.services is None:
            return
        key = str(item.data(_KEY_ROLE))
        widget = self._widgets.get(key)
        if widget is None:
            widget = self._areas[key].factory(self.services)
            self._widgets[key] = widget
            self.stack.addWidget(widget)
            opener = getattr(widget, "open_record_requested", None)
            if opener is not None:  # views that list records of other areas (Today, Calendar)
                opener.connect(self.open_record)
        self.stack.setCurrentWidget(widget)

    # -- window --------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self.prefs.set_geometry("main", self.saveGeometry())
        super().closeEvent(event)
