"""Every kind of audit tamper, done with the data key outside Caseward, is caught by
`caseward audit verify` (exit 6, JSON {"ok": false, "rows", "first_bad"})."""

from __future__ import annotations

import json
import secrets

import pytest

from app.paths import keyfile_path
from tests.security.conftest import SecVault
from tests.security.support import cw, open_raw, tamper_audit

ROWS = 10  # the template's audit rows


def verify(sv: SecVault) -> dict[str, object]:
    run = cw("audit", "verify", "--json", env=sv.env)
    assert "Traceback" not in run.err
    data = json.loads(run.out)
    assert set(data) == {"ok", "rows", "first_bad"}
    assert run.rc == (0 if data["ok"] else 6), (run.rc, data)
    return data  # type: ignore[no-any-return]


def test_untouched_chain_verifies(sv: SecVault) -> None:
    # The control for every test below: the unlock by `verify` itself adds row 11.
    assert verify(sv) == {"ok": True, "rows": ROWS + 1, "first_bad": None}


def test_edited_row(sv: SecVault) -> None:
    tamper_audit(sv.path, sv.recovery_key, "UPDATE audit_entry SET user = 'bob' WHERE id = 5")
    assert verify(sv) == {"ok": False, "rows": 5, "first_bad": 5}


def test_edited_timestamp(sv: SecVault) -> None:
    tamper_audit(sv.path, sv.recovery_key,
                 "UPDATE audit_entry SET at = '2020-01-01 00:00:00.000000' WHERE id = 6")
    assert verify(sv)["first_bad"] == 6


def test_deleted_row(sv: SecVault) -> None:
    tamper_audit(sv.path, sv.recovery_key, "DELETE FROM audit_entry WHERE id = 4")
    assert verify(sv) == {"ok": False, "rows": 4, "first_bad": 5}


def test_deleted_row_with_ids_renumbered(sv: SecVault) -> None:
    tamper_audit(sv.path, sv.recovery_key, "DELETE FROM audit_entry WHERE id = 4",
                 "UPDATE audit_entry SET id = id - 1 WHERE id > 4")
    assert verify(sv)["first_bad"] == 4


def test_reordered_rows(sv: SecVault) -> None:
    """Swap the contents of rows 3 and 4, keeping their ids."""
    cols = "at, user, category, action, entity, ref, reason, recipient, detail, prev_hash, hash"
    conn = open_raw(sv.path, sv.recovery_key)
    try:
        three = conn.execute(f"SELECT {cols} FROM audit_entry WHERE id = 3").fetchone()
        four = conn.execute(f"SELECT {cols} FROM audit_entry WHERE id = 4").fetchone()
        assignments = ", ".join(f"{c.strip()} = ?" for c in cols.split(","))
        conn.execute(f"UPDATE audit_entry SET {assignments} WHERE id = 3", four)
        conn.execute(f"UPDATE audit_entry SET {assignments} WHERE id = 4", three)
        conn.commit()
    finally:
        conn.close()
    assert verify(sv) == {"ok": False, "rows": 3, "first_bad": 3}


@pytest.mark.parametrize("dropped", [1, 3])
def test_truncated_tail_is_caught_by_the_key_file_checkpoint(sv: SecVault, dropped: int) -> None:
    tamper_audit(sv.path, sv.recovery_key, f"DELETE FROM audit_entry WHERE id > {ROWS - dropped}")
    assert json.loads(keyfile_path(sv.path).read_text())["audit"]["count"] == ROWS
    result = verify(sv)
    assert result["ok"] is False
    # The unlock that ran `verify` appended a row; it must not have hidden the truncation.
    assert result["first_bad"] == (ROWS if dropped == 1 else ROWS - dropped + 2)
    # Later sessions append more rows than were dropped: still caught.
    for _ in range(dropped + 2):
        assert cw("user", "list", env=sv.env).rc == 0
    assert verify(sv)["ok"] is False
    assert json.loads(keyfile_path(sv.path).read_text())["audit"]["count"] == ROWS


def test_inserted_forged_row(sv: SecVault) -> None:
    conn = open_raw(sv.path, sv.recovery_key)
    try:
        last = conn.execute("SELECT hash FROM audit_entry WHERE id = ?", (ROWS,)).fetchone()[0]
        conn.execute(
            "INSERT INTO audit_entry (id, at, user, category, action, entity, ref, reason, "
            "recipient, detail, prev_hash, hash) VALUES (?, '2026-01-01 10:00:00.000000', "
            "'alice', 'erasure', 'nominal.erase', 'nominal', 'NM-000001', '', '', '{}', ?, ?)",
            (ROWS + 1, last, secrets.token_hex(32)),
        )
        conn.commit()
    finally:
        conn.close()
    assert verify(sv) == {"ok": False, "rows": ROWS + 1, "first_bad": ROWS + 1}


def test_forged_row_with_a_plain_sha256_is_caught(sv: SecVault) -> None:
    """The chain is keyed: recomputing an unkeyed hash over an edited row does not pass."""
    import hashlib

    conn = open_raw(sv.path, sv.recovery_key)
    try:
        prev = conn.execute("SELECT prev_hash FROM audit_entry WHERE id = 7").fetchone()[0]
        fake = hashlib.sha256((prev + "edited").encode()).hexdigest()
        conn.execute("UPDATE audit_entry SET reason = 'edited', hash = ? WHERE id = 7", (fake,))
        conn.execute("UPDATE audit_entry SET prev_hash = ? WHERE id = 8", (fake,))
        conn.commit()
    finally:
        conn.close()
    assert verify(sv)["first_bad"] == 7


@pytest.mark.parametrize("edit", ["count", "head", "both"])
def test_edited_key_file_checkpoint(sv: SecVault, edit: str) -> None:
    kpath = keyfile_path(sv.path)
    data = json.loads(kpath.read_text())
    if edit in ("count", "both"):
        data["audit"]["count"] = ROWS - 2
    if edit in ("head", "both"):
        conn = open_raw(sv.path, sv.recovery_key)
        try:
            row = data["audit"]["count"]
            data["audit"]["head"] = conn.execute(
                "SELECT hash FROM audit_entry WHERE id = ?", (row,)).fetchone()[0]
            if edit == "head":
                data["audit"]["head"] = secrets.token_hex(32)
        finally:
            conn.close()
    kpath.write_text(json.dumps(data))
    assert verify(sv)["ok"] is False
    # A later session must not re-sign the edited key file (that would launder the edit).
    assert cw("user", "list", env=sv.env).rc == 0
    assert verify(sv)["ok"] is False
    # And a slot change is refused whole (nothing is written to the vault for it).
    before = cw("audit", "list", "--json", env=sv.env).json()
    run = cw("user", "add", "carol", "--role", "viewer",
             env={**sv.env, "CASEWARD_NEW_PASSPHRASE": "carols long passphrase"})
    assert run.rc == 6 and "key file" in run.err and "Traceback" not in run.err
    after = cw("audit", "list", "--json", env=sv.env).json()
    # Only the two sign-ins (the refused command's and this listing's); no user.add.
    assert [r["action"] for r in after][len(before):] == ["unlock", "unlock"]  # type: ignore[arg-type,index]
