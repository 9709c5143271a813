"""Errors by cause: the environment's or the user's fault (shown plainly) versus our bugs.

Messages never contain record data (names, dates of birth, identifiers); they name the field,
file, row or column instead, so that they are safe to log and to show.
"""

from __future__ import annotations


class CasewardError(Exception):
    """Base for every error that is shown to the user as a plain message (not a bug)."""

    exit_code = 1


class VaultLocked(CasewardError):
    """The vault is locked (no data key held)."""

    exit_code = 3


class VaultOpenError(CasewardError):
    """The vault will not open: wrong passphrase, damaged file, unknown user, locked out."""

    exit_code = 3


class WrongPassphraseOrDamaged(VaultOpenError):
    """The passphrase did not open the key slot, or the slot itself is damaged."""


class VaultDamaged(VaultOpenError):
    """The vault or its key file is damaged or is not a Caseward vault."""


class UnknownUser(VaultOpenError):
    """No key slot or account exists for that user."""


class LockedOut(VaultOpenError):
    """Too many failed unlocks: wait before trying again."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class VaultTooNew(VaultOpenError):
    """The vault was written by a newer Caseward than this one."""


class NotAllowed(CasewardError):
    """The caller's role does not allow this operation."""

    exit_code = 4


class ValidationError(CasewardError):
    """Bad input for one named field."""

    exit_code = 5

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ImportRowError(CasewardError):
    """Bad input at a given row and column of an imported file (row numbers are 1-based)."""

    exit_code = 5

    def __init__(self, row: int, column: str, message: str) -> None:
        super().__init__(f"row {row}, column {column}: {message}")
        self.row = row
        self.column = column
        self.message = message


class BadInput(CasewardError):
    """Bad input that is not tied to one field (a file that cannot be read, say)."""

    exit_code = 5


class NotFound(CasewardError):
    """A record named by the user does not exist."""

    exit_code = 5


class MediaError(CasewardError):
    """Writing to the destination failed: media removed, disk full, read-only, name taken."""

    exit_code = 5


class IntegrityError(CasewardError):
    """An integrity check failed (audit chain broken, sidecar MAC wrong)."""

    exit_code = 6
