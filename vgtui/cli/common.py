"""What every ``vgtui`` command shares: exit statuses, the one-line-error parser, the adapter
from a core reader to an argparse type, and output that never ends in a traceback."""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import Any, TextIO, TypeVar

from vgtui.cli.main import COMMANDS
from vgtui.core.config import ConfigError, Option, parse_float, parse_int
from vgtui.core.safe_text import safe_text

EXIT_OK = 0
EXIT_DATA_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141

T = TypeVar("T")


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, usage_error_line(message) + "\n")


def command_parser(name: str, details: str = "", epilog: str | None = None) -> OneLineParser:
    """The parser of ``vgtui NAME``: its description is the registry's line (vgtui.cli.main
    .COMMANDS), then ``details``."""
    about = COMMANDS[name].about
    return OneLineParser(
        prog=f"vgtui {name}", description=f"{about} {details}".strip(), epilog=epilog
    )


USAGE_ERROR_CHARACTERS = 500
"""A usage error quotes the arguments: longer is cut."""


def usage_error_line(message: str) -> str:
    """The one line every usage error is (from a parser, or found later, as a model too big);
    what it quotes of the arguments escaped (a newline, an escape sequence) and cut."""
    return f"vgtui: error: {safe_text(message, USAGE_ERROR_CHARACTERS)} (see vgtui --help)"


def argument_type(reader: Option | Callable[[str], T], label: str = "") -> Callable[[str], Any]:
    """The argparse type of a core reader: a :class:`~vgtui.core.config.Option` (its ``read``
    and ``label``) or a function of the text that raises ConfigError, named ``label`` (by
    default its own name). Its errors become argparse's one-line usage error, worded as the
    core words them."""
    if isinstance(reader, Option):
        read, label = reader.read, reader.label
    else:
        read, label = reader, label or reader.__name__

    def argument(text: str) -> Any:
        try:
            return read(text)
        except ConfigError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    argument.__name__ = label  # argparse names the type in some messages
    return argument


def bounded_int(label: str, low: int, high: int) -> Callable[[str], int]:
    """A reader of a whole number in ``low..high`` (ConfigError otherwise), for
    :func:`argument_type`: the options of commands other than a run's."""
    return _bounded(parse_int, label, low, high)


def bounded_float(label: str, low: float, high: float) -> Callable[[str], float]:
    """A reader of a finite number in ``low..high``, as :func:`bounded_int`."""
    return _bounded(parse_float, label, low, high)


def _bounded(parse: Callable[[str, str], T], label: str, low: T, high: T) -> Callable[[str], T]:
    def read(text: str) -> T:
        value = parse(label, text)
        if not low <= value <= high:  # type: ignore[operator]
            raise ConfigError(f"{label} must be in {low}..{high}, got {value}")
        return value

    read.__name__ = label
    return read


class OutputError(Exception):
    """Standard output cannot be written (other than a closed pipe)."""


def columns(stream: TextIO | None = None) -> int | None:
    """The width lines to ``stream`` (stdout by default) must fit: COLUMNS if set, else the
    terminal's; None when it is no terminal (a log or a pipe: one line per event)."""
    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"])
    stream = stream or sys.stdout
    try:
        return os.get_terminal_size(stream.fileno()).columns if stream.isatty() else None
    except (OSError, ValueError, AttributeError):
        return None


def fitted(text: str, width: int | None, indent: str = "  ") -> str:
    """``text`` wrapped to ``width`` (None: not wrapped) between words, never inside one (nor
    at a hyphen: ``sigmoid-gauss`` stays whole); the lines after the first are indented."""
    if width is None:
        return text
    return textwrap.fill(
        text, width, subsequent_indent=indent, break_on_hyphens=False, break_long_words=False
    )


def say_fitted(text: str) -> None:
    """:func:`say`, wrapped to the width of stderr's terminal."""
    say(fitted(text, columns(sys.stderr)))


def say(line: str) -> None:
    """One line on stderr, if stderr can still be written at all: a broken stderr must never
    change the exit status."""
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)


def silence_stdout() -> None:
    """Point stdout at the null device: the interpreter's last flush must not fail again."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def write_stdout(text: str) -> None:
    """Write and flush ``text``; BrokenPipeError passes through (the reader went away), any
    other failure becomes :class:`OutputError`."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as error:
        raise OutputError(f"cannot write to standard output: {error.strerror or error}") from None


def has_terminal() -> bool:
    """Whether a person is at a terminal (stdin and stdout both one): the app may open."""
    streams = (sys.stdin, sys.stdout)
    try:
        interactive = all(stream is not None and stream.isatty() for stream in streams)
    except (OSError, ValueError):
        return False
    return interactive and os.environ.get("TERM") != "dumb"


def guard_output(command: Callable[[Sequence[str]], int]) -> Callable[[Sequence[str]], int]:
    """``command`` whose standard output may be a closed pipe (exit 141, quietly: ``vgtui
    export RUN | head``) or unwritable (exit 1, one error line)."""

    @functools.wraps(command)
    def guarded(argv: Sequence[str]) -> int:
        try:
            return command(argv)
        except BrokenPipeError:
            silence_stdout()
            return EXIT_BROKEN_PIPE
        except OutputError as error:
            silence_stdout()
            say(f"vgtui: error: {error}")
            return EXIT_DATA_ERROR

    return guarded
