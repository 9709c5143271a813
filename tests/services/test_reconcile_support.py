"""Helpers for the reconciliation tests: a regional demo vault and messy national lists planted
from its records (omissions, extras, field differences, look-alike rows), with the truth."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app.domain.names import variant_table
from app.io.national_fixture import PlantedList, make_people, write_messy_national_list
from app.services import demo
from app.services.duplicates import DuplicateService
from app.services.vault import Vault
from app.store.models import AuditEntry
from app.store.models import Nominal as NominalTable
from tests.services.test_nominals_support import as_user

TODAY = date.today()

# Ways a field is written differently on the national list without being a difference.
COSMETIC_FORCES = {
    "Metropolitan Police Service": ["METROPOLITAN POLICE", "Met Police", "MPS"],
    "West Midlands Police": ["WEST MIDLANDS POLICE", "WMP"],
    "Greater Manchester Police": ["GMP", "Greater Manchester"],
    "Thames Valley Police": ["TVP", "THAMES VALLEY POLICE"],
    "South Wales Police": ["SWP"],
    "Avon and Somerset Constabulary": ["Avon & Somerset", "AVON AND SOMERSET POLICE"],
}
STATUS_WORDS = {"custody": ["Custody", "In custody", "CUSTODY"],
                "community": ["Community", "On licence", "COMMUNITY"],
                "abroad": ["Abroad"], "deceased": ["Deceased"], "closed": ["Closed"]}
RISK_WORDS = {"high": ["High", "H", "HIGH"], "medium": ["Medium", "M"], "low": ["Low", "L"]}
# (field, how the planted value is made from the regional record)
DIFFERENCE_KINDS = ("force", "status", "release_date", "risk_level", "establishment",
                    "nominal_manager", "dob")


def make_regional_vault(folder: Path, size: int, seed: int, store: Any) -> Vault:
    """A demo vault (nominal records only) with its planted duplicates merged, as a
    coordinator would have done before reconciling; returned unlocked as coordinator carol."""
    from app.services.vault import create_vault
    from tests.conftest import PASSPHRASE

    path = folder / "regional.cwv"
    admin, _ = create_vault(path, "alice", PASSPHRASE, bind_to_terminal=False,
                            secret_store=store)
    saved = list(demo.STEPS)
    demo.STEPS[:] = [s for s in saved if s[0] == "nominals"]
    try:
        summary = demo.generate_demo(admin, size, seed=seed)
    finally:
        demo.STEPS[:] = saved
    carol = as_user(admin, path, store, "carol", "coordinator")
    admin.lock()
    dups = DuplicateService(carol)
    for keep, drop, _kind in summary.planted_duplicates:
        dups.merge(keep, drop, reason="planted demo duplicate")
    return carol


def regional_rows(vault: Vault) -> list[dict[str, Any]]:
    """Live regional records as plain dicts (read straight from the store: no audit rows)."""
    cols = ["ref", "surname", "forenames", "dob", "gender", "pnc_norm", "pnc", "cro", "status",
            "force", "establishment", "release_date", "nominal_manager", "risk_level",
            "mappa_category", "mappa_level", "offence", "notification_end"]
    with vault.read() as s:
        rows = s.execute(select(*[getattr(NominalTable, c) for c in cols])
                         .where(NominalTable.merged_into_id.is_(None))
                         .order_by(NominalTable.id)).all()
    return [dict(zip(cols, r, strict=True)) for r in rows]


def vault_fingerprint(vault: Vault) -> tuple[int, str]:
    """(audit rows, SHA-256 over every nominal row): both unchanged means nothing changed."""
    with vault.read() as s:
        audit = int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0)
        digest = hashlib.sha256()
        for row in s.execute(select(NominalTable).order_by(NominalTable.id)).scalars():
            digest.update(repr(sorted((k, v) for k, v in vars(row).items()
                                      if not k.startswith("_"))).encode())
    return audit, digest.hexdigest()


@dataclass
class Planted:
    """The truth about a generated national list."""

    listed: PlantedList
    omitted: list[str] = field(default_factory=list)  # regional refs left off
    extras: int = 0  # people only on the national list
    differences: dict[str, set[str]] = field(default_factory=dict)  # ref -> fields changed
    lookalikes: dict[str, str] = field(default_factory=dict)  # ref -> how the row was changed
    cosmetic: int = 0  # rows written differently but meaning the same
    ref_by_row: dict[int, str] = field(default_factory=dict)  # national row -> regional ref

    @property
    def matched(self) -> int:
        return len(self.ref_by_row) - len(self.differences) - len(self.lookalikes)


def _variant(name: str, rng: random.Random) -> str | None:
    families = variant_table().families
    for members in families.values():
        spelt = [m.capitalize() for m in members if len(m) > 2]
        lowered = [m.lower() for m in spelt]
        parts = name.split()
        for i, part in enumerate(parts):
            if part.lower() in lowered:
                options = [m for m in spelt if m.lower() != part.lower()]
                if options:
                    parts[i] = rng.choice(options)
                    return " ".join(parts)
    return None


def national_record(r: dict[str, Any], rng: random.Random, cosmetic: bool) -> dict[str, Any]:
    """A regional record as the hub writes it."""
    status = r["status"]
    risk = r["risk_level"]
    force = r["force"]
    establishment = r["establishment"]
    manager = r["nominal_manager"]
    if cosmetic:
        force = rng.choice(COSMETIC_FORCES.get(force, [force])) if force else force
        if establishment and establishment.startswith("HMP "):
            establishment = rng.choice([establishment[4:], establishment.upper()])
        if manager and manager[:3] in ("DC ", "DS ", "PS "):
            manager = manager[3:]
    return {
        "surname": r["surname"], "forenames": r["forenames"] or None, "dob": r["dob"],
        "pnc": r["pnc_norm"] or r["pnc"], "cro": r["cro"], "gender": r["gender"],
        "status": rng.choice(STATUS_WORDS[status]) if cosmetic and status else
        (status.capitalize() if status else None),
        "force": force, "establishment": establishment,
        "release_date": r["release_date"], "nominal_manager": manager,
        "risk_level": rng.choice(RISK_WORDS[risk]) if cosmetic and risk else
        (risk.capitalize() if risk else None),
        "mappa_category": str(r["mappa_category"]) if r["mappa_category"] else None,
        "mappa_level": str(r["mappa_level"]) if r["mappa_level"] else None,
        "offence": r["offence"], "notification_end": r["notification_end"],
    }


def _plant_difference(rec: dict[str, Any], r: dict[str, Any], kind: str,
                      rng: random.Random) -> str | None:
    if kind == "force":
        forces = [f for f in COSMETIC_FORCES if f != r["force"]]
        rec["force"] = rng.choice(forces)
    elif kind == "status":
        rec["status"] = "Community" if (rec["status"] or "").lower() == "custody" else "Custody"
    elif kind == "release_date" and rec["release_date"]:
        rec["release_date"] = rec["release_date"] + timedelta(days=rng.randint(3, 200))
    elif kind == "risk_level":
        rec["risk_level"] = "Low" if (rec["risk_level"] or "").lower() == "high" else "High"
    elif kind == "establishment":
        rec["establishment"] = "HMP Nowhere Vale"
    elif kind == "nominal_manager":
        rec["nominal_manager"] = "DC Orla Quennell"
    elif kind == "dob" and rec["dob"] and rec["pnc"]:
        rec["dob"] = rec["dob"] - timedelta(days=rng.randint(400, 3000))
    else:
        return None
    return kind


def _plant_lookalike(rec: dict[str, Any], r: dict[str, Any], kind: str,
                     rng: random.Random) -> bool:
    """The same person without identifiers and with the name or date written differently."""
    rec["pnc"] = None
    rec["cro"] = None
    if kind == "transliteration":
        surname = _variant(r["surname"], rng)
        forenames = _variant(r["forenames"] or "", rng)
        if surname is None and forenames is None:
            return False
        rec["surname"] = surname or r["surname"]
        rec["forenames"] = forenames or r["forenames"]
    elif kind == "swapped":
        if not r["forenames"] or " " in r["forenames"]:
            return False
        rec["surname"], rec["forenames"] = r["forenames"], r["surname"]
    elif kind == "dob_swapped":
        d = r["dob"]
        if d is None or d.day > 12 or d.day == d.month:
            return False
        rec["dob"] = date(d.year, d.day, d.month)
    return True


def plant_national_list(
    vault: Vault, path: Path, *, seed: int, omissions: int = 10, extras: int = 8,
    differences: int = 15, lookalikes: int = 15, **writer: Any,
) -> Planted:
    """Write a messy national list from the vault's live records and say what was planted."""
    rng = random.Random(seed)
    rows = regional_rows(vault)
    rng.shuffle(rows)
    omitted = [r for r in rows if r["dob"]][:omissions]  # a record with no dob is kept
    rows = [r for r in rows if r not in omitted]
    rest = rows
    planted_differences: dict[str, set[str]] = {}
    planted_lookalikes: dict[str, str] = {}
    records: list[dict[str, Any]] = []
    refs: list[str | None] = []
    cosmetic = 0
    lookalike_kinds = ("transliteration", "swapped", "dob_swapped")
    for r in rest:
        is_cosmetic = rng.random() < 0.4
        rec = national_record(r, rng, is_cosmetic)
        if len(planted_lookalikes) < lookalikes and rng.random() < 0.3:
            kind = lookalike_kinds[len(planted_lookalikes) % len(lookalike_kinds)]
            if _plant_lookalike(rec, r, kind, rng):
                planted_lookalikes[r["ref"]] = kind
                records.append(rec)
                refs.append(r["ref"])
                continue
            rec = national_record(r, rng, is_cosmetic)
        if len(planted_differences) < differences and rng.random() < 0.2:
            kinds = rng.sample(DIFFERENCE_KINDS, rng.choice((1, 1, 2)))
            done = {k for k in (_plant_difference(rec, r, k, rng) for k in kinds) if k}
            if done:
                planted_differences[r["ref"]] = done
        cosmetic += is_cosmetic
        records.append(rec)
        refs.append(r["ref"])
    assert len(planted_lookalikes) == lookalikes and len(planted_differences) == differences
    people = make_people(extras, seed=seed + 1000)
    for person in people:
        at = rng.randrange(len(records) + 1)
        records.insert(at, person)
        refs.insert(at, None)
    listed = write_messy_national_list(records, path, seed=seed, **writer)
    ref_by_row = {row: ref for row, ref in zip(listed.record_rows, refs, strict=True) if ref}
    return Planted(listed, [r["ref"] for r in omitted], extras, planted_differences,
                   planted_lookalikes, cosmetic, ref_by_row)


def test_planting_is_deterministic(tmp_path: Path) -> None:
    a = [_variant("Mohammed Ali", random.Random(1)) for _ in range(3)]
    assert a[0] is not None and a[0] != "Mohammed Ali" and len(set(a)) == 1
    rec = {"surname": "Khan", "forenames": "Imran", "dob": date(1990, 3, 7), "pnc": "x",
           "cro": "y"}
    assert _plant_lookalike(rec, dict(rec), "dob_swapped", random.Random(0))
    assert rec["dob"] == date(1990, 7, 3) and rec["pnc"] is None and rec["cro"] is None
