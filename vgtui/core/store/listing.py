"""Listing the run folders under a folder (``vgtui runs``, the app's Runs screen): each run
read only as far as a listing needs, its config.json and summary.json, one at a time, so 5,000
runs are listed in seconds and in the memory of one. A run without a summary (still being
written, or its writer died) has its records read, summarised and let go."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from vgtui.core.config import RunConfig
from vgtui.core.store.run_checks import checked_summary, summary_setups
from vgtui.core.store.run_folder import folder_order
from vgtui.core.store.saved_runs import (
    CONFIG_FILE,
    SUMMARY_FILE,
    RunFolderError,
    RunFollower,
    interrupted_write,
    read_head,
)
from vgtui.core.store.untrusted import DamagedFileError, read_document
from vgtui.core.store.writer_check import writer_alive
from vgtui.core.summary import SetupSummary, diverged_setups, status_text
from vgtui.core.vocabulary import RunPhase, RunStatus

WRITTEN_ATOMICALLY = ("config.json", "summary.json", "metrics.csv", "layers.csv",
                      "activations.csv")  # fmt: skip
"""The files a run's writer replaces through a temporary file."""


@dataclass(frozen=True)
class RunListing:
    """What a listing shows of one run: no records."""

    path: Path
    config: RunConfig
    started: str
    status: RunStatus | RunPhase
    iterations_done: int
    summaries: tuple[SetupSummary, ...]

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def diverged(self) -> list[str]:
        return diverged_setups(self.summaries)

    @property
    def status_text(self) -> str:
        """Its status and how many setups diverged: ``done, 1 diverged``."""
        return status_text(self.status, self.summaries)


def find_runs(root: Path | str) -> list[Path]:
    """The run folders directly under ``root`` (those with a config.json, or the leftover of
    one whose writing was interrupted), newest first (their names start with their start
    time)."""
    root = Path(root)
    try:
        with os.scandir(root) as entries:
            found = [Path(e.path) for e in entries if not e.name.startswith(".") and e.is_dir()]
    except FileNotFoundError:
        raise RunFolderError(root, "no such folder", damaged=False) from None
    except OSError as error:
        problem = f"cannot read: {error.strerror or error}"
        raise RunFolderError(root, problem, damaged=False) from None

    def is_run(path: Path) -> bool:
        return (path / CONFIG_FILE).exists() or interrupted_write(path, CONFIG_FILE) is not None

    return sorted(filter(is_run, found), key=lambda p: folder_order(p.name), reverse=True)


def list_run(path: Path) -> RunListing:
    """One run as a listing shows it (RunFolderError if it cannot be read)."""
    head = read_head(path)
    summary_path = path / SUMMARY_FILE
    if not summary_path.exists():
        run = RunFollower(path).read()
        return RunListing(path, run.config, run.started, run.status, run.iterations_done,
                          tuple(run.summaries))  # fmt: skip
    try:
        summary = read_document(summary_path, "run summary")
        status, _, trained = checked_summary(summary, head.config)
        summaries = summary_setups(summary, head.config)
    except DamagedFileError as error:
        raise RunFolderError.of(error) from None
    except (KeyError, TypeError, ValueError) as error:
        raise RunFolderError(summary_path, f"not a vgtui run summary: {error}") from None
    remove_stale_temporaries(path, head.document.get("writer"), head.started)
    return RunListing(path, head.config, head.started, status, trained, summaries)


def list_runs(paths: Iterable[Path]) -> Iterator[RunListing | RunFolderError]:
    """Each folder as a listing shows it, or the error that says why it cannot be read; one
    at a time."""
    for path in paths:
        try:
            yield list_run(path)
        except RunFolderError as error:
            yield error
        except OSError as error:  # the folder went away or changed under the listing
            yield RunFolderError(path, f"cannot read: {error.strerror or error}")


def remove_stale_temporaries(folder: Path, writer: object, started: str) -> list[str]:
    """Remove what atomic writes of a finished run's writer left when it was killed mid-write
    (``.metrics.csv.x1y2.tmp``): only once its summary.json is written and its writer is
    gone, so that no live writer's file is touched. The names removed."""
    if writer_alive(writer, started, folder):
        return []
    removed = []
    for name in WRITTEN_ATOMICALLY:
        while (leftover := interrupted_write(folder, name)) is not None:
            try:
                (folder / leftover).unlink()
            except OSError:
                break
            removed.append(leftover)
    return removed
