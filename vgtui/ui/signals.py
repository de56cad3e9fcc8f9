"""The monitor and OS signals: SIGINT and SIGTERM quit as q does (exit status 128 + the
signal's number), SIGHUP saves the run and leaves at once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable

from vgtui.core.run import Run
from vgtui.ui.sweep.process import stop_all as stop_sweeps

QUIT_WAIT_SECONDS = 2.0
"""How long quitting waits for a stopped run to write its run folder."""
EXIT_HANGUP = 128 + signal.SIGHUP


def stop_and_wait(run: Run | None, timeout: float = QUIT_WAIT_SECONDS) -> None:
    """Stop ``run`` if it still trains (as interrupted) and wait until its folder is written."""
    if run is not None and not run.finished.is_set():
        run.stop()
        run.finished.wait(timeout)


def handle_signals(quit: Callable[[int], None], current_run: Callable[[], Run | None]) -> None:
    """From now on, SIGINT and SIGTERM call ``quit(exit_status)`` and SIGHUP (terminal or SSH
    session closed) saves the current run and exits with :data:`EXIT_HANGUP`. Call it on the
    app's event loop. (In the app's raw terminal mode Ctrl-C is a key, not a SIGINT: this is
    ``kill -INT``.)"""

    def hang_up() -> None:
        # The terminal is gone: nothing can be drawn or restored (Textual would block trying),
        # so stop the run, let the worker write the run folder, and leave at once.
        stop_and_wait(current_run())
        stop_sweeps(grace=0.0)  # os._exit runs no atexit handler: the sweeps started here
        os._exit(EXIT_HANGUP)

    loop = asyncio.get_running_loop()
    handlers = {
        signal.SIGINT: lambda: quit(128 + signal.SIGINT),
        signal.SIGTERM: lambda: quit(128 + signal.SIGTERM),
        signal.SIGHUP: hang_up,
    }
    for number, handler in handlers.items():
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(number, handler)
