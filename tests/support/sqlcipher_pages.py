"""Decrypt a SQLCipher 4 vault's pages (database file and WAL frames) with its raw data key.

For tests that must prove content is gone *from disk*: a raw grep of an encrypted file always
passes, so this reads every page as SQLite would see it, free pages and stale WAL frames
included. SQLCipher 4 defaults: 4096-byte pages, AES-256-CBC, and 80 reserved bytes at the end
of each page (a 16-byte IV, then a 64-byte HMAC-SHA512). With a raw key (``x'...'``) the key is
the AES key as it is; page 1 starts with the 16-byte salt instead of SQLite's header string."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PAGE_SIZE = 4096
RESERVE = 80
IV_SIZE = 16
SALT_SIZE = 16
WAL_HEADER = 32
WAL_FRAME_HEADER = 24


def decrypt_page(key: bytes, page: bytes, page_no: int) -> bytes:
    """The plaintext of one page (without its reserved IV/HMAC bytes); page 1 without its salt."""
    if len(page) != PAGE_SIZE:
        raise ValueError("short page")
    start = SALT_SIZE if page_no == 1 else 0
    iv = page[PAGE_SIZE - RESERVE:PAGE_SIZE - RESERVE + IV_SIZE]
    body = page[start:PAGE_SIZE - RESERVE]
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return decryptor.update(body) + decryptor.finalize()


def database_pages(path: Path, key: bytes) -> Iterator[tuple[int, bytes]]:
    data = path.read_bytes() if path.exists() else b""
    for i in range(len(data) // PAGE_SIZE):
        yield i + 1, decrypt_page(key, data[i * PAGE_SIZE:(i + 1) * PAGE_SIZE], i + 1)


def wal_pages(path: Path, key: bytes) -> Iterator[tuple[int, bytes]]:
    """Every frame in a WAL file, valid or stale (a frame past the last commit still holds
    bytes on disk)."""
    data = path.read_bytes() if path.exists() else b""
    offset = WAL_HEADER
    while offset + WAL_FRAME_HEADER + PAGE_SIZE <= len(data):
        page_no = int.from_bytes(data[offset:offset + 4], "big")
        page = data[offset + WAL_FRAME_HEADER:offset + WAL_FRAME_HEADER + PAGE_SIZE]
        if page_no:
            yield page_no, decrypt_page(key, page, page_no)
        offset += WAL_FRAME_HEADER + PAGE_SIZE


def vault_pages(db: Path, key: bytes) -> Iterator[tuple[str, int, bytes]]:
    """(file, page number, plaintext) of every page of the database and of its WAL."""
    for no, page in database_pages(db, key):
        yield db.name, no, page
    wal = Path(f"{db}-wal")
    for no, page in wal_pages(wal, key):
        yield wal.name, no, page


def find_in_pages(db: Path, key: bytes, marker: str) -> list[tuple[str, int]]:
    """Where ``marker`` (UTF-8, any letter case) occurs in the decrypted pages."""
    needle = marker.lower().encode("utf-8")
    return [(name, no) for name, no, page in vault_pages(db, key) if needle in page.lower()]


def first_page_is_sqlite(db: Path, key: bytes) -> bool:
    """A check that decryption works: page 1's header says 4096-byte pages, 80 reserved bytes."""
    page = next(database_pages(db, key))[1]
    # Offsets 16.. of the SQLite header, shifted by the salt that replaces the first 16 bytes.
    return page[0:2] == PAGE_SIZE.to_bytes(2, "big") and page[4] == RESERVE
