"""Shared helpers for the nominal tests: a vault as a coordinator, a small demo vault."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from app.domain.nominal import Alias, Gender, Nominal, RiskLevel, Status
from app.domain.pnc import make_pnc
from app.services.users import UserService
from app.services.vault import Vault, unlock_vault
from tests.conftest import PASSPHRASE


def as_user(vault: Vault, path: Path, store: Any, name: str, role: str) -> Vault:
    """Add a user with a role to an admin's vault and return the vault unlocked as them."""
    UserService(vault).add_user(name, role, PASSPHRASE)
    return unlock_vault(path, name, PASSPHRASE, secret_store=store)


def person(surname: str = "Pritchard", forenames: str = "Gethin", **changes: Any) -> Nominal:
    """A complete, valid synthetic record (no warnings) unless changed."""
    values: dict[str, Any] = dict(
        surname=surname,
        forenames=forenames,
        dob=date(1990, 4, 1),
        gender=Gender.M,
        pnc=make_pnc(2009, 123456),
        status=Status.COMMUNITY,
        release_date=date(2020, 5, 1),
        risk_level=RiskLevel.HIGH,
        mappa_category=4,
        mappa_level=2,
        nominal_manager="DC Imogen Thursby",
        force="Thames Valley Police",
        offence="Preparation of terrorist acts (TA 2006 s.5)",
        notification_end=date(2035, 5, 1),
        aliases=(),
    )
    values.update(changes)
    return Nominal(**values)


def test_the_helper_record_is_valid() -> None:
    from app.domain.nominal import validate_nominal

    record = person(aliases=(Alias("Prichard", "Gethin", None),))
    assert validate_nominal(record, date(2026, 1, 1)) == []
