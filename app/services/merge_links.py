"""Merge hooks: re-point every record that links to a nominal when it is merged into another.

Each hook runs inside the merge's write transaction (see MERGE_HOOKS in duplicates.py) and
returns how many rows it moved; if one raises, the whole merge is rolled back."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.store.models.meetings import Action, AgendaItem, CorrespondenceNominal
from app.store.models.prevent import Person
from app.store.models.reconcile import ReconciliationItem


def engagement(session: Session, keep_id: int, drop_id: int) -> int:
    """Contacts, notification requirements, civil orders and pathways move to the kept record."""
    from app.services.engagement import reassign_nominal
    from app.store.models.engagement import Contact

    contacts = session.scalar(
        select(func.count()).select_from(Contact).where(Contact.nominal_id == drop_id)
    )
    reassign_nominal(session, drop_id, keep_id)
    return int(contacts or 0)


def meetings(session: Session, keep_id: int, drop_id: int) -> int:
    """Agenda items, actions and correspondence links point at the kept record."""
    moved = 0
    for model in (AgendaItem, Action):
        result = session.execute(
            update(model).where(model.nominal_id == drop_id).values(nominal_id=keep_id)
        )
        moved += int(getattr(result, "rowcount", 0) or 0)
    # The link table's key is (correspondence, nominal): drop links the kept record already has.
    already = select(CorrespondenceNominal.correspondence_id).where(
        CorrespondenceNominal.nominal_id == keep_id
    )
    session.execute(
        delete(CorrespondenceNominal).where(
            CorrespondenceNominal.nominal_id == drop_id,
            CorrespondenceNominal.correspondence_id.in_(already),
        )
    )
    result = session.execute(
        update(CorrespondenceNominal)
        .where(CorrespondenceNominal.nominal_id == drop_id)
        .values(nominal_id=keep_id)
    )
    return moved + int(getattr(result, "rowcount", 0) or 0)


def prevent(session: Session, keep_id: int, drop_id: int) -> int:
    """Referral subjects known as the dropped nominal are now known as the kept one."""
    result = session.execute(
        update(Person).where(Person.nominal_id == drop_id).values(nominal_id=keep_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def reconciliation(session: Session, keep_id: int, drop_id: int) -> int:
    """Saved reconciliation results that matched the dropped record now name the kept one."""
    result = session.execute(
        update(ReconciliationItem)
        .where(ReconciliationItem.nominal_id == drop_id)
        .values(nominal_id=keep_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)
