"""First-run wizard: no keyring means an explicit unbound choice; demo data when available."""

from __future__ import annotations

import importlib.machinery
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QWizard

from tests.conftest import PASSPHRASE
from tests.ui.conftest import OFFSCREEN_NOISE

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


def _to_binding(wiz: Any) -> None:
    wiz.next()
    wiz.admin.user.setText("r.admin")
    wiz.admin.passphrase.first.setText(PASSPHRASE)
    wiz.admin.passphrase.second.setText(PASSPHRASE)
    wiz.next()
    assert wiz.currentPage() is wiz.binding


def test_no_secure_keyring_requires_an_explicit_unbound_choice(
    make_app: Any, tmp_path: Path, qtbot: Any
) -> None:
    from app.security.secrets import MemorySecretStore

    path = tmp_path / "unbound.cwv"
    ctl = make_app(store=MemorySecretStore(secure=False, name="keyring.backends.fail.Keyring"),
                   vault_path=path)
    ctl.start()
    wiz = ctl.wizard
    _to_binding(wiz)
    create = wiz.button(QWizard.WizardButton.CommitButton)
    assert not create.isEnabled()
    assert "No secure keyring" in wiz.binding.subTitle()
    assert not wiz.binding.bound
    wiz.binding.unbound_tick.setChecked(True)
    assert create.isEnabled()
    create.click()
    qtbot.waitUntil(lambda: wiz.currentPage() is wiz.recovery, timeout=15_000)
    assert wiz.vault is not None and not wiz.vault.keyfile.terminal_bound


def test_existing_vault_and_bad_names_are_refused_on_their_pages(
    make_app: Any, existing_vault: Path, tmp_path: Path
) -> None:
    ctl = make_app(vault_path=tmp_path / "fresh.cwv")
    wiz = ctl.show_wizard(existing_vault)
    wiz.next()
    assert wiz.currentPage() is wiz.location
    assert "already exists" in wiz.location.error.text()
    wiz.location.path.setText(str(tmp_path / "no-such-folder" / "x"))
    wiz.next()
    assert "folder does not exist" in wiz.location.error.text()
    wiz.location.path.setText(str(tmp_path / "fresh"))
    assert wiz.location.chosen_path() == tmp_path / "fresh.cwv"
    wiz.next()
    assert wiz.currentPage() is wiz.admin
    wiz.admin.user.setText("1x")
    wiz.admin.passphrase.first.setText(PASSPHRASE)
    wiz.admin.passphrase.second.setText(PASSPHRASE)
    wiz.next()
    assert wiz.currentPage() is wiz.admin
    assert wiz.admin.user_error.text().startswith("The user name must start with a letter")


def test_demo_option_is_disabled_without_a_generator(make_app: Any, monkeypatch: Any) -> None:
    monkeypatch.setitem(sys.modules, "app.services.demo", None)  # as if it were not shipped
    from ui.app import demo_generator

    assert demo_generator() is None
    wiz = make_app().show_wizard()
    assert not wiz.finish.demo.isEnabled()
    assert "not part of this version" in wiz.finish.demo.toolTip()
    assert not wiz.fill_demo


def test_demo_data_is_generated_when_chosen(
    make_app: Any, tmp_path: Path, qtbot: Any, monkeypatch: Any
) -> None:
    calls: list[tuple[Any, int, int]] = []

    def generate_demo(vault: Any, *, nominals: int, seed: int, progress: Any = None) -> None:
        progress("nominals", 1, 2)
        calls.append((vault.actor.user, nominals, seed))

    fake = types.ModuleType("app.services.demo")
    fake.__spec__ = importlib.machinery.ModuleSpec("app.services.demo", None)
    fake.generate_demo = generate_demo  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "app.services.demo", fake)

    ctl = make_app(vault_path=tmp_path / "demo.cwv")
    ctl.start()
    wiz = ctl.wizard
    _to_binding(wiz)
    wiz.button(QWizard.WizardButton.CommitButton).click()
    qtbot.waitUntil(lambda: wiz.currentPage() is wiz.recovery, timeout=15_000)
    wiz.recovery.stored.setChecked(True)
    wiz.next()
    assert wiz.finish.demo.isEnabled()
    wiz.finish.demo.setChecked(True)
    wiz.finish.demo_count.setValue(250)
    wiz.button(QWizard.WizardButton.FinishButton).click()
    qtbot.waitUntil(lambda: ctl.services is not None, timeout=10_000)
    assert calls == [("r.admin", 250, 1)]


def test_recovery_sheet_prints_marked_with_the_key(tmp_path: Path, qapp: Any) -> None:
    import shutil
    import subprocess

    from PySide6.QtGui import QPdfWriter

    from ui.printing import render_recovery_sheet

    groups = [f"K{i:02d}X" for i in range(14)]
    key = "-".join(groups)
    out = tmp_path / "sheet.pdf"
    writer = QPdfWriter(str(out))
    render_recovery_sheet(writer, key, vault_name="vault.cwv", user="r.admin")
    del writer
    assert out.stat().st_size > 1000
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert text.count("OFFICIAL-SENSITIVE") == 2
    assert all(text.count(g) == 1 for g in groups), text
    assert "r.admin" in text and "vault.cwv" in text


def test_the_real_demo_generator_fills_a_new_vault(
    make_app: Any, tmp_path: Path, qtbot: Any
) -> None:
    from ui.app import demo_generator

    if demo_generator() is None:
        pytest.skip("app.services.demo is not in this tree")
    ctl = make_app(vault_path=tmp_path / "demo.cwv")
    ctl.start()
    wiz = ctl.wizard
    _to_binding(wiz)
    wiz.button(QWizard.WizardButton.CommitButton).click()
    qtbot.waitUntil(lambda: wiz.currentPage() is wiz.recovery, timeout=15_000)
    wiz.recovery.stored.setChecked(True)
    wiz.next()
    wiz.finish.demo.setChecked(True)
    wiz.finish.demo_count.setValue(10)
    wiz.button(QWizard.WizardButton.FinishButton).click()
    qtbot.waitUntil(lambda: ctl.services is not None, timeout=60_000)
    assert not any(c[0] == "error" for c in ctl.dialogs.calls), ctl.dialogs.calls
    assert ctl.services.audit.count() > 5
