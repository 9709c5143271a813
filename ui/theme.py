"""Look and feel: shipped fonts, the stylesheet, icons and the marking text."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QFont, QFontDatabase, QIcon
from PySide6.QtWidgets import QApplication, QWidget

from app.io.marking import DEFAULT_MARKING
from app.paths import resources_dir

MARKING = DEFAULT_MARKING.text
UI_FAMILY = "DejaVu Sans"
MONO_FAMILIES = ("DejaVu Sans Mono", "Liberation Mono", "Noto Sans Mono")


def load_fonts(folder: Path | None = None) -> list[str]:
    """Register the shipped TTFs with Qt; returns the families that loaded."""
    families: list[str] = []
    for ttf in sorted((folder or resources_dir() / "fonts").glob("*.ttf")):
        font_id = QFontDatabase.addApplicationFont(str(ttf))
        if font_id >= 0:
            families += [f for f in QFontDatabase.applicationFontFamilies(font_id)
                         if f not in families]
    return families


def apply(app: QApplication) -> None:
    """Fonts, then the stylesheet: call after the QApplication exists (again is harmless)."""
    if app.property("caseward_theme"):
        return  # replacing the style under live widgets is unsafe; once is enough
    families = load_fonts()
    if UI_FAMILY in families or UI_FAMILY in QFontDatabase.families():
        font = QFont(UI_FAMILY)
        font.setPointSizeF(10)
        app.setFont(font)
    app.setStyle("Fusion")  # the same look on every desktop; the stylesheet builds on it
    qss = resources_dir() / "style.qss"
    if qss.exists():
        icons = (resources_dir() / "icons").as_posix()
        app.setStyleSheet(qss.read_text(encoding="utf-8").replace("@ICONS@", icons))
    app.setWindowIcon(icon("caseward"))
    app.setProperty("caseward_theme", True)


def mono_font(point_size: float = 10) -> QFont:
    available = set(QFontDatabase.families())
    for family in MONO_FAMILIES:
        if family in available:
            font = QFont(family)
            break
    else:
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSizeF(point_size)
    font.setStyleHint(QFont.StyleHint.Monospace)
    return font


@cache
def _icon_path(name: str) -> str:
    return str(resources_dir() / "icons" / f"{name}.svg")


def icon(name: str) -> QIcon:
    """An icon from resources/icons/NAME.svg (an empty icon if there is none)."""
    path = _icon_path(name)
    return QIcon(path) if Path(path).exists() else QIcon()


def repolish(widget: QWidget) -> None:
    """Re-apply the stylesheet after a dynamic property used in a selector changed."""
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()
