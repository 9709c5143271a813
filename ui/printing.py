"""The printed recovery-key sheet: marked at top and bottom, the key large and grouped."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QMarginsF, QRectF, Qt
from PySide6.QtGui import QFont, QPagedPaintDevice, QPageLayout, QPageSize, QPainter, QPen
from PySide6.QtPrintSupport import QAbstractPrintDialog, QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QWidget

from ui.theme import MARKING, UI_FAMILY, mono_font


def render_recovery_sheet(
    device: QPagedPaintDevice, key: str, *, vault_name: str, user: str,
    when: datetime | None = None,
) -> None:
    """Paint one A4 page onto `device` (a printer, or a PDF writer in tests)."""
    from ui.wizard import group_recovery_key

    device.setPageLayout(QPageLayout(
        QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
        QMarginsF(18, 16, 18, 16), QPageLayout.Unit.Millimeter,
    ))
    stamp = (when or datetime.now()).strftime("%d/%m/%Y %H:%M")
    painter = QPainter(device)
    try:
        page = QRectF(painter.viewport())
        w, h = page.width(), page.height()
        unit = h / 100.0

        def font(size: float, bold: bool = False) -> QFont:
            f = QFont(UI_FAMILY)
            f.setPixelSize(max(1, int(size * unit)))
            f.setBold(bold)
            return f

        painter.setFont(font(2.2, True))
        painter.drawText(QRectF(0, 0, w, 4 * unit), Qt.AlignmentFlag.AlignCenter, MARKING)
        painter.drawText(QRectF(0, h - 4 * unit, w, 4 * unit), Qt.AlignmentFlag.AlignCenter,
                         MARKING)
        painter.setFont(font(3.2, True))
        painter.drawText(QRectF(0, 9 * unit, w, 5 * unit), Qt.AlignmentFlag.AlignLeft,
                         "Caseward vault recovery key")
        painter.setFont(font(1.8))
        details = f"Vault: {vault_name}\nAdministrator: {user}\nPrinted: {stamp}"
        painter.drawText(QRectF(0, 16 * unit, w, 9 * unit), Qt.AlignmentFlag.AlignLeft, details)
        box = QRectF(0, 29 * unit, w, 16 * unit)
        painter.setPen(QPen(Qt.GlobalColor.black, max(1.0, unit * 0.15)))
        painter.drawRoundedRect(box, unit, unit)
        mono = mono_font(10)
        # Seven groups of four and their gaps (about 42 monospace cells) fill ~90% of the width.
        mono.setPixelSize(max(1, int(min(2.9 * unit, w * 0.9 / 42 / 0.6))))
        painter.setFont(mono)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, group_recovery_key(key))
        painter.setFont(font(1.7))
        advice = (
            "This key opens the vault without any passphrase. Keep this sheet locked away, "
            "apart from the terminal, and handle it according to its marking.\n\n"
            "To use it: caseward recover --vault PATH --user ADMIN (you will be asked for the "
            "key and a new passphrase).\n\n"
            "If the vault is rekeyed (caseward rekey), this key stops working: destroy this "
            "sheet securely and keep the new one."
        )
        painter.drawText(QRectF(0, 49 * unit, w, 30 * unit),
                         int(Qt.AlignmentFlag.AlignLeft) | int(Qt.TextFlag.TextWordWrap), advice)
    finally:
        painter.end()


def print_recovery_key(parent: QWidget | None, key: str, *, vault_name: str, user: str) -> bool:
    """Ask for a printer and print the sheet; False if the user cancelled."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName("Caseward recovery key")
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle("Print the recovery key")
    # Printing to a file would leave the key unencrypted on disk: paper only.
    dialog.setOption(QAbstractPrintDialog.PrintDialogOption.PrintToFile, False)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    render_recovery_sheet(printer, key, vault_name=vault_name, user=user)
    return True
