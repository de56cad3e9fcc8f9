"""Following a file while another process appends to it (a run's records.jsonl, a sweep's
cells.jsonl): each look reads only the bytes appended since the last one, so following a long
run costs what was added, not what is there. One pace, :data:`FOLLOW_SECONDS`, and one loop,
:func:`polls`, for every follower: the command line's and the app's threads.
"""

from __future__ import annotations

import errno
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

FOLLOW_SECONDS = 0.5
"""How often a file being written is looked at again."""
PAUSE_STEP_SECONDS = 0.05
"""How soon a cancelled follower notices it while it waits."""


class FileFollower:
    """The whole lines appended to one file since the last :meth:`read`, never written to.

    Lines end at ``b"\\n"`` only; a last line still without its newline waits, kept, for the
    next read. A file replaced (another inode) or cut (shorter than what was read) is read
    again from its start, and the read says so. A file that is not a regular file is an
    error, never opened: a FIFO would block its reader forever."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.offset = 0
        """Bytes of the current file read so far (its whole lines and the partial last one)."""
        self.bytes_read = 0
        """Bytes read in all, resets included: what following has cost."""
        self._partial = b""
        self._identity: tuple[int, int] | None = None

    @property
    def lines_end(self) -> int:
        """Where the whole lines read so far end: a partial last line starts there."""
        return self.offset - len(self._partial)

    def read(self, limit: int = -1) -> tuple[list[bytes], bool]:
        """The lines appended since the last call (without their newline), and whether the file
        was replaced or cut (then they are its lines from the start); at most ``limit`` bytes
        are read (-1: all), the rest at the next call. A missing file has no lines yet.
        OSError if it cannot be read or is not a regular file."""
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            return [], False
        _check_regular(self.path, status.st_mode)
        if (status.st_dev, status.st_ino) == self._identity and status.st_size == self.offset:
            return [], False  # nothing new: one stat
        with open_regular(self.path) as handle:
            status = os.fstat(handle.fileno())  # the file opened: it may have been replaced
            identity = (status.st_dev, status.st_ino)
            reset = self._identity is not None and (
                identity != self._identity or status.st_size < self.offset
            )
            if reset or self._identity is None:
                self._identity, self.offset, self._partial = identity, 0, b""
            handle.seek(self.offset)
            data = handle.read(limit)
        self.offset += len(data)
        self.bytes_read += len(data)
        data = self._partial + data
        end = data.rfind(b"\n") + 1
        self._partial = data[end:]
        return (data[: end - 1].split(b"\n") if end else []), reset


def _check_regular(path: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        raise OSError(errno.EINVAL, "not a regular file", str(path))


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading if it is a regular file, else OSError: opening a FIFO
    does not block, and it is refused."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        _check_regular(path, os.fstat(fd).st_mode)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def pause(cancelled: Callable[[], bool], seconds: float = FOLLOW_SECONDS) -> None:
    """Wait ``seconds``, less if ``cancelled()`` turns true meanwhile."""
    deadline = time.monotonic() + seconds
    while not cancelled() and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(PAUSE_STEP_SECONDS, left))


def polls(
    cancelled: Callable[[], bool] = lambda: False, seconds: float = FOLLOW_SECONDS
) -> Iterator[None]:
    """The follower's loop: ``for _ in polls(): look; break when done``. It comes round at
    once, then every ``seconds``, until ``cancelled()`` turns true."""
    while not cancelled():
        yield
        pause(cancelled, seconds)
