"""The ``vgtui`` command's first steps, before anything heavy is imported: standard streams that
exist, and SIGINT / SIGTERM / SIGHUP that interrupt as Ctrl-C does, so that no moment of start-up
ends in a traceback or loses what a run recorded."""

from __future__ import annotations

import os
import signal
import sys

from vgtui.cli.latch import SignalLatch

COMMANDS = ("runs", "show", "export", "probe", "sweep")
"""The commands on saved runs (vgtui.cli.runs) and ``sweep`` (vgtui.cli.sweep); anything else
trains (vgtui.cli.train)."""


def ensure_standard_streams() -> None:
    """Open the null device on a closed stdin, stdout or stderr (``vgtui >&-``): otherwise the
    next file opened would take its descriptor, and writes meant for the terminal would go
    into a run folder."""
    for descriptor, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(descriptor)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != descriptor:
                os.dup2(null, descriptor)
                os.close(null)
            setattr(sys, name, open(descriptor, mode, closefd=False))  # noqa: SIM115
        else:
            if getattr(sys, name) is None:
                setattr(sys, name, open(descriptor, mode, closefd=False))  # noqa: SIM115


def forget_interrupted_exec() -> None:
    """CPython 3.11 marks the process to end by SIGINT when a KeyboardInterrupt leaves an
    ``exec`` of a string (dataclasses build their methods so, at import), even though our code
    catches it later: the exit status would be lost. The next string ``exec`` that completes
    clears the mark."""
    exec("None")


def main() -> int:
    """Entry point of the ``vgtui`` command; returns the exit status."""
    ensure_standard_streams()
    latch = SignalLatch()
    latch.install()
    try:
        return _dispatch(latch)
    finally:
        forget_interrupted_exec()


def _dispatch(latch: SignalLatch) -> int:
    try:
        if sys.argv[1:2] == ["sweep"]:
            from vgtui.cli.sweep import main as sweep_main

            return sweep_main(sys.argv[2:])
        if sys.argv[1:2] and sys.argv[1] in COMMANDS:
            from vgtui.cli.runs import main as command_main

            return command_main(sys.argv[1:])
        from vgtui.cli.train import main as cli_main

        return cli_main(latch=latch)
    except KeyboardInterrupt as interrupt:  # before a run started: nothing to save
        return 128 + getattr(interrupt, "signum", signal.SIGINT)
