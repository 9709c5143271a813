"""Users and roles on a vault: add, list, remove, change passphrase."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.domain.errors import NotAllowed, NotFound, ValidationError
from app.domain.roles import Perm, Role, parse_role
from app.security.audit import Category
from app.services.base import Service, requires
from app.services.vault import check_new_passphrase, check_user_name
from app.store.models import User, utcnow


@dataclass(frozen=True)
class UserInfo:
    name: str
    display_name: str
    role: Role
    created_at: datetime
    created_by: str
    last_login_at: datetime | None
    has_slot: bool
    active: bool


class UserService(Service):
    @requires(Perm.USERS_MANAGE)
    def list_users(self, include_removed: bool = False) -> list[UserInfo]:
        with self.vault.read() as s:
            rows = s.scalars(select(User).order_by(User.name)).all()
            return [
                UserInfo(
                    name=u.name,
                    display_name=u.display_name,
                    role=Role(u.role),
                    created_at=u.created_at,
                    created_by=u.created_by,
                    last_login_at=u.last_login_at,
                    has_slot=u.name in self.vault.keyfile.slots,
                    active=u.removed_at is None,
                )
                for u in rows
                if include_removed or u.removed_at is None
            ]

    @requires(Perm.USERS_MANAGE)
    def add_user(
        self, name: str, role: str | Role, passphrase: str, display_name: str = ""
    ) -> UserInfo:
        check_user_name(name)
        parsed = role if isinstance(role, Role) else parse_role(role)
        check_new_passphrase(passphrase)
        self.vault.check_keyfile()
        slot = self.vault.new_slot(name, passphrase)
        with self.vault.write() as s:
            existing = s.scalars(select(User).where(User.name == name)).first()
            if existing is not None and existing.removed_at is None:
                raise ValidationError("user", "an account with that name already exists")
            if existing is not None:
                raise ValidationError(
                    "user", "that name belonged to a removed account; choose another name"
                )
            user = User(
                name=name,
                display_name=display_name or name,
                role=parsed.value,
                role_mac=self.vault.role_mac(name, parsed.value, None),
                created_by=self.vault.actor.user,
            )
            s.add(user)
            self.vault.audit(
                s,
                Category.SECURITY,
                "user.add",
                entity="user",
                ref=name,
                detail={"role": parsed.value},
            )
            s.flush()
            # The slot is written while this transaction holds the write lock, just before it
            # commits: a crash can leave a slot for a name with no account (which opens
            # nothing), never an account without a slot.
            self.vault.store_slot(name, slot)
        return self._info(name)

    @requires(Perm.USERS_MANAGE)
    def set_role(self, name: str, role: str | Role) -> UserInfo:
        parsed = role if isinstance(role, Role) else parse_role(role)
        if name == self.vault.actor.user and parsed is not Role.ADMIN:
            raise ValidationError("role", "you cannot remove your own admin role")
        with self.vault.write() as s:
            user = self._get(s, name)
            old = user.role
            user.role = parsed.value
            user.role_mac = self.vault.role_mac(name, parsed.value, None)
            self.vault.audit(
                s,
                Category.SECURITY,
                "user.role",
                entity="user",
                ref=name,
                detail={"old": old, "new": parsed.value},
            )
        return self._info(name)

    @requires(Perm.USERS_MANAGE)
    def remove_user(self, name: str, reason: str = "") -> None:
        if name == self.vault.actor.user:
            raise ValidationError("user", "you cannot remove your own account")
        self.vault.check_keyfile()
        with self.vault.write() as s:
            user = self._get(s, name)
            admins = s.scalars(
                select(User).where(User.role == Role.ADMIN.value, User.removed_at.is_(None))
            ).all()
            if user.role == Role.ADMIN.value and len(admins) <= 1:
                raise ValidationError("user", "the last admin cannot be removed")
            user.removed_at = utcnow()
            user.role_mac = self.vault.role_mac(name, user.role, user.removed_at)
            self.vault.audit(
                s, Category.SECURITY, "user.remove", entity="user", ref=name, reason=reason
            )
        self.vault.remove_slot(name)

    @requires(Perm.SELF)
    def change_passphrase(self, name: str, new_passphrase: str) -> None:
        """A user may change their own passphrase; an admin may set anyone's (rewrites one slot)."""
        actor = self.vault.actor
        if name != actor.user and actor.role is not Role.ADMIN:
            raise NotAllowed(
                f"Your role ({actor.role.value}) may not set another user's passphrase; "
                "only an admin may."
            )
        check_new_passphrase(new_passphrase, "new passphrase")
        self.vault.check_keyfile()
        with self.vault.write() as s:
            self._get(s, name)
            self.vault.audit(s, Category.SECURITY, "user.passphrase", entity="user", ref=name)
        self.vault.set_passphrase(name, new_passphrase)

    # -- helpers --------------------------------------------------------------------------
    def _get(self, s: object, name: str) -> User:
        from sqlalchemy.orm import Session

        assert isinstance(s, Session)
        user = s.scalars(select(User).where(User.name == name, User.removed_at.is_(None))).first()
        if user is None:
            raise NotFound(f"There is no active account named {name!r}.")
        return user

    def _info(self, name: str) -> UserInfo:
        for info in self.list_users(include_removed=True):
            if info.name == name:
                return info
        raise NotFound(f"There is no account named {name!r}.")
