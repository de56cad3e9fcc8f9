"""The sweep folder ``<out>/<timestamp>-sweep/``: its format, its one writer and its one reader.

It holds ``sweep.json`` (the settings and versions, written whole: a temp file renamed, so a
reader never sees half of it) and ``cells.jsonl``: per finished task one ``"kind": "seed"``
line per sigma_w^2, and once all seeds of a cell have a line, a ``"kind": "cell"`` line with
the mean over seeds and the spread (the last cell line of a cell wins: a failed seed retried by
``--resume`` adds a new one). Lines are appended whole; a reader takes only whole lines
(:class:`SweepReader`), so it may follow the folder while a sweep writes it.

Finished results are never destroyed. A resumed folder keeps every line: only a partial last
line (a writer killed mid-write) is cut, and only when the first new line is written; any
other damage refuses the resume and leaves the file as it is. One writer at a time: the writer
holds a lock on the folder (``flock``, released by the system when its holder dies).

The theory overlay (vgtui.core.theory): a cell is predicted to train when its depth is below
6 xi_c; it trains when its mean test accuracy is at least the sweep's threshold (50% by default,
the diagnosis' "learned") and no seed diverged.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import platform
import stat
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np

from vgtui import __version__
from vgtui.core.config import ConfigError
from vgtui.core.store.follow import FileFollower, open_regular
from vgtui.core.store.run_folder import (
    FolderName,
    RunWriteError,
    atomic_write_text,
    folder_order,
    new_run_dir,
)
from vgtui.core.sweep.lines import (
    SweepLines,
    cell_line,
    json_document,
    parse_line,
    parse_lines,
    seed_lines,
)
from vgtui.core.sweep.spec import CellKey, SweepSpec, Task
from vgtui.core.vocabulary import RunStatus

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock
    fcntl = None  # type: ignore[assignment]

SWEEP_FORMAT = 1
SWEEP_FILE = "sweep.json"
CELLS_FILE = "cells.jsonl"
LOCK_FILE = ".lock"
"""Locked (``flock``) by the folder's one writer."""
SWEEP_KIND = "sweep"
"""What a sweep folder's name says it is: ``<timestamp>-sweep[-N]``."""
MAX_SPEC_BYTES = 1 << 20
MAX_CELLS_BYTES = 1 << 30
"""Larger files are damage: a resume reads them whole (the largest grid's are far smaller)."""


def damaged(path: Path, what: str) -> ConfigError:
    return ConfigError(f"damaged sweep folder: {path} ({what})")


# -- reading: whole lines only, so a folder can be followed while it is written ----------------


def _read_bytes(path: Path, limit: int) -> bytes | None:
    """A regular file's bytes, None if it is missing; ConfigError if it is not a regular
    file (a FIFO is never waited on), cannot be read or is larger than ``limit``."""
    try:
        with open_regular(path) as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ConfigError(f"{path}: unreadable ({error.strerror or error})") from None
    if len(data) > limit:
        raise damaged(path.parent, f"{path.name} is larger than {limit} bytes")
    return data


def read_spec(path: Path) -> SweepSpec:
    """The settings in a sweep folder's sweep.json; ConfigError if it is not one."""
    path = Path(path)
    data = _read_bytes(path / SWEEP_FILE, MAX_SPEC_BYTES)
    if data is None:
        raise ConfigError(f"{path}: not a sweep folder (no {SWEEP_FILE})")
    document, damage = json_document(data)
    if damage is None and not isinstance(document, dict):
        damage = "not a JSON object"
    if damage is not None:
        raise damaged(path, f"{SWEEP_FILE}: {damage}")
    version = document.get("format")
    if version != SWEEP_FORMAT or isinstance(version, bool):
        raise damaged(
            path, f"{SWEEP_FILE} is format {str(version)[:20]}; this vgtui reads {SWEEP_FORMAT}"
        )
    if not isinstance(document.get("sweep"), dict):
        raise damaged(path, f"{SWEEP_FILE}: no sweep settings")
    try:
        return SweepSpec.from_dict(document["sweep"])
    except ConfigError as error:
        raise damaged(path, f"{SWEEP_FILE}: {error}") from None


def read_all_lines(path: Path) -> tuple[list[dict], int]:
    """Every whole line of a sweep folder's cells.jsonl, and where they end (a partial last
    line, a writer killed mid-write, starts there). ConfigError naming the first damaged
    line: a resume must neither go on nor drop it."""
    path = Path(path)
    data = _read_bytes(path / CELLS_FILE, MAX_CELLS_BYTES) or b""
    end = data.rfind(b"\n") + 1
    lines = []
    for number, raw in enumerate(data[: end - 1].split(b"\n") if end else [], start=1):
        line, damage = parse_line(raw)
        if line is None:
            raise damaged(path, f"{CELLS_FILE} line {number}: {damage}; nothing was changed")
        lines.append(line)
    return lines, end


