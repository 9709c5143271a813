"""Free text through the services and the vault: any text the shared check accepts comes back
from a load exactly as it was cleaned; any text with a forbidden character is refused with the
field named (and nothing is stored)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.errors import ValidationError
from app.domain.meetings import MeetingInput
from app.domain.nominal import Nominal, NominalInvalid, Status
from app.domain.prevent import MAX_SHORT, ReferralInput, SubjectInput
from app.domain.roles import Role
from app.domain.text import BIDI_CONTROLS, clean_text
from app.services.meetings import MeetingService
from app.services.nominals import NominalService
from app.services.referrals import ReferralService
from app.services.vault import Vault
from tests.services.test_referrals import as_role

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
# Any script, combining marks, spaces, tabs, line breaks, bidi marks and controls.
typed = st.lists(st.one_of(st.characters(blacklist_categories=("Cs",)),
                           st.sampled_from(["\t", "\n", "\r\n", "\u202e", "\u2067", "e\u0301"])),
                 max_size=30).map("".join)
FORBIDDEN_ANYWHERE = ["\x00", "\x07", "\x1b", "\x7f", "\x9b"]
FORBIDDEN_ONE_LINE = [*FORBIDDEN_ANYWHERE, "\n", "\r", "\u2028", *sorted(BIDI_CONTROLS)]
NOW = datetime(2026, 3, 2, 10, 0)


def _accepted(value: str, limit: int, multiline: bool) -> str | None:
    try:
        return clean_text(value, "f", limit, multiline=multiline)
    except ValidationError:
        return None


def _referral(surname: str, summary: str) -> ReferralInput:
    return ReferralInput(received=datetime(2026, 3, 2, 9, 0), source_sector="education",
                         concern_type="extreme_right_wing",
                         subject=SubjectInput(surname, "Alex", date(2010, 5, 1)),
                         summary=summary)


@SETTINGS
@given(surname=typed, summary=typed)
def test_referral_text_round_trips(vault: Vault, surname: str, summary: str) -> None:
    refs = ReferralService(as_role(vault, Role.ANALYST, "ana"))
    surname, summary = "Kowalski " + surname, "Summary: " + summary
    want_surname = _accepted(surname, MAX_SHORT, multiline=False)
    want_summary = _accepted(summary, 20_000, multiline=True)
    if want_surname is None or want_summary is None:
        with pytest.raises(ValidationError) as caught:
            refs.add(_referral(surname, summary), now=NOW)
        assert caught.value.field == ("subject.surname" if want_surname is None else "summary")
        return
    detail = refs.show(refs.add(_referral(surname, summary), now=NOW), today=NOW.date())
    assert (detail.surname, detail.summary) == (want_surname, want_summary)


@SETTINGS
@given(data=st.data(), before=typed, multiline_field=st.booleans())
def test_referral_refuses_forbidden_characters(vault: Vault, data: st.DataObject, before: str,
                                               multiline_field: bool) -> None:
    refs = ReferralService(as_role(vault, Role.ANALYST, "ana"))
    bad = data.draw(st.sampled_from(FORBIDDEN_ANYWHERE if multiline_field
                                    else FORBIDDEN_ONE_LINE))
    text = f"Kowalski {before}{bad}x"
    item = (_referral("Kowalski", text) if multiline_field else _referral(text, "Summary"))
    before_count = len(refs.queue())
    with pytest.raises(ValidationError) as caught:
        refs.add(item, now=NOW)
    assert caught.value.field == ("summary" if multiline_field else "subject.surname")
    assert bad not in str(caught.value)
    assert len(refs.queue()) == before_count


@SETTINGS
@given(surname=typed, notes=typed)
def test_nominal_text_round_trips(vault: Vault, surname: str, notes: str) -> None:
    svc = NominalService(as_role(vault, Role.COORDINATOR, "cody"))
    record = Nominal(surname="Evans" + surname, forenames="Bethan", status=Status.COMMUNITY,
                     notes=notes)
    fine_surname = _accepted(record.surname, 100, multiline=False) is not None
    fine_notes = _accepted(notes, 20_000, multiline=True) is not None
    if not (fine_surname and fine_notes):
        with pytest.raises(NominalInvalid) as caught:
            svc.add(record)
        assert caught.value.field == ("surname" if not fine_surname else "notes")
        return
    loaded = svc.get(svc.add(record).ref)
    # The service stores a nominal as given (forms and the JSON reader clean it first).
    assert (loaded.surname, loaded.notes) == (record.surname, record.notes)


@SETTINGS
@given(chair=typed, notes=typed)
def test_meeting_text_round_trips(vault: Vault, chair: str, notes: str) -> None:
    svc = MeetingService(as_role(vault, Role.COORDINATOR, "cody"))
    chair = "DI " + chair
    item = MeetingInput("ttcg", datetime(2026, 2, 3, 10), chair, notes=notes, standing_items=())
    want_chair = _accepted(chair, 200, multiline=False)
    want_notes = _accepted(notes, 10_000, multiline=True)
    if want_chair is None or want_notes is None:
        with pytest.raises(ValidationError) as caught:
            svc.add(item, today=date(2026, 2, 1))
        assert caught.value.field == ("chair" if want_chair is None else "notes")
        return
    added = svc.add(item, today=date(2026, 2, 1))
    shown = svc.show(added.ref, today=date(2026, 2, 1))
    assert (shown.row.chair, shown.notes) == (want_chair, want_notes)
