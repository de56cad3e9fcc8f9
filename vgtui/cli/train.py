"""Command line: ``vgtui`` opens the monitor; ``vgtui --no-ui`` runs the experiments headless."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import sys
import textwrap
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from vgtui import __version__
from vgtui.cli.common import (
    EXIT_BROKEN_PIPE,
    EXIT_DATA_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    OneLineParser,
    OutputError,
    argument_type,
    command_parser,
    has_terminal,
    say,
    silence_stdout,
    usage_error_line,
    write_stdout,
)
from vgtui.cli.main import COMMANDS
from vgtui.cli.report import format_summary
from vgtui.core.blas import limit_blas_threads
from vgtui.core.budget import check_memory, long_run_warning
from vgtui.core.config import DEFAULT_SETUPS, PRESETS, RUN_OPTIONS, ConfigError, Option, RunConfig
from vgtui.core.data import DataError, Dataset, load_dataset
from vgtui.core.pace_option import MONITOR_OPTIONS, PACE_OPTION
from vgtui.core.records import MetricRecord
from vgtui.core.run import Run
from vgtui.core.store.run_folder import record_line
from vgtui.core.summary import format_percent
from vgtui.core.vocabulary import (
    ACTIVATION_NAMES,
    DEFAULT_GAUSS_SIGMA,
    SetupStatus,
    init_forms,
    remedies_help,
)

if TYPE_CHECKING:
    from vgtui.cli.latch import SignalLatch

PROGRESS_INTERVAL_SECONDS = 0.1


def _folder(text: str) -> Path:
    """A folder given on the command line: an empty name would silently mean the current one."""
    if not text.strip():
        raise argparse.ArgumentTypeError("needs a folder name, got ''")
    return Path(text)


def _add_option(parser: argparse.ArgumentParser, option: Option) -> None:
    """One command-line flag per run option (see vgtui.core.config.RUN_OPTIONS)."""
    # No default here: a flag that is not given leaves the preset's value (the notebook's).
    if option.kind == "switch":
        parser.add_argument(
            option.flag,
            dest=option.key,
            action="store_true",
            default=argparse.SUPPRESS,
            help=option.help,
        )
        return
    default = option.default()
    parser.add_argument(
        option.flag,
        dest=option.key,
        type=argument_type(option),
        default=argparse.SUPPRESS,
        metavar=option.metavar,
        help=f"{option.help} (default {option.show(default)})",
    )


def _help_width() -> int:
    """The width argparse lays the options out in (the terminal's, at most 100)."""
    return min(shutil.get_terminal_size().columns, 100) - 2


def _paragraph(text: str) -> str:
    """``text`` wrapped to the help's width, never inside a word (``leaky-relu``, ``--no-ui``)."""
    return textwrap.fill(text, _help_width(), break_on_hyphens=False)


def commands_text() -> str:
    """One line per command of the registry (vgtui.cli.main.COMMANDS), cut at the width."""
    lines = ["commands (vgtui help COMMAND tells more):"]
    for name, command in COMMANDS.items():
        line = f"  vgtui {name:<8}{command.brief}"
        width = _help_width()
        lines.append(line if len(line) <= width else line[: width - 3].rstrip() + "...")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    setups = (
        f"Setups are ACTIVATION-INIT pairs. Activations: {', '.join(ACTIVATION_NAMES)}. "
        f"Inits: {', '.join(init_forms())} (gauss: N(0, SIGMA^2), SIGMA "
        f"{DEFAULT_GAUSS_SIGMA:g} if left out; var: N(0, SIGMA_W^2 / n_in); the README "
        "describes each). " + remedies_help() + " Default: "
        + ",".join(s.name for s in DEFAULT_SETUPS) + "."
    )
    exits = "Exit status: 0 done, 1 bad data, 2 bad arguments, 130 interrupted, 141 broken pipe."
    parser = OneLineParser(
        prog="vgtui",
        description=_paragraph(
            "Watch the vanishing-gradient problem: train MLPs on MNIST with different activations "
            "and weight initialisations side by side. Without --no-ui it opens a terminal app; "
            "with no terminal it runs headless."
        ),
        epilog="\n\n".join((commands_text(), _paragraph(setups), _paragraph(exits))),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--no-ui", action="store_true", help="run headless: progress on stderr, results on stdout")
    add("--run", action="store_true", help="in the app, start training right away")
    add(
        "--preset",
        choices=tuple(PRESETS),
        default="notebook",
        metavar="NAME",  # the choices in braces would not fit the usage line
        help="an experiment from the literature to start from; the other flags change it: "
        f"{', '.join(PRESETS)} (default notebook; see the README)",
    )
    for option in (*RUN_OPTIONS, *MONITOR_OPTIONS):
        _add_option(parser, option)
    add(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="folder with the four MNIST-format IDX files (.gz or raw); default: bundled MNIST",
    )
    add(
        "--data-pkl",
        type=Path,
        metavar="PATH",
        help="the mnist.pkl cache of the 'Deep Learning from Scratch' loader; loaded without "
        "running code from it (only NumPy arrays and plain containers are built), so an "
        "untrusted pickle that asks for anything else is refused",
    )
    add(
        "--out",
        type=_folder,
        default=Path("runs"),
        metavar="DIR",
        help="parent folder of run folders; each run gets DIR/<timestamp>-<preset>/ (default runs)",
    )
    add(
        "--json",
        action="store_true",
        help="stream records as JSON lines on stdout (implies --no-ui; the summary table goes "
        "to stderr)",
    )
    add("--version", action="version", version=f"vgtui {__version__}")
    return parser


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The preset's configuration with the flags given on top. Each flag's value was checked as
    it was read (its option's reader); the whole is checked once, against the training set and
    the memory, by the Run (or before the app opens: :func:`check_for_the_app`)."""
    given = {option.key: getattr(args, option.key) for option in RUN_OPTIONS if option.key in args}
    return replace(PRESETS[args.preset].config, **given)


def check_for_the_app(config: RunConfig, dataset: Dataset) -> None:
    """What building a Run checks (ConfigError), done before the app opens: the app would only
    show the problem once a run started."""
    config.validate(train_size=dataset.train_size)
    check_memory(config)


def _use_color(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def terminal_width(stream: TextIO, fallback: int = 80) -> int:
    """The width of the terminal ``stream`` writes to (``fallback`` if it is none)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns or fallback
    except (OSError, ValueError, AttributeError):
        return fallback


class ProgressReporter:
    """Progress on stderr: a live bar on a terminal, plain lines every 10% otherwise."""

    def __init__(self, stream: TextIO, total: int, setup_names: Sequence[str]) -> None:
        self.stream = stream
        self.total = total
        self.setup_names = setup_names
        self.live = stream.isatty()
        self.color = _use_color(stream)
        self.latest: dict[str, MetricRecord] = {}
        self.started = time.perf_counter()
        self._last_draw = 0.0
        self._next_line_fraction = 0.1

    def update(self, records: Sequence[MetricRecord]) -> None:
        for record in records:
            self.latest[record.setup] = record
        iteration = records[-1].iteration
        now = time.perf_counter()
        if self.live:
            if now - self._last_draw >= PROGRESS_INTERVAL_SECONDS or iteration >= self.total:
                self._draw_bar(iteration, now)
                self._last_draw = now
        elif iteration >= self._next_line_fraction * self.total or iteration >= self.total:
            while self._next_line_fraction * self.total <= iteration:
                self._next_line_fraction += 0.1
            self.stream.write(self._plain_line(iteration, now) + "\n")
            self.stream.flush()

    def _accuracies(self) -> str:
        parts = []
        for name in self.setup_names:
            record = self.latest.get(name)
            if record is None:
                continue
            text = (
                str(record.status)
                if record.status != SetupStatus.OK
                else format_percent(record.test_accuracy)
            )
            parts.append(f"{name} {text}")
        return "  ".join(parts)

    def _plain_line(self, iteration: int, now: float) -> str:
        elapsed = now - self.started
        return (
            f"vgtui: {iteration}/{self.total} ({100 * iteration / self.total:.0f}%) "
            f"{elapsed:.1f}s  test: {self._accuracies()}"
        )

    def _draw_bar(self, iteration: int, now: float) -> None:
        """One line that never wraps: cut to the terminal's width, so each redraw replaces
        the last (a wrapped line would leave one behind at every redraw)."""
        elapsed = now - self.started
        rate = iteration / elapsed if elapsed > 0 else 0.0
        eta = (self.total - iteration) / rate if rate > 0 else 0.0
        columns = terminal_width(self.stream)
        width = max(4, min(24, columns // 4))
        filled = int(width * iteration / self.total)
        text = (
            f"] {iteration}/{self.total} {rate:6.0f} it/s eta {eta:4.1f}s  {self._accuracies()}"
        )[: max(0, columns - 2 - width)]
        bar = "#" * filled + "-" * (width - filled)
        if self.color:
            bar = f"\x1b[32m{'#' * filled}\x1b[2m{'-' * (width - filled)}\x1b[0m"
        self.stream.write(f"\r[{bar}{text}\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()


def run_headless(
    args: argparse.Namespace,
    config: RunConfig,
    dataset: Dataset,
    latch: SignalLatch | None = None,
    notice: str | None = None,
) -> int:
    """Train every setup without the UI: progress, JSON lines and the summary table. Every way
    a run can end (done, Ctrl-C or a signal, a closed pipe, a file that cannot be written, out
    of memory) keeps what was recorded and ends in at most one error line. Building the Run is
    the one check of ``config`` (against the training set and the memory): a usage error, on
    its own line, before ``notice`` (why it runs headless) is said."""
    try:
        run = Run(config, dataset, args.out)
    except ConfigError as exc:
        say(usage_error_line(str(exc)))
        return EXIT_USAGE
    except OSError as exc:
        say(f"vgtui: error: cannot create a run folder under {args.out}: {exc}")
        return EXIT_DATA_ERROR
    if notice is not None:
        say(notice)
    if (warning := long_run_warning(config)) is not None:
        say(f"vgtui: {warning}")
    progress: ProgressReporter | None = ProgressReporter(
        sys.stderr, config.iterations, config.setup_names
    )

    def on_records(records: Sequence[MetricRecord]) -> None:
        nonlocal progress
        if latch is not None:
            latch.check()  # a signal whose exception was dropped still stops the run here
        if progress is not None:
            try:
                progress.update(records)
            except (OSError, ValueError):  # stderr is gone: progress is only a courtesy
                progress = None
        if args.json:
            write_stdout("".join(map(record_line, records)))

    exit_code, problem = EXIT_OK, None
    try:
        run.execute(on_records)
    except KeyboardInterrupt as interrupt:
        exit_code = 128 + getattr(interrupt, "signum", signal.SIGINT)
    except BrokenPipeError:  # the reader of --json went away (e.g. `| head`): stop quietly
        silence_stdout()
        exit_code = EXIT_BROKEN_PIPE
    except OutputError as error:
        silence_stdout()
        exit_code, problem = EXIT_DATA_ERROR, str(error)
    except MemoryError:
        exit_code, problem = EXIT_DATA_ERROR, "out of memory during the run"
    except OSError:  # a file of the run folder: named by run.write_error below
        exit_code = EXIT_DATA_ERROR
    if run.write_error is not None:
        exit_code, problem = EXIT_DATA_ERROR, problem or str(run.write_error)
    if progress is not None:
        with contextlib.suppress(OSError, ValueError):
            progress.close()
    if problem is not None:
        say(f"vgtui: error: {problem}")
    assert run.status is not None
    # A closed pipe drops the records handed on after it (the trainer may be far ahead of
    # them): the header then counts the iterations recorded, as the table does.
    trained = None if exit_code == EXIT_BROKEN_PIPE else run.iteration
    table = format_summary(
        run.records,
        run.status,
        config,
        run.wall_seconds,
        run.path if run.kept else None,
        dataset.name,
        width=terminal_width(sys.stderr if args.json else sys.stdout),
        iterations=trained,
    )
    if args.json or exit_code == EXIT_BROKEN_PIPE:
        say(table)
        return exit_code
    try:
        print(table, flush=True)
    except BrokenPipeError:  # `vgtui --no-ui | true`
        silence_stdout()
        return exit_code or EXIT_BROKEN_PIPE
    except OSError as error:
        silence_stdout()
        say(f"vgtui: error: cannot write to standard output: {error.strerror or error}")
        return EXIT_DATA_ERROR
    return exit_code


def help_main(argv: Sequence[str]) -> int:
    """``vgtui help``: what ``vgtui --help`` says; ``vgtui help COMMAND``: that command's."""
    parser = command_parser("help")
    others = [name for name in COMMANDS if name != "help"]
    parser.add_argument("command", nargs="?", choices=others, metavar="COMMAND",
                        help=f"one of {', '.join(others)}")  # fmt: skip
    args = parser.parse_args(argv)
    if args.command is not None:
        return COMMANDS[args.command].load()(["--help"])
    build_parser().print_help()
    return EXIT_OK


def main(argv: Sequence[str] | None = None, latch: SignalLatch | None = None) -> int:
    """Entry point of the ``vgtui`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.data_dir is not None and args.data_pkl is not None:
        parser.error("give either --data-dir or --data-pkl, not both")
    limit_blas_threads(1)  # one BLAS thread per lane: see vgtui.core.blas
    config = config_from_args(args)
    try:
        dataset = load_dataset(args.data_dir, args.data_pkl)
    except DataError as exc:
        say(f"vgtui: error: {exc}")
        return EXIT_DATA_ERROR
    notice = None
    if not args.no_ui and not args.json:  # --json is for scripts: it implies --no-ui
        if has_terminal():
            try:
                from vgtui.ui.app import run_app
            except ImportError as exc:
                notice = f"vgtui: the app is unavailable ({exc}); running headless"
            else:
                try:
                    check_for_the_app(config, dataset)
                except ConfigError as exc:
                    parser.error(str(exc))
                pace = getattr(args, PACE_OPTION.key, PACE_OPTION.default())
                return run_app(config, dataset, args.out, autostart=args.run, pace=pace)
        else:
            notice = "vgtui: no terminal attached, running headless (--no-ui)"
    return run_headless(args, config, dataset, latch, notice)