class SweepReader:
    """The one reader of a sweep folder, never written to: its settings once, then at each
    :meth:`read` only the whole lines appended to cells.jsonl since the last one (a
    :class:`~vgtui.core.store.follow.FileFollower`), so a follower polling it costs one
    ``stat`` when nothing changed."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.spec: SweepSpec | None = None
        self.cells = FileFollower(self.path / CELLS_FILE)

    def read_spec(self) -> SweepSpec:
        """The sweep's settings (read once); ConfigError if sweep.json is missing or malformed."""
        if self.spec is None:
            self.spec = read_spec(self.path)
        return self.spec

    def read(self) -> tuple[list[dict], bool]:
        """The lines appended since the last call, and whether the file was replaced or cut
        (then these are all its lines, from the start)."""
        try:
            raw_lines, reset = self.cells.read()
        except OSError as error:
            raise ConfigError(f"{self.cells.path}: unreadable ({error})") from None
        return parse_lines(raw_lines), reset


def read_cells(path: Path) -> list[dict]:
    """Every whole line of a sweep folder's cells.jsonl (what the CLI, resume and tests read)."""
    return SweepReader(path).read()[0]


def sweep_folders(out_root: Path) -> list[Path]:
    """The sweep folders under ``out_root`` (``<timestamp>-sweep[-N]`` with a sweep.json),
    oldest first: ordered by their names, which the writer makes from the time it started."""
    try:
        entries = list(Path(out_root).iterdir())
    except OSError:
        return []
    found = []
    for entry in entries:
        name = FolderName.parse(entry.name)
        if name and name.kind == SWEEP_KIND and (entry / SWEEP_FILE).is_file():
            found.append(entry)
    return sorted(found, key=lambda path: folder_order(path.name))


def newest_sweep(out_root: Path) -> Path | None:
    folders = sweep_folders(out_root)
    return folders[-1] if folders else None


# -- writing -----------------------------------------------------------------------------------


