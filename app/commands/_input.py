"""Input the sub-commands share: `--from FILE` for the `add` commands (one JSON object or a list
of them) and the period of a return (`export RETURN --from DATE --to DATE`).

Every problem is bad input (exit 5) and names the file, never its content; a problem in one
record names its field, prefixed with `[i].` when the file holds a list."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from app.cli import parse_date
from app.domain.errors import BadInput, ValidationError

T = TypeVar("T")

MAX_FILE_BYTES = 20 * 1024 * 1024


def read_json(path: Path, *, max_bytes: int = MAX_FILE_BYTES,
              record: str = "a record") -> Any:
    """The JSON value in ``path``. ``record`` names what one item is, for the message about a
    file nested too deeply to be one."""
    try:
        if path.stat().st_size > max_bytes:
            raise BadInput(f"{path.name} is larger than {max_bytes // (1024 * 1024)} MB.")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"Cannot read {path.name} ({exc.strerror}).") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path.name} is not UTF-8 text.") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path.name} is not valid JSON (line {exc.lineno}, column "
                       f"{exc.colno}).") from None
    except RecursionError:
        raise BadInput(f"{path.name} is nested too deeply to be {record}.") from None


def read_items(path: str, parse: Callable[[Any, str], T], *, what: str,
               record: str = "a record") -> list[T]:
    """Each record in the file at ``path`` (one object or a list), checked by
    ``parse(obj, where)``; ``where`` is the prefix of field names ("" or "[i]."). An empty
    list is refused, naming ``what`` (the plural, e.g. "meetings")."""
    data = read_json(Path(path).expanduser(), record=record)
    items = data if isinstance(data, list) else [data]
    if not items:
        raise ValidationError(what, "the file holds an empty list")
    return [parse(obj, f"[{i}]." if isinstance(data, list) else "")
            for i, obj in enumerate(items)]


def return_period(args: argparse.Namespace) -> tuple[date, date]:
    """(start, end) of a return from `--from` / `--to`: by default the twelve months up to the
    end (today when `--to` is not given), from the first of a month."""
    end = parse_date(args.date_to, "to") if args.date_to else date.today()
    if args.date_from:
        start = parse_date(args.date_from, "from")
    else:
        months = end.year * 12 + end.month - 1 - 11  # the eleventh month before the end's
        start = date(months // 12, months % 12 + 1, 1)
    return start, end
