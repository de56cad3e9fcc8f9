"""Messages the training worker posts to the app (from its thread: it never touches widgets)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class RecordsReady(Message):
    """Run ``run_number`` has new records in its outbox (see :class:`RecordOutbox`)."""

    run_number: int