def versions() -> dict:
    found = {"vgtui": __version__, "python": platform.python_version(), "numpy": np.__version__}
    for name in ("dask", "distributed"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        found[name] = getattr(module, "__version__", "?")
    return found


class SweepFolder:
    """The one writer of a sweep folder: ``sweep.json`` once, then lines appended to
    ``cells.jsonl`` whole. It holds the folder's lock until :meth:`close`."""

    def __init__(self, path: Path, spec: SweepSpec, lines: Iterable[dict], end: int = 0,
                 lock: BinaryIO | None = None) -> None:  # fmt: skip
        self.path = Path(path)
        self.spec = spec
        self.lines = SweepLines(lines)
        self._end = end
        """Where the next line goes: the end of the whole lines."""
        self._lock = lock
        """The open lock file: the lock lasts as long as it is open (or this object lives)."""
        self._file: BinaryIO | None = None

    @classmethod
    def create(cls, out_root: Path, spec: SweepSpec, extra: Mapping | None = None) -> SweepFolder:
        """A new folder under ``out_root``, locked; OSError if it cannot be written (then
        nothing of it is left)."""
        path = new_run_dir(Path(out_root), SWEEP_KIND)
        document = {
            "format": SWEEP_FORMAT,
            "kind": "sweep",
            "sweep": spec.to_dict(),
            "created": datetime.now().isoformat(timespec="seconds"),
            "versions": versions(),
            "tasks": len(spec.tasks()),
            "cells": spec.cell_count,
            **(extra or {}),
        }
        lock = None
        try:
            lock = _lock(path)
            (path / CELLS_FILE).touch()  # first: a folder with a sweep.json is complete
            atomic_write_text(path / SWEEP_FILE, json.dumps(document, indent=2) + "\n")
        except BaseException:
            for name in (CELLS_FILE, LOCK_FILE):
                with contextlib.suppress(OSError):
                    (path / name).unlink()
            with contextlib.suppress(OSError):
                path.rmdir()
            _unlock(lock)
            raise
        return cls(path, spec, [], 0, lock)

    @classmethod
    def open(cls, path: Path) -> SweepFolder:
        """An existing sweep folder to write on: locked, its settings and every line read.
        ConfigError if it is not one, is damaged (nothing is changed) or has another writer."""
        path = Path(path)
        if not path.is_dir():
            raise ConfigError(f"{path}: not a sweep folder (no such folder)")
        try:
            lock = _lock(path)
        except OSError as error:
            raise ConfigError(f"{path}: cannot lock it ({error.strerror or error})") from None
        try:
            spec = read_spec(path)
            lines, end = read_all_lines(path)
        except BaseException:
            _unlock(lock)
            raise
        return cls(path, spec, lines, end, lock)

    def append(self, lines: Iterable[dict]) -> None:
        """Write ``lines`` whole after the whole lines (the first write cuts a partial last
        line). RunWriteError if they cannot be written or the folder was deleted; the file
        then ends with whole lines again, as far as the system allows."""
        lines = list(lines)
        data = "".join(json.dumps(line) + "\n" for line in lines).encode("utf-8")
        file = self.path / CELLS_FILE
        try:
            fd = self._open().fileno()
            try:
                os.lseek(fd, self._end, os.SEEK_SET)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, self._end)
                raise
            _check_present(file, fd)
        except OSError as error:
            raise RunWriteError(file, error) from None
        self._end += len(data)
        self.lines.add(lines)

    def _open(self) -> BinaryIO:
        if self._file is None:
            fd = os.open(self.path / CELLS_FILE, os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK, 0o644)
            try:
                status = os.fstat(fd)
                if not stat.S_ISREG(status.st_mode):
                    raise OSError(errno.EINVAL, "not a regular file")
                if status.st_size > self._end:
                    os.ftruncate(fd, self._end)  # a partial last line: a writer killed mid-write
            except BaseException:
                os.close(fd)
                raise
            self._file = os.fdopen(fd, "wb", buffering=0)
        return self._file

    def close(self) -> None:
        """Close cells.jsonl and release the folder's lock."""
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        _unlock(self._lock)
        self._lock = None

    def finished_tasks(self) -> set[Task]:
        """Tasks whose every sigma_w^2 of the sweep has a ``done`` seed line (each counted
        once, however many lines it has)."""
        seeds = self.lines.seeds
        return {
            task
            for task in self.spec.tasks()
            if all(
                seeds.get((task.lane, task.depth, w), {}).get(task.seed, {}).get("status")
                == RunStatus.DONE
                for w in self.spec.weight_variances
            )
        }

    def seed_results(self, lane: str, depth: int) -> dict[float, dict[int, dict]]:
        """The latest seed line of each (sigma_w^2, seed) of one (lane, depth)."""
        return {
            w: dict(seeds)
            for (a, d, w), seeds in self.lines.seeds.items()
            if a == lane and d == depth
        }

    def add_task(self, task: Task, result: dict | None, error: str | None) -> list[dict]:
        """Append a finished task's seed lines and, once every seed of its (lane, depth)
        has a line, its cell lines, in one write; return the cell lines."""
        seeds = seed_lines(self.spec, task, result, error)
        cells = self._cells_of(task.lane, task.depth, seeds)
        self.append(seeds + cells)
        return cells

    def _cells_of(self, lane: str, depth: int, new: Sequence[dict] = ()) -> list[dict]:
        found = self.seed_results(lane, depth)
        for line in new:
            found.setdefault(line["weight_variance"], {})[line["seed"]] = line
        seeds = range(self.spec.seeds)
        if any(s not in found.get(w, {}) for w in self.spec.weight_variances for s in seeds):
            return []
        return [
            cell_line(self.spec, lane, depth, w, [found[w][s] for s in seeds])
            for w in self.spec.weight_variances
        ]

    def complete_cells(self) -> None:
        """Append the cell lines a writer stopped before writing (every seed done, no cell)."""
        have = self.cells()
        for lane in self.spec.lanes:
            for depth in self.spec.depths:
                if any((lane, depth, w) not in have for w in self.spec.weight_variances):
                    cells = self._cells_of(lane, depth)
                    if cells:
                        self.append(cells)

    def cells(self) -> dict[CellKey, dict]:
        """The last cell line of each cell."""
        return dict(self.lines.cells)


def _check_present(file: Path, fd: int) -> None:
    """OSError if the file written through ``fd`` is no longer at ``file`` (its folder deleted
    or moved): every later line would go to a file nobody can read."""
    status = os.fstat(fd)
    try:
        named = os.stat(file)
    except FileNotFoundError:
        named = None
    same = named is not None and (named.st_dev, named.st_ino) == (status.st_dev, status.st_ino)
    if status.st_nlink == 0 or not same:
        raise OSError(errno.ENOENT, "the sweep folder was deleted or moved")


def _lock(path: Path) -> BinaryIO | None:
    """The folder's lock, taken (its open file); ConfigError if another process holds it.
    The system releases it when the file is closed or its holder dies, however it dies."""
    if fcntl is None:  # pragma: no cover - not POSIX
        return None
    fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK | os.O_NOFOLLOW, 0o644)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, f"{LOCK_FILE} is not a regular file")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(f"{path}: another vgtui sweep is writing it") from None
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb", buffering=0)


def _unlock(lock: BinaryIO | None) -> None:
    if lock is not None:
        with contextlib.suppress(OSError):
            lock.close()  # the last descriptor closed releases the lock


__all__ = [
    "CELLS_FILE",
    "LOCK_FILE",
    "SWEEP_FILE",
    "SweepFolder",
    "SweepReader",
    "newest_sweep",
    "read_all_lines",
    "read_cells",
    "read_spec",
    "sweep_folders",
]
