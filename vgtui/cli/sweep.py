"""``vgtui sweep``: a trainability phase diagram over (sigma_w^2, depth), run on Dask.

With no scheduler address, an embedded ``distributed.LocalCluster`` (one single-threaded worker
process per core, no dashboard) is started in this process and closed at the end; with
``--scheduler`` (or ``DASK_SCHEDULER_ADDRESS``) the tasks go to an existing cluster whose
workers have vgtui installed. Dask is imported only here, only when a sweep runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from vgtui.cli.common import (
    EXIT_BROKEN_PIPE,
    EXIT_DATA_ERROR,
    EXIT_OK,
    OutputError,
    argument_type,
    bounded_float,
    bounded_int,
    command_parser,
    say,
    say_fitted,
    silence_stdout,
    write_stdout,
)
from vgtui.cli.scheduler import (
    CONNECT_TIMEOUT_SECONDS,
    DaskSession,
    SchedulerLost,
    lost_scheduler,
    submit,
)
from vgtui.core.config import ConfigError
from vgtui.core.safe_text import safe_text
from vgtui.core.store.run_folder import RunWriteError
from vgtui.core.sweep.folder import SweepFolder
from vgtui.core.sweep.spec import PRESETS, SWEEP_OPTIONS, SweepSpec, Task
from vgtui.core.sweep.task import run_task
from vgtui.core.sweep.text import heatmap

RETRIES = 2
"""Retries of a task that raised; a task whose worker died is rescheduled by the scheduler
(``distributed.scheduler.allowed-failures``, 3 by default)."""


def build_parser() -> argparse.ArgumentParser:
    default = PRESETS["schoenholz"]
    parser = command_parser(
        "sweep",
        "One task trains every sigma_w^2 of one (activation, depth, seed) together.",
        epilog="Exit status: 0 done, 1 bad data, an unreachable scheduler or failed cells, "
        "2 bad arguments, 130 interrupted (finished cells are kept: --resume DIR).",
    )
    add = parser.add_argument
    add("--preset", choices=sorted(PRESETS), default=None,
        help="start from a preset (default schoenholz); the options below override it")  # fmt: skip
    for option in SWEEP_OPTIONS:
        shown = option.show(getattr(default, option.key))
        add(option.flag, dest=option.key, type=argument_type(option), default=None,
            metavar=option.metavar, help=f"{option.help} (schoenholz: {shown})")  # fmt: skip
    add("--data-dir", type=Path, metavar="DIR",
        help="folder with the 4 MNIST IDX files, as workers see it (default: bundled)")  # fmt: skip
    add("--out", type=Path, default=Path("runs"), metavar="DIR",
        help="parent of the sweep folder DIR/<timestamp>-sweep/ (default runs)")  # fmt: skip
    add("--resume", type=Path, metavar="DIR",
        help="finish the sweep in DIR: its own settings, only the missing cells")  # fmt: skip
    add("--scheduler", metavar="ADDRESS",
        help="a running Dask scheduler, e.g. tcp://HOST:8786 (default: $DASK_SCHEDULER_ADDRESS, "
        "else an embedded LocalCluster)")  # fmt: skip
    add("--connect-timeout", type=argument_type(bounded_float("connect timeout", 0.1, 600)),
        default=CONNECT_TIMEOUT_SECONDS, metavar="SECONDS",
        help="how long to wait for the scheduler to answer before saying it cannot be reached "
        f"(default {CONNECT_TIMEOUT_SECONDS:g})")  # fmt: skip
    add("--workers", type=argument_type(bounded_int("workers", 1, 1024)), default=None, metavar="N",
        help="worker processes of the embedded cluster (default: one per core)")  # fmt: skip
    return parser


def spec_from_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> SweepSpec:
    spec = PRESETS[args.preset or "schoenholz"]
    changes = {
        o.key: getattr(args, o.key) for o in SWEEP_OPTIONS if getattr(args, o.key) is not None
    }
    if args.data_dir is not None:
        changes["data_dir"] = str(args.data_dir.resolve())
    try:
        return replace(spec, **changes).validate()
    except ConfigError as error:
        parser.error(str(error))
        raise  # not reached


def main(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.resume is not None:
        given = [o.flag for o in SWEEP_OPTIONS if getattr(args, o.key) is not None]
        given += ["--preset"] * (args.preset is not None) + ["--data-dir"] * bool(args.data_dir)
        if given:
            parser.error(f"--resume uses the sweep's own settings: drop {', '.join(given)}")
        try:  # read and locked, not written: nothing changes before the scheduler answers
            folder = SweepFolder.open(args.resume)
        except ConfigError as error:
            error_line(error)
            return EXIT_DATA_ERROR
        spec = folder.spec
    else:
        spec = spec_from_args(parser, args)
        folder = None
    dask = DaskSession()
    try:
        status = _sweep(args, spec, folder, dask)
    finally:
        stopped_by = dask.close()
    return status if stopped_by is None else 128 + stopped_by


def _sweep(args: argparse.Namespace, spec: SweepSpec, folder: SweepFolder | None,
           dask: DaskSession) -> int:  # fmt: skip
    """Connect, create the folder (or finish the resumed one's cells), run the tasks."""
    try:
        if spec.data_dir is not None and not Path(spec.data_dir).is_dir():
            error_line(f"{spec.data_dir}: no such directory")
            return EXIT_DATA_ERROR
        address = args.scheduler
        if address is None:  # an empty --scheduler is an error, an empty variable unset
            address = os.environ.get("DASK_SCHEDULER_ADDRESS") or None
        finished = folder.finished_tasks() if folder is not None else set()
        todo = [t for t in spec.tasks() if t not in finished]
        client = None
        if todo:  # before the folder exists: an unreachable scheduler leaves nothing behind
            try:
                client = dask.connect(address, args.workers, args.connect_timeout)
            except OSError as error:
                error_line(error)
                return EXIT_DATA_ERROR
        if folder is None:
            try:
                folder = SweepFolder.create(args.out, spec)
            except (OSError, ConfigError) as error:
                error_line(f"cannot create a sweep folder under {args.out}: {error}")
                return EXIT_DATA_ERROR
        else:
            folder.complete_cells()
        return run_sweep(folder, client, todo)
    except RunWriteError as error:
        error_line(f"{error}{_kept(folder)}")
        return EXIT_DATA_ERROR
    except SchedulerLost as lost:
        assert folder is not None
        error_line(
            f"lost the scheduler at {lost.address}; {len(folder.cells())} cells kept; "
            f"resume with --resume {folder.path}"
        )
        return EXIT_DATA_ERROR
    except BrokenPipeError:
        silence_stdout()
        return EXIT_BROKEN_PIPE
    except OutputError as error:
        silence_stdout()
        error_line(error)
        return EXIT_DATA_ERROR
    finally:
        if folder is not None:
            folder.close()


ERROR_LINE_CHARACTERS = 500
"""An error line quotes files and arguments: longer is cut."""


def error_line(error: object) -> None:
    """The one error line: what comes from a file or an argument escaped, and cut."""
    say(f"vgtui: error: {safe_text(str(error), ERROR_LINE_CHARACTERS)}")


def _kept(folder: SweepFolder | None) -> str:
    """What is left of a sweep that stopped early, and how to finish it."""
    if folder is None or not folder.path.is_dir():
        return ""
    kept = len(folder.finished_tasks())
    return f"; {kept} task(s) kept; finish it with: vgtui sweep --resume {folder.path}"


def _error_text(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}".strip()
    if isinstance(error, ModuleNotFoundError) and "vgtui" in str(error):
        text = "the Dask worker has no vgtui installed (pip install vgtui on every worker)"
    return " ".join(text.split())[:300]


def run_sweep(folder: SweepFolder, client, todo: list[Task]) -> int:
    """Submit ``todo`` to ``client``, stream results into the folder as they finish, print the
    heatmap. Exit 130 on Ctrl-C (what finished is kept), 1 if tasks failed."""
    spec = folder.spec
    total = len(spec.tasks())
    say_fitted(
        f"vgtui: sweep {folder.path}: {len(todo)} of {total} tasks to run "
        f"({spec.cell_count} cells x {spec.seeds} seed(s); a task is one activation, depth "
        f"and seed with all {len(spec.weight_variances)} sigma_w^2)"
    )
    started = time.perf_counter()
    failed = 0
    interrupted: KeyboardInterrupt | None = None
    if todo:
        try:
            failed = _submit_and_collect(client, folder, todo, total - len(todo), total)
        except KeyboardInterrupt as interrupt:
            interrupted = interrupt
    wall = time.perf_counter() - started
    write_stdout(heatmap(spec, folder.cells()) + "\n")
    done = len(folder.finished_tasks())
    say_fitted(f"vgtui: {done}/{total} tasks done in {wall:.1f} s; sweep folder {folder.path}")
    if interrupted is not None:
        say(f"vgtui: interrupted; finish it with: vgtui sweep --resume {folder.path}")
        return 128 + getattr(interrupted, "signum", signal.SIGINT)
    if failed:
        say(f"vgtui: error: {failed} task(s) failed (errors in cells.jsonl); retry them with "
            f"vgtui sweep --resume {folder.path}")  # fmt: skip
        return EXIT_DATA_ERROR
    return EXIT_OK


def _submit_and_collect(client, folder: SweepFolder, todo: list[Task], done: int,
                        total: int) -> int:  # fmt: skip
    from distributed import as_completed

    document = folder.spec.to_dict()
    futures = {}
    for rank, task in enumerate(todo):
        future = submit(
            client,
            run_task,
            document,
            task,
            key=f"vgtui-sweep-{os.getpid()}-{task.key}",
            retries=RETRIES,
            pure=False,
            priority=len(todo) - rank,  # the most expensive first
        )
        futures[future] = task
    failed = 0
    try:
        for future in as_completed(list(futures), loop=client.loop):
            task = futures[future]
            error = None
            try:
                result = future.result()
            except (Exception, asyncio.CancelledError) as exc:
                if lost_scheduler(client, exc):
                    raise SchedulerLost(client) from None
                result, error = None, _error_text(exc)  # a task that failed: recorded
                failed += 1
            folder.add_task(task, result, error)
            done += 1
            say_fitted(_progress_line(done, total, task, result, error, folder.spec))
    except BaseException:
        with contextlib.suppress(Exception):
            client.cancel(list(futures), force=True)
        raise
    return failed


def _progress_line(done: int, total: int, task: Task, result: dict | None, error: str | None,
                   spec: SweepSpec) -> str:  # fmt: skip
    head = f"vgtui: [{done}/{total}] {task.lane} depth {task.depth} seed {task.seed}"
    if result is None:
        return f"{head}: failed: {error}"
    scores = [
        (r["test_accuracy"], r["weight_variance"])
        for r in result["results"]
        if r["test_accuracy"] is not None
    ]
    trains = sum(1 for accuracy, _ in scores if accuracy >= spec.threshold)
    best = max(scores, default=None)
    best_text = f"best {100 * best[0]:.0f}% at sigma_w^2 {best[1]:g}, " if best else ""
    return (
        f"{head}: {result['seconds']:.1f} s, {best_text}{trains}/{len(spec.weight_variances)} train"
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
