"""A sweep started from the app: ``python -m vgtui sweep`` as a process the app owns. The only
module of the UI that starts processes (the architecture test holds it to that).

The process runs in its own session (a Ctrl-C or hang-up of the terminal reaches the app only)
and is stopped when the app goes, when k is pressed, or when Python exits: SIGTERM, then
SIGKILL to its whole process group (its cluster's workers) after :data:`STOP_SECONDS`. Its
finished cells are on disk: ``vgtui sweep --resume`` ends it. The exit hook is registered when
the first process starts, so importing the app registers nothing.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

STOP_SECONDS = 1.0
"""How long a sweep told to stop (SIGTERM) gets before its process group is killed. Its
finished cells are on disk already; a graceful end (cancelling, closing its cluster while the
workers compute) takes about 5 s, too long for quitting the app."""


class SweepProcess:
    """``vgtui sweep --preset NAME --out ROOT`` in a process of its own session."""

    live: ClassVar[set[SweepProcess]] = set()
    """Every process not yet stopped: stopped at Python's exit too (:func:`stop_all`)."""
    _exit_hook = False

    def __init__(self, preset: str, out_root: Path) -> None:
        self.preset = preset
        command = [sys.executable, "-m", "vgtui", "sweep", "--preset", preset]
        self.popen = subprocess.Popen(
            [*command, "--out", str(out_root)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # the final heatmap: the tab shows it
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        if not SweepProcess._exit_hook:
            atexit.register(stop_all)
            SweepProcess._exit_hook = True
        SweepProcess.live.add(self)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def forget(self) -> None:
        """It ended by itself: nothing is left to stop."""
        SweepProcess.live.discard(self)

    def stop(self, grace: float = STOP_SECONDS) -> int | None:
        """SIGTERM, then SIGKILL to whatever is left of its process group; return its exit
        status."""
        SweepProcess.live.discard(self)
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(grace)
        # Its own group (start_new_session): the cluster's workers, if any outlived it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(grace)
        return self.popen.returncode


def stop_all(grace: float = STOP_SECONDS) -> None:
    """No sweep started by the app outlives it, however the app ends (at Python's exit; a
    hang-up, which leaves at once, calls this itself)."""
    for process in list(SweepProcess.live):
        process.stop(grace)


__all__ = ["STOP_SECONDS", "SweepProcess", "stop_all"]
