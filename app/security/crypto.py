"""Key derivation, key wrapping and MACs for key slots, recovery keys and integrity checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass

from app.domain.errors import BadInput

KEY_BYTES = 32

# Floor below which a slot is refused: protects against a sidecar edited to weaken the KDF.
MIN_TIME_COST = 1
MIN_MEMORY_KIB = 8 * 1024
# Ceiling above which a slot is refused: an edited sidecar must not make unlock hang or exhaust
# memory (calibrate() never goes near these).
MAX_TIME_COST = 200
MAX_MEMORY_KIB = 1024 * 1024
MAX_PARALLELISM = 16


@dataclass(frozen=True)
class KdfParams:
    time_cost: int
    memory_kib: int
    parallelism: int

    def as_dict(self) -> dict[str, int]:
        return {"t": self.time_cost, "m": self.memory_kib, "p": self.parallelism}

    @classmethod
    def from_dict(cls, d: dict[str, int]) -> KdfParams:
        return cls(time_cost=int(d["t"]), memory_kib=int(d["m"]), parallelism=int(d["p"]))


def fast_kdf_for_tests() -> bool:
    """Tests may ask for the weakest allowed parameters so that hundreds of unlocks stay quick.

    The slot records its parameters, so a vault made this way stays weak; selfcheck reports it."""
    return os.environ.get("CASEWARD_INSECURE_FAST_KDF") == "1"


def argon2id(passphrase: bytes, salt: bytes, params: KdfParams) -> bytes:
    from argon2.low_level import Type, hash_secret_raw

    if params.time_cost < MIN_TIME_COST or params.memory_kib < MIN_MEMORY_KIB:
        raise BadInput("Key slot parameters are below the safe minimum; the key file was altered.")
    if (
        params.time_cost > MAX_TIME_COST
        or params.memory_kib > MAX_MEMORY_KIB
        or not 1 <= params.parallelism <= MAX_PARALLELISM
        or params.memory_kib < 8 * params.parallelism
    ):
        raise BadInput("Key slot parameters are out of range; the key file was altered.")
    return hash_secret_raw(
        secret=passphrase,
        salt=salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=KEY_BYTES,
        type=Type.ID,
    )


def calibrate(target_seconds: float = 0.4) -> KdfParams:
    """Choose Argon2id parameters so that one derivation costs about `target_seconds` here."""
    if fast_kdf_for_tests():
        return KdfParams(MIN_TIME_COST, MIN_MEMORY_KIB, 1)
    params = KdfParams(time_cost=2, memory_kib=64 * 1024, parallelism=2)
    salt = secrets.token_bytes(16)
    # Two rounds: the first measurement includes warm-up costs (page faults on fresh memory).
    for _ in range(2):
        start = time.perf_counter()
        argon2id(b"calibration", salt, params)
        elapsed = max(time.perf_counter() - start, 1e-3)
        # Time cost scales the work linearly; memory stays at 64 MiB, a sound floor.
        time_cost = max(2, min(40, round(params.time_cost * target_seconds / elapsed)))
        params = KdfParams(time_cost=time_cost, memory_kib=params.memory_kib, parallelism=2)
    return params


def hkdf(key: bytes, info: str, length: int = KEY_BYTES) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info.encode()).derive(key)


def wrap(kek: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = secrets.token_bytes(12)
    return nonce, AESGCM(kek).encrypt(nonce, plaintext, aad)


def unwrap(kek: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes | None:
    """Returns None when the tag does not verify (wrong passphrase or a damaged slot)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        return AESGCM(kek).decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        return None


def mac(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def mac_ok(key: bytes, message: bytes, expected: str) -> bool:
    return hmac.compare_digest(mac(key, message), expected)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


# Recovery keys: the data key itself in Crockford-style base32 with a checksum, printed in groups.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def encode_recovery_key(data_key: bytes) -> str:
    payload = data_key + hashlib.sha256(b"caseward-recovery" + data_key).digest()[:3]
    number = int.from_bytes(payload, "big")
    chars = []
    for _ in range((len(payload) * 8 + 4) // 5):
        chars.append(_ALPHABET[number & 31])
        number >>= 5
    text = "".join(reversed(chars))
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def decode_recovery_key(text: str) -> bytes:
    """Parse a recovery key as typed (case, spaces and dashes ignored; O→0, I/L→1)."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -\t\r\n")
    cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
    expected_len = ((KEY_BYTES + 3) * 8 + 4) // 5
    if len(cleaned) != expected_len or any(ch not in _ALPHABET for ch in cleaned):
        raise BadInput("The recovery key is not the right length or has characters it never uses.")
    number = 0
    for ch in cleaned:
        number = (number << 5) | _ALPHABET.index(ch)
    payload = number.to_bytes((expected_len * 5 + 7) // 8, "big")[-(KEY_BYTES + 3) :]
    key, check = payload[:KEY_BYTES], payload[KEY_BYTES:]
    if hashlib.sha256(b"caseward-recovery" + key).digest()[:3] != check:
        raise BadInput("The recovery key has a typing error (its checksum does not match).")
    return key
