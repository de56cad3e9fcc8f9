"""The commands on saved runs: ``vgtui runs``, ``vgtui show`` and ``vgtui export``."""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path

from vgtui.cli.common import (
    EXIT_DATA_ERROR,
    EXIT_OK,
    columns,
    command_parser,
    guard_output,
    has_terminal,
    say,
    write_stdout,
)
from vgtui.cli.report import format_summary
from vgtui.core.records import MetricRecord
from vgtui.core.safe_text import fitted_name, safe_text
from vgtui.core.store.follow import polls
from vgtui.core.store.listing import RunListing, find_runs, list_runs
from vgtui.core.store.run_folder import atomic_write_text, json_safe
from vgtui.core.store.saved_runs import (
    CONFIG_FILE,
    RunFolderError,
    RunFollower,
    SavedRun,
    read_run,
)
from vgtui.core.summary import format_percent
from vgtui.core.traits import TRAITS, differing, folder_description, traits
from vgtui.core.traits import labels as config_labels
from vgtui.core.vocabulary import RunStatus, SetupStatus

WIDTH = 80
RUNS_DIR = Path("runs")
"""Where runs go by default (``vgtui --out``) and ``vgtui runs`` looks."""
RUN_HELP = "run folders, or names vgtui runs lists (folders under runs/)"


def run_path(text: str) -> Path:
    """A run folder as given, or a bare name that ``vgtui runs`` listed: its folder under
    :data:`RUNS_DIR` (so ``vgtui show NAME`` works as ``vgtui show runs/NAME``)."""
    path = Path(text)
    if not path.exists() and path.name == text and (RUNS_DIR / text).is_dir():
        return RUNS_DIR / text
    return path


