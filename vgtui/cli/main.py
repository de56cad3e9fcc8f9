"""The ``vgtui`` command's first steps, before anything heavy is imported: standard streams that
exist, and SIGINT / SIGTERM / SIGHUP that interrupt as Ctrl-C does, so that no moment of start-up
ends in a traceback or loses what a run recorded."""

from __future__ import annotations

import importlib
import os
import signal
import sys

from vgtui.cli.latch import SignalLatch

TYPE_CHECKING = False  # typing itself is not imported: main stays light
if TYPE_CHECKING:
    from collections.abc import Callable


class Command:
    """A ``vgtui`` command: the function that runs it, named by module so that it is imported
    only when it runs, what it does (its ``--help`` starts with it) and ``brief``, that in a
    few words (its line in ``vgtui --help``). A plain class: a dataclass would run ``exec`` at
    import, before the signals are latched."""

    __slots__ = ("module", "function", "about", "brief")

    def __init__(self, module: str, function: str, about: str, brief: str = "") -> None:
        self.module = module
        self.function = function
        self.about = about
        self.brief = brief or about

    def load(self) -> Callable[..., int]:
        return getattr(importlib.import_module(self.module), self.function)


COMMANDS: dict[str, Command] = {
    "runs": Command(
        "vgtui.cli.runs",
        "runs_main",
        "List the run folders under DIR, newest first.",
        "list saved runs, newest first, and the settings that differ",
    ),
    "show": Command(
        "vgtui.cli.runs",
        "show_main",
        "Saved runs in the app (several are compared; one still being written is followed "
        "live), or their summary tables with --no-ui.",
        "open saved runs (several: compared), follow or replay one",
    ),
    "export": Command(
        "vgtui.cli.runs",
        "export_main",
        "One tidy table (run, setup, iteration, metric, value) of saved runs.",
        "saved runs as one tidy CSV or JSON table, or as SVG charts",
    ),
    "probe": Command(
        "vgtui.cli.probe",
        "main",
        "The activation-histogram experiment (Deep Learning from Scratch, ch. 6), at "
        "initialisation.",
        "activation histograms of each layer at initialisation",
    ),
    "sweep": Command(
        "vgtui.cli.sweep",
        "main",
        "Train a grid of (activation, depth, sigma_w^2, seed) cells on Dask and print a heatmap "
        "of test accuracy with mean-field theory's 6 xi_c on top.",
        "train a grid of depths and sigma_w^2 on Dask: a heatmap",
    ),
    "help": Command(
        "vgtui.cli.train",
        "help_main",
        "What vgtui --help says; vgtui help COMMAND: what vgtui COMMAND --help says.",
        "this help; vgtui help COMMAND: a command's",
    ),
}
"""Every command by the word that names it (``vgtui WORD ...``); the one list dispatch, the
commands' help and ``vgtui --help`` read."""

TRAIN = Command(
    "vgtui.cli.train", "main", "Train and watch the setups: the app, or headless with --no-ui."
)
"""What ``vgtui`` does when its first word names no command."""


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
        command = COMMANDS.get(sys.argv[1]) if len(sys.argv) > 1 else None
        if command is None:
            return TRAIN.load()(sys.argv[1:], latch=latch)
        return command.load()(sys.argv[2:])
    except KeyboardInterrupt as interrupt:  # before a run started: nothing to save
        return 128 + getattr(interrupt, "signum", signal.SIGINT)
    except Exception:
        if latch.received is None:
            raise
        # The signal's exception turned into a library's own: NumPy's import, interrupted
        # inside its C code, raises ImportError ("PyCapsule_Import could not import module").
        return 128 + latch.received
