"""A damaged vault or key file gives an exit code and a message a user can act on, never a
traceback, and the failing command changes nothing on disk."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from app.paths import keyfile_path
from tests.conftest import PASSPHRASE
from tests.security.conftest import SecVault
from tests.security.support import assert_failure, cw

PAGE = 4096  # SQLCipher 4 default page size


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x5A
    path.write_bytes(bytes(data))


def test_flipped_byte_in_the_header(sv: SecVault) -> None:
    flip(sv.path, 7)  # inside the file's salt: every page's HMAC key changes
    before = digest(sv.path)
    run = cw("audit", "verify", "--json", env=sv.env)
    assert_failure(run, 3, "damaged", "backup", json_mode=True)
    assert run.out == ""
    assert digest(sv.path) == before


def test_flipped_byte_in_a_data_page(sv: SecVault) -> None:
    """A page that unlocking never reads: the page-level check in `audit verify` finds it."""
    from app.security.secrets import MemorySecretStore
    from app.services.vault import unlock_vault

    vault = unlock_vault(sv.path, "alice", PASSPHRASE, secret_store=MemorySecretStore())
    pages_before = sv.path.stat().st_size // PAGE
    with vault.write() as s:
        for i in range(400):  # revision rows fill fresh pages at the end of the file
            vault.revision(s, "test", i, "update", {"notes": ("", "synthetic " * 40)})
    vault.lock()
    pages_after = sv.path.stat().st_size // PAGE
    assert pages_after > pages_before + 20
    target = (pages_before + pages_after) // 2
    flip(sv.path, target * PAGE + PAGE // 2)
    run = cw("audit", "verify", "--json", env=sv.env)
    assert run.rc == 6, run.err
    assert json.loads(run.out)["ok"] is False
    human = cw("audit", "verify", env=sv.env)
    assert human.rc == 6 and "damaged pages" in human.out and "backup" in human.out
    assert "Traceback" not in human.out + human.err + run.err


def test_flipped_byte_in_the_key_file_structure(sv: SecVault) -> None:
    kpath = keyfile_path(sv.path)
    text = kpath.read_bytes()
    flip(kpath, text.index(b"{"))  # the JSON no longer parses
    before = digest(kpath)
    assert_failure(cw("user", "list", env=sv.env), 3, "key file", "damaged", "recovery key")
    assert digest(kpath) == before


def test_flipped_byte_in_a_wrapped_key(sv: SecVault) -> None:
    kpath = keyfile_path(sv.path)
    data = json.loads(kpath.read_text())
    wrapped = data["slots"]["alice"]["wrapped"]
    data["slots"]["alice"]["wrapped"] = ("B" if wrapped[5] != "B" else "C").join(
        [wrapped[:5], wrapped[6:]])
    kpath.write_text(json.dumps(data))
    # A damaged slot cannot be told from a wrong passphrase (AES-GCM fails either way).
    assert_failure(cw("user", "list", env=sv.env), 3, "wrong passphrase")
    assert cw("user", "list", env=sv.as_user("bob", "bobs own long passphrase")).rc == 4


def test_slot_of_the_wrong_shape_is_damage(sv: SecVault) -> None:
    kpath = keyfile_path(sv.path)
    data = json.loads(kpath.read_text())
    data["slots"]["alice"]["nonce"] = "AAAA"
    kpath.write_text(json.dumps(data))
    assert_failure(cw("user", "list", env=sv.env), 3, "key file", "damaged")


@pytest.mark.parametrize("keep", [1000, PAGE + 100])
def test_truncated_inside_the_first_pages(sv: SecVault, keep: int) -> None:
    sv.path.write_bytes(sv.path.read_bytes()[:keep])
    assert_failure(cw("audit", "verify", env=sv.env), 3, "damaged", "backup")
    assert sv.path.stat().st_size == keep


def test_truncated_tail_pages(sv: SecVault) -> None:
    size = sv.path.stat().st_size
    sv.path.write_bytes(sv.path.read_bytes()[: size - 2 * PAGE])
    run = cw("audit", "verify", "--json", env=sv.env)
    # Either unlocking already reads a missing page (3), or the page check finds it (6).
    assert run.rc in (3, 6), run.err
    assert "Traceback" not in run.err
    assert ("damaged" in run.err) if run.rc == 3 else (json.loads(run.out)["ok"] is False)


def test_empty_and_foreign_files(sv: SecVault) -> None:
    sv.path.write_bytes(b"")
    assert_failure(cw("user", "list", env=sv.env), 3, "damaged")
    sv.path.write_bytes(b"SQLite format 3\x00" + b"\x00" * 8000)
    assert_failure(cw("user", "list", env=sv.env), 3, "damaged")
