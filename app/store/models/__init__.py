"""Every table of the vault; importing this package registers them all on Base.metadata."""

from app.store.models.base import Base, utcnow
from app.store.models.core import AuditEntry, ReferenceData, Revision, Setting, User, VaultMeta
from app.store.models.engagement import (
    CivilOrder,
    CivilOrderReview,
    Contact,
    ContactPlan,
    NominalPathway,
    NotificationEvent,
    NotificationRequirement,
)
from app.store.models.nominal import (
    NOMINAL_SEARCH_DDL,
    DuplicateDismissal,
    DuplicatePair,
    Nominal,
    NominalAddress,
    NominalAlias,
    NominalIdentifier,
)
from app.store.models.prevent import (
    GatewayAssessment,
    Institution,
    IntelEntry,
    IntelInstitution,
    IntelPerson,
    IntelReferral,
    NdmDecision,
    Person,
    Referral,
    ReferralInstitution,
    ReferralNote,
    ReferralReview,
    VafAssessment,
)

# Raw DDL the ORM cannot express (FTS5 tables, triggers); the baseline migration replays it.
EXTRA_DDL: list[str] = [NOMINAL_SEARCH_DDL]

__all__ = [
    "EXTRA_DDL",
    "AuditEntry",
    "Base",
    "CivilOrder",
    "CivilOrderReview",
    "Contact",
    "ContactPlan",
    "DuplicateDismissal",
    "DuplicatePair",
    "Nominal",
    "NominalAddress",
    "NominalAlias",
    "NominalIdentifier",
    "NominalPathway",
    "NotificationEvent",
    "NotificationRequirement",
    "ReferenceData",
    "Revision",
    "Setting",
    "User",
    "VaultMeta",
    "GatewayAssessment",
    "Institution",
    "IntelEntry",
    "IntelInstitution",
    "IntelPerson",
    "IntelReferral",
    "NdmDecision",
    "Person",
    "Referral",
    "ReferralInstitution",
    "ReferralNote",
    "ReferralReview",
    "VafAssessment",
    "utcnow",
]
