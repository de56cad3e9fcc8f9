"""Messages the training worker posts to the app (from its thread: it never touches widgets)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from vgtui.core.run import Run


@dataclass
class RecordsReady(Message):
    """Run ``run_number`` has new records in its outbox (see :class:`RecordOutbox`)."""

    run_number: int


@dataclass
class RunBuilt(Message):
    """The worker has built run ``run_number`` (off the UI thread) and starts training it."""

    run_number: int
    run: Run
