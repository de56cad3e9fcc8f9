"""Reading run folders back: finished, still being written, or written by an older vgtui.

Reading never writes to a run folder and never blocks its writer: records.jsonl is read up to
its last complete line (a line still being written is left for the next look), summary.json
appears, atomically, only when the writer has finished. Folders of format 1 (no records.jsonl)
are read from metrics.csv. Anything missing, partial or foreign is a :class:`RunFolderError`
whose message names the file and what is wrong.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from vgtui.core.config import ConfigError, RunConfig
from vgtui.core.records import MetricRecord
from vgtui.core.safe_text import safe_text
from vgtui.core.store.follow import FileFollower
from vgtui.core.store.run_checks import RecordCheck, checked_summary, records_at_most
from vgtui.core.store.run_folder import FORMAT_VERSION, RECORDS_FILE
from vgtui.core.store.untrusted import (
    MAX_LINE_BYTES,
    DamagedFileError,
    csv_rows,
    parse_line,
    read_document,
)
from vgtui.core.store.writer_check import writer_alive
from vgtui.core.summary import SetupSummary, diverged_setups, status_text, summarize
from vgtui.core.vocabulary import RunPhase, RunStatus

CONFIG_FILE = "config.json"
SUMMARY_FILE = "summary.json"
METRICS_FILE = "metrics.csv"
MAX_RECORDS_BYTES = 2**30
"""records.jsonl at most: 1 GB (a default run writes 400 kB)."""
READ_CHUNK_BYTES = 8 * 2**20
"""records.jsonl is read this much at a time, with progress in between."""
Progress = Callable[[Path, int, int], None]
"""Told (file, bytes read, bytes in all) while a large file is read."""


class RunFolderError(DamagedFileError):
    """A run folder that cannot be read: the file and what is wrong with it. ``damaged``
    False: there is no run folder there at all."""

    def __init__(self, path: Path | str, problem: str, *, damaged: bool = True) -> None:
        super().__init__(path, problem)
        self.damaged = damaged

    def __str__(self) -> str:
        if self.damaged:
            return f"damaged run folder: {self.path} ({self.problem})"
        return f"{self.path}: {self.problem}"

    @classmethod
    def of(cls, error: DamagedFileError) -> RunFolderError:
        return cls(error.path, error.problem)


@dataclass(frozen=True)
class SavedRun:
    """A run folder as read at one moment."""

    path: Path
    format: int
    config: RunConfig
    dataset: str
    started: str
    records: tuple[MetricRecord, ...]
    status: RunStatus | RunPhase
    """How the run ended, ``running`` while its writer is alive, ``died`` if it is gone."""
    wall_seconds: float
    iterations_done: int
    """Iterations trained (summary.json's count; while running, the last recorded)."""

    @property
    def name(self) -> str:
        return self.path.name

    @cached_property
    def summaries(self) -> list[SetupSummary]:
        """Summarised once per reading (records never change in a SavedRun; a follower's next
        read is a new one): status_text, diverged and the tables each asked for it again."""
        return summarize(self.records, self.config.setup_names)

    @property
    def diverged(self) -> list[str]:
        return diverged_setups(self.summaries)

    @property
    def status_text(self) -> str:
        """Its status and how many setups diverged: ``done, 1 diverged``."""
        return status_text(self.status, self.summaries)

    @property
    def finished(self) -> bool:
        """No more records will come."""
        return self.status != RunPhase.RUNNING


def read_run(path: Path | str, progress: Progress | None = None) -> SavedRun:
    """Read the run folder at ``path`` (RunFolderError if it is not a readable run)."""
    return RunFollower(path).read(progress)


@dataclass(frozen=True)
class RunHead:
    """config.json as read: what the writer wrote before any record."""

    document: dict
    format: int
    config: RunConfig
    dataset: str
    started: str


def read_head(path: Path) -> RunHead:
    """The run folder's config.json, checked (RunFolderError if it is not a run's)."""
    if not path.is_dir():
        raise RunFolderError(path, "no such run folder", damaged=False)
    config_path = path / CONFIG_FILE
    if not config_path.exists() and (leftover := interrupted_write(path, CONFIG_FILE)):
        raise RunFolderError(
            config_path, f"missing: its writer was stopped while writing it (left {leftover})"
        )
    try:
        document = read_document(config_path, "run configuration")
    except DamagedFileError as error:
        raise RunFolderError.of(error) from None
    try:
        config = RunConfig.from_dict(document["config"])
        version = document.get("format", 1)
        if type(version) is not int or version < 1:
            raise ValueError(f"format {version!r}")
    except (KeyError, TypeError, ValueError, ConfigError, OverflowError) as error:
        raise RunFolderError(
            config_path, f"not a vgtui run configuration: {safe_text(error, 100)}"
        ) from None
    if version > FORMAT_VERSION:
        raise RunFolderError(
            config_path,
            f"format {version} is newer than this vgtui reads ({FORMAT_VERSION}): update vgtui",
        )
    dataset = safe_text(document.get("dataset", "?"), 40)
    started = safe_text(document.get("started", ""), 40)
    return RunHead(document, version, config, dataset, started)


def interrupted_write(folder: Path, name: str) -> str | None:
    """The temporary file an atomic write of ``name`` left in ``folder`` when its writer was
    killed mid-write (``.config.json.x1y2.tmp``), if any."""
    prefix = f".{name}."
    try:
        with os.scandir(folder) as entries:
            return next(
                (e.name for e in entries if e.name.startswith(prefix) and e.name.endswith(".tmp")),
                None,
            )
    except OSError:
        return None


class RunFollower:
    """A run folder read again and again while it is written: config.json once, then at each
    :meth:`read` only the records appended to records.jsonl since the last, so following a
    long run parses each record once."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.lines = FileFollower(self.path / RECORDS_FILE)
        self._records: list[MetricRecord] = []
        self._head: RunHead | None = None
        self._check: RecordCheck | None = None

    def read(self, progress: Progress | None = None) -> SavedRun:
        """The run as it is now (RunFolderError if it is not a readable run); ``progress`` is
        told how far a large records file has been read."""
        path = self.path
        head = self._head = self._head or read_head(path)
        records = self._read_records(head.config, progress)
        summary_path = path / SUMMARY_FILE
        if summary_path.exists():
            try:
                summary = read_document(summary_path, "run summary")
                status, wall, trained = checked_summary(summary, head.config)
            except DamagedFileError as error:
                raise RunFolderError.of(error) from None
            except (KeyError, TypeError, ValueError) as error:
                raise RunFolderError(
                    summary_path, f"not a vgtui run summary: {safe_text(error, 100)}"
                ) from None
        else:
            writer = head.document.get("writer")
            alive = writer_alive(writer, head.started, path)
            status = RunPhase.RUNNING if alive else RunStatus.DIED
            wall = records[-1].seconds if records else 0.0
            trained = 0
        done = max([trained, *(r.iteration for r in records)])
        return SavedRun(
            path, head.format, head.config, head.dataset, head.started, records, status, wall,
            done,
        )  # fmt: skip

    def _read_records(
        self, config: RunConfig, progress: Progress | None
    ) -> tuple[MetricRecord, ...]:
        """records.jsonl's whole lines (only the new ones parsed); metrics.csv in a folder of
        format 1; none before the writer recorded anything."""
        if (self.path / RECORDS_FILE).exists():
            return self._follow_jsonl(config, progress)
        metrics = self.path / METRICS_FILE
        if metrics.exists():
            return tuple(_read_csv(metrics, config))
        return ()

    def _follow_jsonl(
        self, config: RunConfig, progress: Progress | None
    ) -> tuple[MetricRecord, ...]:
        path = self.lines.path
        try:
            size = path.stat().st_size
            if size > MAX_RECORDS_BYTES:
                raise RunFolderError(path, f"larger than {MAX_RECORDS_BYTES // 2**20} MB")
            while True:
                before = self.lines.offset
                lines, reset = self.lines.read(READ_CHUNK_BYTES)
                if reset:
                    self._records = []
                self._parse(lines, config)
                if self.lines.offset - self.lines.lines_end > MAX_LINE_BYTES:
                    raise RunFolderError(path, f"a line longer than {MAX_LINE_BYTES} bytes")
                if progress is not None and size > READ_CHUNK_BYTES:
                    progress(path, self.lines.offset, size)
                if self.lines.offset - (0 if reset else before) < READ_CHUNK_BYTES:
                    break
        except OSError as error:
            raise RunFolderError(path, f"cannot read: {error.strerror or error}") from None
        except RunFolderError:
            self._records = []
            self.lines = FileFollower(path)  # read again from the start next time
            raise
        return tuple(self._records)

    def _parse(self, lines: list[bytes], config: RunConfig) -> None:
        path = self.lines.path
        limit = records_at_most(config)
        check = self._check = self._check or RecordCheck(config)
        for line in lines:
            number = len(self._records) + 1
            if number > limit:
                raise RunFolderError(path, f"more than the {limit} records its run can write")
            try:
                self._records.append(check(parse_line(path, number, line)))
            except DamagedFileError as error:
                raise RunFolderError.of(error) from None
            except ValueError as error:
                raise RunFolderError(path, f"line {number}: {error}") from None


def _read_csv(path: Path, config: RunConfig) -> list[MetricRecord]:
    """A format-1 folder's metrics.csv, row by row (never the whole file in memory)."""
    records = []
    check = RecordCheck(config)
    try:
        for number, row in csv_rows(path, records_at_most(config)):
            try:
                records.append(check(row))
            except ValueError:
                raise RunFolderError(path, f"line {number} is not a vgtui metrics row") from None
    except DamagedFileError as error:
        raise RunFolderError.of(error) from None
    return records
