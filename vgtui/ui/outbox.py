"""Records on their way from the training thread to the app, without flooding the UI.

The worker calls ``run.execute(outbox.put)``. :meth:`RecordOutbox.put` calls ``notify`` only
when the outbox was empty, and the app takes everything at once with :meth:`take`. So at most
one notification is posted per take: a fast run cannot flood the UI with messages, and no
record waits in the worker (after a step or a pause, the last evaluation reaches the screen at
once).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from vgtui.core.records import MetricRecord


class RecordOutbox:
    """Thread-safe: the worker puts, the app's thread takes."""

    def __init__(self, notify: Callable[[], None]) -> None:
        self._notify = notify
        self._records: list[MetricRecord] = []
        self._lock = threading.Lock()

    def put(self, records: Sequence[MetricRecord]) -> None:
        """Add ``records``; notify if they are the first since the last take."""
        with self._lock:
            was_empty = not self._records
            self._records.extend(records)
        if was_empty:
            self._notify()

    def take(self) -> list[MetricRecord]:
        """Every record put since the last call."""
        with self._lock:
            records, self._records = self._records, []
        return records
