"""Correspondence log and ISA register: links, reply-by dates in the calendar, outgoing items
audited as disclosures, validation and roles."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from app.domain.errors import NotAllowed, ValidationError
from app.domain.meetings import CorrespondenceInput, Direction, IsaInput
from app.domain.nominal import Nominal, Status
from app.domain.roles import Role
from app.services.calendar import CalendarService
from app.services.correspondence import CorrespondenceFilter, CorrespondenceService
from app.services.nominals import NominalService
from app.services.vault import Actor, Vault
from app.store.models import AuditEntry


@pytest.fixture
def coord(vault: Vault) -> Vault:
    vault.actor = Actor(vault.actor.user, Role.COORDINATOR)
    return vault


def _isa(svc: CorrespondenceService) -> str:
    return svc.add_isa(IsaInput("Regional ISA", ("CTP", "HMPPS Probation Service"),
                                "Managing TACT offenders", date(2027, 1, 1),
                                date(2024, 1, 1), "ISA/2024/001")).ref


def test_log_with_isa_nominals_and_reply_due(coord: Vault) -> None:
    ref = NominalService(coord).add(Nominal(surname="LINKED", status=Status.COMMUNITY)).ref
    svc = CorrespondenceService(coord)
    isa = _isa(svc)
    assert svc.isas()[0].parties == ("CTP", "HMPPS Probation Service")
    incoming = svc.add(CorrespondenceInput(
        "HM Prison Service", Direction.IN, date(2026, 3, 2), "Pre-release planning",
        "pathfinder_prison", isa_id=None, nominal_refs=(ref,), reply_by=date(2026, 3, 16)))
    assert incoming.ref == "COR-000001" and incoming.type_label == "Prison Pathfinder matter"
    assert incoming.nominal_refs == (ref,)
    mac = svc.add(CorrespondenceInput("Multi-agency centre (MAC)", Direction.IN,
                                      date(2026, 3, 3), "Associates check", "mac_enquiry",
                                      isa_id=int(isa[4:])))
    assert mac.isa_ref == isa and mac.type_label == "MAC enquiry"
    items = CalendarService(coord).items(date(2026, 3, 1), date(2026, 3, 31),
                                         kinds=["action_due"])
    assert [(i.ref, i.date, i.title) for i in items] == [
        ("COR-000001", date(2026, 3, 16),
         "Reply due: Prison Pathfinder matter from HM Prison Service")]
    svc.record_reply(incoming.ref, date(2026, 3, 12))
    assert CalendarService(coord).items(date(2026, 3, 1), date(2026, 3, 31),
                                        kinds=["action_due"]) == []
    assert [c.ref for c in svc.log(CorrespondenceFilter(nominal=ref))] == ["COR-000001"]
    assert [c.ref for c in svc.log(CorrespondenceFilter(corr_type="mac_enquiry"))] == [mac.ref]


def test_outgoing_item_is_a_disclosure(coord: Vault) -> None:
    svc = CorrespondenceService(coord)
    isa = _isa(svc)
    with pytest.raises(ValidationError) as err:
        svc.add(CorrespondenceInput("HMPPS Probation Service", Direction.OUT, date(2026, 3, 2),
                                    "Risk summary"))
    assert err.value.field == "isa"
    out = svc.add(CorrespondenceInput("HMPPS Probation Service", Direction.OUT,
                                      date(2026, 3, 2), "Risk summary", "disclosure",
                                      isa_id=int(isa[4:])))
    with coord.read() as s:
        row = s.scalars(select(AuditEntry).where(
            AuditEntry.action == "correspondence.out")).one()
    assert row.category == "disclosure" and row.recipient == "HMPPS Probation Service"
    assert row.ref == out.ref and isa in row.reason and "Managing TACT offenders" in row.reason
    assert json.loads(row.detail)["isa"] == isa


def test_validation_and_roles(coord: Vault) -> None:
    svc = CorrespondenceService(coord)
    with pytest.raises(ValidationError) as err:
        svc.add(CorrespondenceInput("X", Direction.IN, date(2026, 3, 2), "S", "telegram"))
    assert err.value.field == "type"
    with pytest.raises(ValidationError) as err:
        svc.add(CorrespondenceInput("X", Direction.IN, date(2026, 3, 2), "S",
                                    reply_by=date(2026, 3, 1)))
    assert err.value.field == "reply_by"
    with pytest.raises(ValidationError) as err:
        svc.add_isa(IsaInput("One party", ("CTP",), "x", date(2027, 1, 1)))
    assert err.value.field == "parties"
    coord.actor = Actor(coord.actor.user, Role.VIEWER)
    with pytest.raises(NotAllowed):
        svc.add(CorrespondenceInput("X", Direction.IN, date(2026, 3, 2), "S"))
    assert svc.log() == [] and "Health" in svc.agencies()
