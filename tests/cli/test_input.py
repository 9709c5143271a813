"""`--from FILE` for the `add` sub-commands (app/commands/_input.py): one object or a list, and
every problem bad input (exit 5) naming the file or the field, never the file's content."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.commands._input import read_items, read_json
from app.domain.errors import BadInput, ValidationError


def _echo(obj: Any, where: str) -> tuple[str, Any]:
    if not isinstance(obj, dict):
        raise ValidationError(where.rstrip(".") or "record", "must be a JSON object")
    return where, obj


def _file(tmp_path: Path, text: str | bytes, name: str = "in.json") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_one_object_or_a_list_each_with_its_prefix(tmp_path: Path) -> None:
    one = _file(tmp_path, '{"a": 1}', "one.json")
    assert read_items(str(one), _echo, what="things") == [("", {"a": 1})]
    many = _file(tmp_path, '[{"a": 1}, {"b": 2}]', "many.json")
    assert read_items(str(many), _echo, what="things") == [("[0].", {"a": 1}),
                                                            ("[1].", {"b": 2})]
    with pytest.raises(ValidationError) as bad:
        read_items(str(_file(tmp_path, '[{"a": 1}, 7]')), _echo, what="things")
    assert bad.value.field == "[1]"


def test_an_empty_list_names_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as exc:
        read_items(str(_file(tmp_path, "[]")), _echo, what="meetings")
    assert (exc.value.field, exc.value.message) == ("meetings", "the file holds an empty list")


@pytest.mark.parametrize(("content", "words"), [
    (b"\xff\xfe{}", "is not UTF-8 text"),
    ('{"a": 1,,}', "is not valid JSON (line 1, column 9)"),
    ("[" * 100_000 + "]" * 100_000, "is nested too deeply to be a meeting"),
])
def test_unreadable_files_are_bad_input_naming_the_file(tmp_path: Path, content: str | bytes,
                                                        words: str) -> None:
    path = _file(tmp_path, content, "secret-list.json")
    with pytest.raises(BadInput) as exc:
        read_items(str(path), _echo, what="meetings", record="a meeting")
    assert exc.value.exit_code == 5
    assert str(exc.value) == f"secret-list.json {words}."


def test_missing_and_oversized_files(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=r"^Cannot read gone\.json \(No such file"):
        read_json(tmp_path / "gone.json")
    big = _file(tmp_path, '{"notes": "' + "x" * (2 * 1024 * 1024) + '"}', "big.json")
    with pytest.raises(BadInput, match=r"^big\.json is larger than 1 MB\.$"):
        read_json(big, max_bytes=1024 * 1024)
    assert read_json(big)["notes"] == "x" * (2 * 1024 * 1024)  # under the 20 MB default


def test_return_period_defaults_to_twelve_months_from_the_first_of_a_month() -> None:
    import argparse
    from datetime import date

    from app.commands._input import return_period

    def period(date_from: str | None, date_to: str | None) -> tuple[date, date]:
        return return_period(argparse.Namespace(date_from=date_from, date_to=date_to))

    assert period(None, "2026-02-15") == (date(2025, 3, 1), date(2026, 2, 15))
    assert period(None, "2024-02-29") == (date(2023, 3, 1), date(2024, 2, 29))
    assert period(None, "2026-01-31") == (date(2025, 2, 1), date(2026, 1, 31))
    assert period(None, "2026-03-01") == (date(2025, 4, 1), date(2026, 3, 1))
    assert period(None, "2026-12-31") == (date(2026, 1, 1), date(2026, 12, 31))
    for month in range(1, 13):  # every month: twelve calendar months, the end's included
        start, end = period(None, f"2026-{month:02d}-10")
        assert start.day == 1
        assert (end.year - start.year) * 12 + end.month - start.month == 11
    assert period("2026-01-15", "2026-02-01") == (date(2026, 1, 15), date(2026, 2, 1))
    with pytest.raises(ValidationError) as bad:
        period("15/01/2026", None)
    assert bad.value.field == "from"
