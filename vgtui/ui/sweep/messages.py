"""The messages of the Sweep tab's worker threads (the folder follower and a started sweep's
stderr reader), and the one it posts for the monitor: open a cell as a run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.message import Message

from vgtui.core.config import RunConfig
from vgtui.core.sweep.spec import SweepSpec
from vgtui.ui.sweep.process import SweepProcess


@dataclass
class SweepRead(Message):
    """The follower read a sweep folder: new lines (all of them when ``reset``), or why the
    newest folder cannot be read."""

    path: Path
    spec: SweepSpec | None
    lines: list[dict]
    reset: bool
    error: str | None = None


@dataclass
class SweepProgress(Message):
    """A line of a started sweep's stderr (its progress)."""

    process: SweepProcess
    line: str


@dataclass
class SweepEnded(Message):
    """A started sweep's process ended with ``code``."""

    process: SweepProcess
    code: int


@dataclass
class OpenSweepCell(Message):
    """Open a cell as a run: ``config`` is its task's run (every sigma_w^2 of its activation,
    depth and seed 0, as the sweep trained it). The monitor puts it in its sidebar."""

    config: RunConfig
    description: str


__all__ = ["OpenSweepCell", "SweepEnded", "SweepProgress", "SweepRead"]