@guard_output
def runs_main(argv: Sequence[str]) -> int:
    parser = command_parser("runs")
    parser.add_argument("dir", nargs="?", type=Path, default=RUNS_DIR, metavar="DIR",
                        help="the folder that holds run folders (default runs)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="one JSON object per run")
    args = parser.parse_args(argv)
    try:
        paths = find_runs(args.dir)
    except RunFolderError as error:
        warn(error)
        return EXIT_DATA_ERROR
    runs: list[RunListing] = []
    unreadable = 0
    for entry in list_runs(paths):  # one run in memory at a time
        if isinstance(entry, RunFolderError):
            warn(entry)
            unreadable += 1
        elif args.json:
            emit(json.dumps(run_document(entry)) + "\n")
        else:
            runs.append(entry)
    if not args.json:
        emit(runs_table(runs) + "\n" if runs else f"no runs under {args.dir}\n")
        if runs and args.dir.resolve() != RUNS_DIR.resolve():  # a bare name means runs/NAME
            hint = f"to open one: vgtui show {args.dir / 'NAME'}"
            emit((hint if len(hint) <= WIDTH else "to open one: vgtui show DIR/NAME") + "\n")
    return EXIT_DATA_ERROR if unreadable else EXIT_OK


def emit(text: str) -> None:
    """Standard output of the commands on saved runs: whatever a run folder holds, no control
    character reaches the terminal."""
    write_stdout(safe_text(text, None, lines=True))


def warn(error: object) -> None:
    """One error line on stderr, made safe to show."""
    say(safe_text(f"vgtui: error: {error}", 1000))


def reading(path: Path, done: int, total: int) -> None:
    """Progress while a large records file is read."""
    say(safe_text(f"vgtui: reading {path}: {100 * done // max(total, 1)}%", 1000))


def run_document(run: RunListing | SavedRun) -> dict:
    """What ``vgtui runs --json`` says of one run."""
    return {
        "run": run.name,
        "path": str(run.path),
        "started": run.started,
        "preset": run.config.preset_name,
        "status": str(run.status),
        "iterations_done": run.iterations_done,
        "iterations_planned": run.config.iterations,
        "setups": list(run.config.setup_names),
        "diverged": run.diverged,
        "best_test_accuracy": {
            s.setup: json_safe({"v": s.best_test_accuracy})["v"] for s in run.summaries
        },
    }


def runs_table(runs: Sequence[RunListing | SavedRun]) -> str:
    """One line per run, the settings that differ between the runs listed and its setups'
    best test accuracy below it, each item whole (wrapped, never cut): 80 columns."""
    names = [fitted_name(r.name, WIDTH) for r in runs]
    name_width = max(len("run"), *map(len, names))
    status_width = max(len(r.status_text) for r in runs)
    apart = name_width + 2 + 16 + 2 + 11 + 2 + status_width > WIDTH  # the name on its own line
    lead = " " * 2 if apart else f"{'':<{name_width}}  "
    lines = [("run\n" if apart else f"{'run':<{name_width}}  ")
             + f"{lead if apart else ''}{'started':<16}  {'iterations':>11}  status"]  # fmt: skip
    differ = differing([run.config for run in runs])
    for run, name in zip(runs, names, strict=True):
        started = run.started.replace("T", " ")[:16]
        iterations = f"{run.iterations_done}/{run.config.iterations}"
        facts = f"{started:<16}  {iterations:>11}  {run.status_text}"
        lines.append(f"{name}\n{lead}{facts}" if apart else f"{name:<{name_width}}  {facts}")
        settings = [
            f"{trait.label} {trait.value(run.config)}" for trait in differ if trait.key != "setups"
        ]
        lines += packed(settings, first="  settings:  ", then=" " * 13) if settings else []
        best = [f"{s.setup} {format_percent(s.best_test_accuracy)}" for s in run.summaries]
        lines += packed(best, first="  best test: ", then=" " * 13)
    return "\n".join(lines)


def packed(items: Sequence[str], first: str, then: str, width: int = WIDTH) -> list[str]:
    """``items`` two spaces apart, as many to a line as fit in ``width`` columns."""
    lines, line = [], first
    for item in items:
        if line not in (first, then) and len(line) + 2 + len(item) > width:
            lines.append(line)
            line = then
        line += item if line in (first, then) else "  " + item
    return [*lines, line]


@guard_output
def show_main(argv: Sequence[str]) -> int:
    parser = command_parser("show")
    parser.add_argument("runs", nargs="+", type=run_path, metavar="RUN", help=RUN_HELP)
    parser.add_argument("--no-ui", action="store_true", help="print the summary tables")
    parser.add_argument("--follow", action="store_true",
                        help="print records as they are written, until the run ends")  # fmt: skip
    parser.add_argument("--replay", action="store_true",
                        help="in the app: play the curves back (p pauses, the arrow keys and "
                        "[ ] scrub, - + change the pace)")  # fmt: skip
    parser.add_argument("--speed", type=_positive_rate, metavar="X",
                        help=f"replay pace, iterations per second ({REPLAY_SPEED:g})")  # fmt: skip
    args = parser.parse_args(argv)
    if args.speed is not None and not args.replay:
        parser.error("--speed goes with --replay")
    if args.replay and args.no_ui:
        parser.error("--replay plays the curves back in the app: drop --no-ui")
    if not args.no_ui:
        if has_terminal():
            try:
                from vgtui.ui.saved.opener import show_saved
            except ImportError as error:
                say(f"vgtui: the app is unavailable ({error}); printing the tables")
            else:
                replay = (args.speed or REPLAY_SPEED) if args.replay else None
                return show_saved(args.runs, replay=replay)
        elif args.replay:
            parser.error("--replay needs a terminal")
        else:
            say("vgtui: no terminal attached, printing the tables (--no-ui)")
    if args.follow:
        if len(args.runs) != 1:
            parser.error("--follow takes one run")
        return follow(args.runs[0])
    status = EXIT_OK
    for path in args.runs:
        try:
            run = read_run(path, reading)
        except RunFolderError as error:
            warn(error)
            status = EXIT_DATA_ERROR
            continue
        emit(summary_of(run) + "\n")
    return status


REPLAY_SPEED = 100.0
"""``show --replay``'s default pace: iterations per second (a default run in 20 s)."""


def _positive_rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        rate = math.nan
    if not (rate > 0 and math.isfinite(rate)):
        raise argparse.ArgumentTypeError(f"speed must be a positive number, got {text!r}")
    return rate


def summary_of(run: SavedRun) -> str:
    return format_summary(
        run.records,
        run.status,
        run.config,
        run.wall_seconds,
        run.path,
        run.dataset,
        iterations=run.iterations_done,
    )


def follow(path: Path) -> int:
    """Print each evaluation point of the run at ``path`` as it lands, then its summary;
    exit 1 if its writer died without finishing it."""
    follower = RunFollower(path)
    shown = 0
    for _ in polls():
        try:
            run = follower.read(reading)
        except RunFolderError as error:
            warn(error)
            return EXIT_DATA_ERROR
        new = run.records[shown:]
        if new:
            emit("".join(progress_lines(new, run.config.iterations)))
            shown = len(run.records)
        if run.finished:
            break
    emit(summary_of(run) + "\n")
    if run.status == RunStatus.DIED:
        warn(f"{path}: its writer stopped without finishing the run")
        return EXIT_DATA_ERROR
    return EXIT_OK


def progress_lines(records: Sequence[MetricRecord], planned: int) -> list[str]:
    """One line per evaluation point, its iteration and every setup's test accuracy, wrapped
    between setups to the terminal's width."""
    by_iteration: dict[int, list[MetricRecord]] = {}
    for record in records:
        by_iteration.setdefault(record.iteration, []).append(record)
    items = {
        iteration: [
            f"{r.setup} "
            + (format_percent(r.test_accuracy) if r.status == SetupStatus.OK else str(r.status))
            for r in group
        ]
        for iteration, group in by_iteration.items()
    }
    lines = []
    for iteration, accuracies in items.items():
        head = f"{iteration}/{planned}  "
        lines += [
            line + "\n"
            for line in packed(accuracies, head, " " * len(head), width=columns() or 10**9)
        ]
    return lines


EXPORT_METRICS = ("train_accuracy", "test_accuracy", "train_loss", "seconds")


@guard_output
def export_main(argv: Sequence[str]) -> int:
    parser = command_parser("export")
    parser.add_argument("runs", nargs="+", type=run_path, metavar="RUN", help=RUN_HELP)
    parser.add_argument("--format", choices=("csv", "json"), default="csv",
                        help="csv (default) or json (one object per line)")  # fmt: skip
    parser.add_argument("--output", "-o", type=Path, metavar="FILE",
                        help="write to FILE (atomically) instead of stdout")  # fmt: skip
    parser.add_argument("--svg", type=Path, metavar="DIR",
                        help="instead of the table: the charts, one SVG per tab, into DIR "
                        "(several runs: compared)")  # fmt: skip
    parser.add_argument("--force", action="store_true",
                        help="replace files that exist already")  # fmt: skip
    args = parser.parse_args(argv)
    target = args.svg if args.svg is not None else args.output
    if target is not None and (refusal := refused_output(target, args.runs)):
        warn(refusal)
        return EXIT_DATA_ERROR
    if args.svg is not None:
        return export_svg(args.runs, args.svg, args.force)
    if args.output is not None and args.output.exists() and not args.force:
        warn(f"{args.output} exists: add --force to replace it")
        return EXIT_DATA_ERROR
    runs = []
    for path in args.runs:
        try:
            runs.append(read_run(path, reading))
        except RunFolderError as error:
            warn(error)
            return EXIT_DATA_ERROR
    labels = export_labels(runs)
    rows = [row for run, label in zip(runs, labels, strict=True) for row in tidy_rows(run, label)]
    text = tidy_csv(rows) if args.format == "csv" else tidy_json(rows)
    if args.output is None:
        emit(text)
        return EXIT_OK
    try:
        atomic_write_text(args.output, text)
    except OSError as error:
        warn(f"cannot write {args.output}: {error.strerror or error}")
        return EXIT_DATA_ERROR
    return EXIT_OK


def refused_output(target: Path, runs: Sequence[Path]) -> str | None:
    """Why ``export`` must not write ``target`` (a file, or the folder of --svg): a run folder
    is never written into (``-o RUN/records.jsonl`` would replace the run's own records)."""
    folders = {_resolved(run) for run in runs}
    for place in (_resolved(target), _resolved(target).parent):
        if place in folders or (place / CONFIG_FILE).exists():
            return f"{target}: inside the run folder {place}: write it elsewhere"
    return None


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return path.absolute()


def export_svg(paths: Sequence[Path], folder: Path, force: bool = False) -> int:
    """``export --svg``: the app's tabs drawn headless, one SVG file each."""
    from vgtui.ui.saved.svg import export_svgs

    try:
        written, errors = export_svgs(paths, folder, force)
    except OSError as error:
        warn(f"cannot write {folder}: {error.strerror or error}")
        return EXIT_DATA_ERROR
    for error in errors:
        warn(error)
    emit("".join(f"{path}\n" for path in written))
    return EXIT_DATA_ERROR if errors else EXIT_OK


CONFIG_COLUMNS = tuple(trait.key for trait in TRAITS if trait.key != "setups")
"""Each run's settings, on every row of the export: pandas groups by learning_rate or seed."""
TIDY_COLUMNS = ("run", "label", *CONFIG_COLUMNS, "setup", "iteration", "metric", "value")


def export_labels(runs: Sequence[SavedRun]) -> list[str]:
    """What tells the exported runs apart (``lr0.5``), else what each is (``notebook``)."""
    words = config_labels([run.config for run in runs])
    return [word or folder_description(run.config) for word, run in zip(words, runs, strict=True)]


def tidy_rows(run: SavedRun, label: str = "") -> list[tuple]:
    """(run, label, its settings, setup, iteration, metric, value) for every measured value of
    every record."""
    settings = traits(run.config)
    head = (run.name, label, *(settings[key] for key in CONFIG_COLUMNS))
    rows = []
    for record in run.records:
        values = [(name, getattr(record, name)) for name in EXPORT_METRICS]
        values += [(f"grad_norm_{k}", v) for k, v in enumerate(record.grad_norms, start=1)]
        rows += [
            (*head, record.setup, record.iteration, name, value)
            for name, value in values
            if value == value  # NaN: not measured
        ]
    return rows


def tidy_csv(rows: Sequence[tuple]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TIDY_COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue()


def tidy_json(rows: Sequence[tuple]) -> str:
    return "".join(
        json.dumps(json_safe(dict(zip(TIDY_COLUMNS, row, strict=True)))) + "\n" for row in rows
    )
