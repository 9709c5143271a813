"""Hostile input to `caseward nominal add --from FILE.json`, generated with hypothesis.

Whatever the file holds (wrong types, unknown keys, huge or control-character text, nested
junk, a list of mixed items, bytes that are not UTF-8 or not JSON), the command must exit 0
or 5, never print a traceback or report a bug, and every refusal must name the field (or the
file) at fault. Bounded: a fixed number of examples, each one an in-process CLI run.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli import main
from app.domain.nominal import CONTRACT_KEYS, shown_key
from app.security.secrets import MemorySecretStore
from app.services.users import UserService
from app.services.vault import create_vault
from tests.conftest import PASSPHRASE

GOOD: dict[str, Any] = {
    "surname": "Evans", "forenames": "Bethan", "dob": "1988-02-03", "gender": "F",
    "pnc": "09/123456" + "ZABCDEFGHJKLMNPQRTUVWXY"[int("090123456") % 23],
    "status": "community", "force": "South Wales Police", "nominal_manager": "DC Eleri Cadwgan",
    "risk_level": "medium", "mappa_category": 4, "mappa_level": 2,
    "aliases": [{"surname": "Ifans", "forenames": "Beth", "dob": None}],
}
FIELDS = [k for k in CONTRACT_KEYS if k != "ref"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["", " ", "=1+1", "@SUM(A1)", "\x00\x07\r\n", "1990-02-30", "2990-01-01",
                     "01/02/1990", "99/1234567Z", "2001/0123456", "high", "custody",
                     "\u202egnp.exe", "Łukasz Wiśniewski", "😀" * 10, "x" * 5000]),
)
junk = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12)


@st.composite
def nominal_objects(draw: st.DrawFn) -> dict[str, Any]:
    """A good record with a few fields replaced by junk, removed, or joined by unknown keys."""
    record = dict(GOOD)
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=4, unique=True)):
        record[field] = draw(junk)
    for field in draw(st.lists(st.sampled_from(sorted(record)), max_size=2, unique=True)):
        record.pop(field, None)
    if draw(st.booleans()):
        record[draw(st.text(min_size=1, max_size=15))] = draw(junk)
    if draw(st.booleans()):
        record["aliases"] = draw(st.lists(st.one_of(
            st.fixed_dictionaries({"surname": junk, "forenames": junk, "dob": junk}),
            junk), max_size=3))
    return record


payloads = st.one_of(
    nominal_objects(),
    st.lists(st.one_of(nominal_objects(), junk), min_size=0, max_size=4),
    junk,
)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path, Path]]:
    folder = tmp_path_factory.mktemp("fuzz")
    store = MemorySecretStore()
    path = folder / "fuzz.cwv"
    vault, _ = create_vault(path, "alice", PASSPHRASE, bind_to_terminal=False,
                            secret_store=store)
    UserService(vault).add_user("carol", "coordinator", PASSPHRASE)
    vault.lock()
    yield store, path, folder


def _run(store: Any, vault: Path, source: Path, monkeypatch: pytest.MonkeyPatch
         ) -> tuple[int, str, str]:
    monkeypatch.setenv("CASEWARD_PASSPHRASE", PASSPHRASE)
    out, err = io.StringIO(), io.StringIO()
    code = main(["nominal", "add", "--from", str(source), "--vault", str(vault), "--user",
                 "carol", "--json"], stdout=out, stderr=err, secret_store=store)
    return code, out.getvalue(), err.getvalue()


def _keys(value: Any) -> set[str]:
    """Every key anywhere in the input, as an error names it (an unknown key escaped and cut
    short by shown_key, so that its control characters never reach the terminal)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            found.add(shown_key(k))
            found |= _keys(v)
    elif isinstance(value, list):
        for v in value:
            found |= _keys(v)
    return found


_FIELD = re.compile(r"^caseward: (nominals(?:\[\d+\])?\.?|nominal\b|aliases\[\d+\]\.?)?(.*)$",
                    re.S)


def _check_refusal(code: int, out: str, err: str, payload: Any, source: Path) -> None:
    assert code in (0, 5), (code, err[-500:])
    assert "Traceback" not in err and "this is a bug" not in err, err[-500:]
    if code == 0:
        assert re.fullmatch(r'\{"added": \[("NM-\d{6}"(, )?)*\]\}\n', out), out
        return
    assert out == "", "nothing on stdout when refused"
    assert "\x1b" not in err, "an escape sequence from the file reached the terminal"
    last = err.rstrip("\n").split("\n")[-1]
    match = _FIELD.match(last)
    assert match, last
    prefix, rest = match.group(1) or "", match.group(2)
    names = set(CONTRACT_KEYS) | _keys(payload) | {"surname", "forenames", "dob"}
    named = (
        prefix.startswith(("nominal", "aliases"))
        or any(rest.startswith(f"{name}:") or rest.startswith(f"{name}[") for name in names)
        or source.name in last
    )
    assert named, f"refusal names no field: {last[:200]!r}"


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(payload=payloads)
def test_hostile_json_is_refused_by_field(setup: tuple[Any, Path, Path], payload: Any,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    store, vault, folder = setup
    source = folder / "in.json"
    source.write_text(json.dumps(payload), encoding="utf-8")
    code, out, err = _run(store, vault, source, monkeypatch)
    _check_refusal(code, out, err, payload, source)


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.one_of(st.binary(max_size=200),
                     st.sampled_from([b"", b"{", b"[1,", b"\xff\xfe{}", b"{\"surname\": NaN}",
                                      b"[" * 5000, b"{\"a\":" * 3000 + b"1" + b"}" * 3000,
                                      b"\xef\xbb\xbf{}"])))
def test_hostile_bytes_are_refused(setup: tuple[Any, Path, Path], raw: bytes,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    store, vault, folder = setup
    source = folder / "raw.json"
    source.write_bytes(raw)
    code, out, err = _run(store, vault, source, monkeypatch)
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        payload = None
    _check_refusal(code, out, err, payload, source)
