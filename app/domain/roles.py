"""Roles and what each may do: the single table every service check reads."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    ANALYST = "analyst"
    VIEWER = "viewer"


class Perm(StrEnum):
    SELF = "self"  # anything a signed-in user may do to their own account
    USERS_MANAGE = "users.manage"
    AUDIT_READ = "audit.read"
    VAULT_ADMIN = "vault.admin"  # rekey, backup, settings, reference data
    RETENTION = "retention.manage"
    DEMO = "demo.generate"
    NOMINAL_READ = "nominal.read"
    NOMINAL_WRITE = "nominal.write"
    ENGAGEMENT_READ = "engagement.read"
    ENGAGEMENT_WRITE = "engagement.write"
    MEETING_READ = "meeting.read"
    MEETING_WRITE = "meeting.write"
    REFERRAL_READ = "referral.read"
    REFERRAL_WRITE = "referral.write"
    INTEL_READ = "intel.read"
    INTEL_WRITE = "intel.write"
    EXPORT = "export.disclose"
    RECONCILE = "reconcile"


_ALL_READ = {
    Perm.SELF,
    Perm.NOMINAL_READ,
    Perm.ENGAGEMENT_READ,
    Perm.MEETING_READ,
    Perm.REFERRAL_READ,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.ADMIN: frozenset(
        _ALL_READ
        | {Perm.USERS_MANAGE, Perm.AUDIT_READ, Perm.VAULT_ADMIN, Perm.RETENTION, Perm.DEMO}
    ),
    Role.COORDINATOR: frozenset(
        _ALL_READ
        | {
            Perm.NOMINAL_WRITE,
            Perm.ENGAGEMENT_WRITE,
            Perm.MEETING_WRITE,
            Perm.EXPORT,
            Perm.RECONCILE,
        }
    ),
    Role.ANALYST: frozenset(
        _ALL_READ | {Perm.REFERRAL_WRITE, Perm.INTEL_READ, Perm.INTEL_WRITE, Perm.EXPORT}
    ),
    Role.VIEWER: frozenset(_ALL_READ),
}

ROLE_LABELS: dict[Role, str] = {
    Role.ADMIN: "Supervisor / admin",
    Role.COORDINATOR: "Nominal Management Coordinator",
    Role.ANALYST: "Intelligence Management Officer (Prevent)",
    Role.VIEWER: "Viewer (read only)",
}


def allowed(role: Role, perm: Perm) -> bool:
    return perm in ROLE_PERMISSIONS[role]


def parse_role(text: str) -> Role:
    from app.domain.errors import ValidationError

    try:
        return Role(text.strip().lower())
    except ValueError:
        raise ValidationError(
            "role", "must be one of admin, coordinator, analyst, viewer"
        ) from None
