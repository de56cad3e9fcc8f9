"""Reading run folders back: finished, still being written, or written by an older vgtui.

Reading never writes to a run folder and never blocks its writer: records.jsonl is read up to
its last complete line (a line still being written is left for the next look), summary.json
appears, atomically, only when the writer has finished. Folders of format 1 (no records.jsonl)
are read from metrics.csv. Anything missing, partial or foreign is a :class:`RunFolderError`
whose message names the file and what is wrong.
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from vgtui.core.config import ConfigError, RunConfig
from vgtui.core.records import MetricRecord
from vgtui.core.store.follow import FileFollower, open_regular
from vgtui.core.store.run_folder import FORMAT_VERSION, RECORDS_FILE, folder_order
from vgtui.core.summary import SetupSummary, summarize
from vgtui.core.vocabulary import RunPhase, RunStatus, SetupStatus

CONFIG_FILE = "config.json"
SUMMARY_FILE = "summary.json"
METRICS_FILE = "metrics.csv"


class RunFolderError(Exception):
    """A run folder that cannot be read; the message names the file and the problem."""


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

    @property
    def summaries(self) -> list[SetupSummary]:
        return summarize(self.records, self.config.setup_names)

    @property
    def diverged(self) -> list[str]:
        return [s.setup for s in self.summaries if s.status == SetupStatus.DIVERGED]

    @property
    def status_text(self) -> str:
        """Its status and how many setups diverged: ``done, 1 diverged``."""
        diverged = len(self.diverged)
        return f"{self.status}, {diverged} diverged" if diverged else str(self.status)

    @property
    def finished(self) -> bool:
        """No more records will come."""
        return self.status != RunPhase.RUNNING


def read_run(path: Path | str) -> SavedRun:
    """Read the run folder at ``path`` (RunFolderError if it is not a readable run)."""
    return RunFollower(path).read()


class RunFollower:
    """A run folder read again and again while it is written: config.json once, then at each
    :meth:`read` only the records appended to records.jsonl since the last, so following a
    long run parses each record once."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.lines = FileFollower(self.path / RECORDS_FILE)
        self._records: list[MetricRecord] = []
        self._head: tuple[dict, int, RunConfig, str, str] | None = None

    def read(self) -> SavedRun:
        """The run as it is now (RunFolderError if it is not a readable run)."""
        path = self.path
        document, version, config, dataset, started = self._read_head()
        records = self._read_records()
        summary_path = path / SUMMARY_FILE
        if summary_path.exists():
            summary = _read_json(summary_path, what="run summary")
            try:
                status: RunStatus | RunPhase = RunStatus(summary["status"])
                wall = float(summary.get("wall_seconds") or 0.0)
                trained = int(summary.get("iterations_done") or 0)
            except (KeyError, TypeError, ValueError) as error:
                raise RunFolderError(f"{summary_path}: not a vgtui run summary ({error})") from None
        else:
            status = RunPhase.RUNNING if writer_alive(document.get("writer")) else RunStatus.DIED
            wall = records[-1].seconds if records else 0.0
            trained = 0
        done = max([trained, *(r.iteration for r in records)])
        return SavedRun(path, version, config, dataset, started, records, status, wall, done)

    def _read_head(self) -> tuple[dict, int, RunConfig, str, str]:
        """config.json, read once: the writer writes it, atomically, before any record."""
        if self._head is not None:
            return self._head
        path = self.path
        if not path.is_dir():
            raise RunFolderError(f"{path}: not a run folder (no such folder)")
        document = _read_json(path / CONFIG_FILE, what="run configuration")
        try:
            config = RunConfig.from_dict(document["config"])
            dataset = str(document.get("dataset", "?"))
            started = str(document.get("started", ""))
            version = int(document.get("format", 1))
        except (KeyError, TypeError, ValueError, ConfigError) as error:
            raise RunFolderError(
                f"{path / CONFIG_FILE}: not a vgtui run configuration ({error})"
            ) from None
        if version > FORMAT_VERSION:
            raise RunFolderError(
                f"{path / CONFIG_FILE}: format {version} is newer than this vgtui reads "
                f"({FORMAT_VERSION}): update vgtui"
            )
        self._head = (document, version, config, dataset, started)
        return self._head

    def _read_records(self) -> tuple[MetricRecord, ...]:
        """records.jsonl's whole lines (only the new ones parsed); metrics.csv in a folder of
        format 1; none before the writer recorded anything."""
        if (self.path / RECORDS_FILE).exists():
            return self._follow_jsonl()
        metrics = self.path / METRICS_FILE
        if metrics.exists():
            return tuple(_read_csv(metrics))
        return ()

    def _follow_jsonl(self) -> tuple[MetricRecord, ...]:
        path = self.lines.path
        try:
            lines, reset = self.lines.read()
        except OSError as error:
            raise RunFolderError(f"{path}: cannot read ({error.strerror or error})") from None
        if reset:
            self._records = []
        for line in lines:
            try:
                self._records.append(MetricRecord.from_dict(json.loads(line)))
            except (ValueError, KeyError, TypeError, AttributeError):
                number = len(self._records) + 1
                self._records = []
                self.lines = FileFollower(path)  # read again from the start next time
                raise RunFolderError(f"{path}: line {number} is not a vgtui record") from None
        return tuple(self._records)


def writer_alive(writer: object) -> bool:
    """Whether the process that writes a run folder is still running (on this machine; a
    folder written elsewhere counts as alive: it cannot be checked from here)."""
    if not isinstance(writer, dict):
        return False
    if writer.get("host") != socket.gethostname():
        return True
    try:
        pid = int(writer["pid"])
        os.kill(pid, 0)
    except (KeyError, TypeError, ValueError, ProcessLookupError):
        return False
    except PermissionError:  # someone else's process with that number
        return True
    return True


def find_runs(root: Path | str) -> list[Path]:
    """The run folders directly under ``root`` (those with a config.json), newest first (run
    folder names start with their start time)."""
    root = Path(root)
    if not root.is_dir():
        raise RunFolderError(f"{root}: no such folder")
    found = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    runs = (p for p in found if (p / CONFIG_FILE).exists())
    return sorted(runs, key=lambda p: folder_order(p.name), reverse=True)


def read_runs(paths: Iterable[Path]) -> list[SavedRun | RunFolderError]:
    """Each folder read, or the error that says why it could not be."""
    results: list[SavedRun | RunFolderError] = []
    for path in paths:
        try:
            results.append(read_run(path))
        except RunFolderError as error:
            results.append(error)
    return results


def _read_json(path: Path, what: str) -> dict:
    try:
        with open_regular(path) as handle:
            text = handle.read().decode("utf-8")
    except FileNotFoundError:
        raise RunFolderError(f"{path}: missing ({what})") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RunFolderError(f"{path}: cannot read ({error})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise RunFolderError(f"{path}: not valid JSON ({error.msg}, line {error.lineno})") from None
    if not isinstance(document, dict):
        raise RunFolderError(f"{path}: not a vgtui {what}")
    return document


def _read_csv(path: Path) -> list[MetricRecord]:
    try:
        with io.TextIOWrapper(open_regular(path), encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise RunFolderError(f"{path}: cannot read ({error})") from None
    records = []
    for number, row in enumerate(rows, start=2):
        try:
            records.append(MetricRecord.from_dict(row))
        except (ValueError, KeyError, TypeError):
            raise RunFolderError(f"{path}: line {number} is not a vgtui metrics row") from None
    return records
