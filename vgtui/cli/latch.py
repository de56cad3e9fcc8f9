"""SIGINT, SIGTERM and SIGHUP as Ctrl-C, remembered: the latch ``main`` installs first and the
train command checks at every batch of records."""

from __future__ import annotations

import signal
import sys


class Interrupted(KeyboardInterrupt):
    """A SIGINT, SIGTERM or SIGHUP, handled as Ctrl-C is; the exit status is 128 + ``signum``."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class SignalLatch:
    """SIGINT, SIGTERM and SIGHUP raise :class:`Interrupted` where Python is, and are remembered:
    an exception raised while Python runs a finalizer, or caught by a library, is dropped, so
    the run checks the latch at every batch of records too (:meth:`check`)."""

    def __init__(self) -> None:
        self.received: int | None = None

    def install(self) -> None:
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), self.handle)

    def handle(self, signum: int, frame: object) -> None:
        self.received = signum
        raise Interrupted(signum)

    def check(self) -> None:
        """Raise the remembered signal, if one came and its exception is not already being
        handled (records flushed while the run stops are streamed, not cut off again)."""
        if self.received is not None and not isinstance(sys.exc_info()[1], KeyboardInterrupt):
            raise Interrupted(self.received)
