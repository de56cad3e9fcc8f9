"""Reading files that another process (or another person) wrote: run folders and sweep folders
are untrusted input. One reader for all of them: regular files only (a FIFO or a device is
refused, never opened for long), a size cap, a line-length cap, a nesting-depth cap, and
numbers that JSON allows but no vgtui writer writes (NaN, Infinity, 1e999, integers of
thousands of digits) refused. Every problem is a :class:`DamagedFileError` naming the file.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator
from itertools import accumulate
from pathlib import Path

from vgtui.core.store.follow import open_regular

MAX_DOCUMENT_BYTES = 16 * 2**20
"""config.json, summary.json, sweep.json: a few kilobytes when vgtui wrote them."""
MAX_LINE_BYTES = 2**20
"""One line of records.jsonl or cells.jsonl: a few kilobytes when vgtui wrote it."""
MAX_DEPTH = 32
"""Nesting of JSON arrays and objects: vgtui writes 4 levels at most."""
MAX_INTEGER_DIGITS = 18
"""Digits of a JSON integer: vgtui's counts fit in 64 bits."""
_BRACKETS_CHECKED = 4 * MAX_DEPTH
"""Lines with fewer brackets than this cannot be too deep: the exact check is skipped."""


class DamagedFileError(Exception):
    """A file that cannot be read as what it should be: ``path`` and what is wrong."""

    def __init__(self, path: Path | str, problem: str) -> None:
        super().__init__(path, problem)
        self.path = Path(path)
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.path} ({self.problem})"


class _Refused(ValueError):
    """A value the JSON parser met that vgtui never writes."""


def _refuse_constant(name: str) -> float:
    raise _Refused(f"not a finite number: {name}")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"number out of range: {text[:20]}")
    return value


def _small_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise _Refused(f"integer out of range: {text[:20]}...")
    return int(text)


_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_OUT_OF_RANGE = re.compile(rb"[0-9]{%d}|[eE]\+?0*[0-9]{3}" % (MAX_INTEGER_DIGITS + 1))
"""Where a number may be too large: a long run of digits, or an exponent of 3 digits."""
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")


def nesting_depth(data: bytes) -> int:
    """How deep JSON arrays and objects nest in ``data`` (brackets inside strings ignored)."""
    if data.count(b"[") + data.count(b"{") < _BRACKETS_CHECKED:
        return min(data.count(b"[") + data.count(b"{"), MAX_DEPTH)
    brackets = _STRINGS.sub(b"", data).translate(None, _NOT_BRACKETS)
    return max(accumulate((1 if c in b"[{" else -1 for c in brackets), initial=0))


def parse_json(data: bytes) -> object:
    """One JSON value from ``data`` as vgtui writes it; ValueError with a short reason if it
    is not valid JSON, nests too deep, or holds a number vgtui would not write."""
    if nesting_depth(data) > MAX_DEPTH:
        raise ValueError(f"nested more than {MAX_DEPTH} deep")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 at byte {error.start}") from None
    checks = {"parse_float": _finite_float, "parse_int": _small_int}
    try:
        if not _OUT_OF_RANGE.search(data):  # the common case: no number to look at closer
            checks = {}
        return json.loads(text, parse_constant=_refuse_constant, **checks)
    except _Refused as error:
        raise ValueError(str(error)) from None
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON: {error.msg}, line {error.lineno}") from None
    except RecursionError:
        raise ValueError(f"nested more than {MAX_DEPTH} deep") from None


def read_bytes(path: Path, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """The bytes of the regular file at ``path``, refused beyond ``limit``. FileNotFoundError
    passes through; any other problem is a DamagedFileError."""
    try:
        with open_regular(path) as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise
    except OSError as error:
        raise DamagedFileError(path, f"cannot read: {error.strerror or error}") from None
    if len(data) > limit:
        raise DamagedFileError(path, f"larger than {limit // 2**20} MB")
    return data


def read_document(path: Path, what: str) -> dict:
    """The JSON object in the file at ``path`` (``what`` it should be, for the message)."""
    try:
        data = read_bytes(path)
    except FileNotFoundError:
        raise DamagedFileError(path, f"missing {what}") from None
    try:
        document = parse_json(data)
    except ValueError as error:
        raise DamagedFileError(path, str(error)) from None
    if not isinstance(document, dict):
        raise DamagedFileError(path, f"not a vgtui {what}")
    return document


def parse_line(path: Path, number: int, line: bytes) -> object:
    """Line ``number`` of a JSON-lines file, parsed (DamagedFileError naming the line)."""
    if len(line) > MAX_LINE_BYTES:
        raise DamagedFileError(path, f"line {number} is longer than {MAX_LINE_BYTES} bytes")
    try:
        return parse_json(line)
    except ValueError as error:
        raise DamagedFileError(path, f"line {number}: {error}") from None


def csv_rows(path: Path, max_rows: int) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of the CSV file at ``path`` with their line numbers, read as they come (never
    the whole file at once), at most ``max_rows`` (csv's own cap bounds a field's length)."""
    try:
        handle = io.TextIOWrapper(open_regular(path), encoding="utf-8", newline="")
    except OSError as error:
        raise DamagedFileError(path, f"cannot read: {error.strerror or error}") from None
    try:
        with handle:
            for number, row in enumerate(csv.DictReader(handle), start=2):
                if number - 1 > max_rows:
                    raise DamagedFileError(path, f"more than {max_rows} rows")
                yield number, row
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DamagedFileError(path, f"cannot read: {error}") from None
