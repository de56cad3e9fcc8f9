"""Hostile run folders (issue 22): a small valid run folder written here, and every kind of
damage the issue found, each a function that spoils a copy of it. Shared by the tests and
bench/hostile_runs.py (which counts tracebacks and hangs per command)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from vgtui.cli.main import COMMANDS as REGISTRY
from vgtui.core.config import RunConfig, parse_setups

CONFIG = RunConfig(iterations=20, hidden=(40, 20), eval_every=10,
                   setups=parse_setups("relu-he,sigmoid-gauss"), probe_size=100)  # fmt: skip
STARTED = "2026-11-29T15:22:38"
ESCAPES = {
    "osc52": "\x1b]52;c;aGFja2Vk\x07",
    "title": "\x1b]0;pwned\x07\x1b]2;pwned\x1b\\",
    "clear": "\x1b[2J\x1b[H",
    "c1csi": "\x9b2J",
    "del": "\x7f\x08\r",
    "markup": "[/][link=https://evil.example]click[/link][bold]",
}
"""Each family of escape sequence the issue names, and Rich markup."""


def record(iteration: int, setup: str, **changes: object) -> dict:
    histogram = [0] * 19 + [100]
    row = {
        "iteration": iteration, "setup": setup, "train_accuracy": 0.5, "test_accuracy": 0.4,
        "train_loss": 1.5, "seconds": 0.01 * iteration, "status": "ok",
        "grad_norm_1": 0.1, "grad_norm_2": 0.2, "grad_norm_3": 0.3,
        "layers": [{"delta_std": 0.1, "weight_std": 0.2, "update_ratio": 0.01,
                    "grad_zeros": 0}] * 3,
        "activations": [{"units": units, "mean": 0.1, "std": 0.2, "spread": 0.3,
                         "saturated": None, "inactive": 0.5, "dead_units": 0,
                         "histogram": histogram} for units in CONFIG.hidden],
    }  # fmt: skip
    row.update(changes)
    return row


def write_run(folder: Path, finished: bool = True, lines: int = 2) -> Path:
    """A valid run folder of format 2 (records with layers and activations)."""
    folder.mkdir(parents=True)
    writer = {"pid": 999_999, "host": socket.gethostname()}
    config = {"format": 2, "config": CONFIG.to_dict(), "preset": "custom", "dataset": "mnist",
              "started": STARTED, "writer": writer}  # fmt: skip
    (folder / "config.json").write_text(json.dumps(config))
    rows = [record(10 * (1 + n // 2), CONFIG.setup_names[n % 2]) for n in range(lines)]
    (folder / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    if finished:
        summary = {"status": "done", "iterations_done": 20, "iterations_planned": 20,
                   "wall_seconds": 0.5, "dataset": "mnist", "seed": 0, "setups": []}  # fmt: skip
        (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def _edit_json(name: str, change: Callable[[dict], object]) -> Callable[[Path], None]:
    def spoil(folder: Path) -> None:
        document = json.loads((folder / name).read_text())
        change(document)
        (folder / name).write_text(json.dumps(document))

    return spoil


def _first_record(text: str) -> Callable[[Path], None]:
    """records.jsonl's first line replaced by ``text``."""

    def spoil(folder: Path) -> None:
        lines = (folder / "records.jsonl").read_text().splitlines(keepends=True)
        (folder / "records.jsonl").write_text(text + "\n" + "".join(lines[1:]))

    return spoil


def _replace(name: str, text: str | bytes) -> Callable[[Path], None]:
    def spoil(folder: Path) -> None:
        path = folder / name
        path.unlink(missing_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode())

    return spoil


def _symlink(name: str, target: str) -> Callable[[Path], None]:
    def spoil(folder: Path) -> None:
        (folder / name).unlink(missing_ok=True)
        (folder / name).symlink_to(target)

    return spoil


def _fifo(name: str) -> Callable[[Path], None]:
    def spoil(folder: Path) -> None:
        (folder / name).unlink(missing_ok=True)
        os.mkfifo(folder / name)

    return spoil


def _writer(writer: object | Callable[[], object], age: float = 0.0) -> Callable[[Path], None]:
    """No summary (the run did not finish) and ``writer`` in config.json; every file ``age``
    seconds old."""

    def spoil(folder: Path) -> None:
        (folder / "summary.json").unlink()
        said = writer() if callable(writer) else writer
        _edit_json("config.json", lambda d: d.update(writer=said))(folder)
        when = time.time() - age
        for path in folder.iterdir():
            os.utime(path, (when, when))

    return spoil


def zombie_pid() -> int:
    """A child of this process that exited and was never reaped (kept so until we exit)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
    return child.pid


def _raw_iteration(value: str) -> Callable[[Path], None]:
    line = json.dumps(record(10, "relu-he")).replace('"iteration": 10', f'"iteration": {value}')
    return _first_record(line)


HUGE = "9" * 30
NESTED = "[" * 100_000 + "]" * 100_000
DAMAGE: dict[str, Callable[[Path], None]] = {
    "records-iteration-Infinity": _raw_iteration("Infinity"),
    "records-iteration-NaN": _raw_iteration("NaN"),
    "records-iteration-huge": _raw_iteration(HUGE),
    "records-iteration-4400-digits": _raw_iteration("9" * 4400),
    "records-iteration-1e999": _raw_iteration("1e999"),
    "records-iteration-negative": _raw_iteration("-5"),
    "summary-iterations-Infinity": _replace(
        "summary.json", '{"status": "done", "iterations_done": Infinity}'
    ),  # fmt: skip
    "summary-iterations-huge": _edit_json(
        "summary.json", lambda d: d.update(iterations_done=int(HUGE))
    ),  # fmt: skip
    "summary-wall-Infinity": _replace(
        "summary.json", '{"status": "done", "wall_seconds": Infinity}'
    ),  # fmt: skip
    "summary-wall-1e308": _edit_json("summary.json", lambda d: d.update(wall_seconds=1e308)),
    "config-iterations-Infinity": _replace(
        "config.json", '{"format": 2, "config": {"iterations": Infinity}}'
    ),  # fmt: skip
    "config-iterations-huge": _edit_json(
        "config.json", lambda d: d["config"].update(iterations=int(HUGE))
    ),  # fmt: skip
    "histogram-infinite": _first_record(
        json.dumps(record(10, "relu-he")).replace('"histogram": [0,', '"histogram": [1e999,', 1)
    ),  # fmt: skip
    "histogram-million-bins": _first_record(
        json.dumps(
            record(
                10,
                "relu-he",
                activations=[{**record(10, "relu-he")["activations"][0], "histogram": [1] * 10**6}]
                * 2,
            )
        )
    ),
    "more-gradient-layers": _first_record(json.dumps(record(10, "relu-he", grad_norm_4=0.5))),
    "unknown-setup": _first_record(json.dumps(record(10, "tanh-he"))),
    "records-nested-100000": _first_record(NESTED),
    "summary-nested-100000": _replace("summary.json", NESTED),
    "config-nested-100000": _replace("config.json", NESTED),
    "records-long-line": _first_record(json.dumps(record(10, "relu-he", pad="x" * 3_000_000))),
    "records-not-utf8": _replace("records.jsonl", b'{"iteration": 10, "setup": "\xff"}\n'),
    "histogram-100000-bins": _first_record(
        json.dumps(
            record(
                10,
                "relu-he",
                activations=[{**record(10, "relu-he")["activations"][0], "histogram": [1] * 10**5}]
                * 2,
            )
        )
    ),
    "records-dev-zero": _symlink("records.jsonl", "/dev/zero"),
    "records-dev-urandom": _symlink("records.jsonl", "/dev/urandom"),
    "summary-dev-zero": _symlink("summary.json", "/dev/zero"),
    "records-fifo": _fifo("records.jsonl"),
    "summary-fifo": _fifo("summary.json"),
    "config-fifo": _fifo("config.json"),
    "config-directory": lambda f: ((f / "config.json").unlink(), (f / "config.json").mkdir()),
    "config-interrupted-write": lambda f: (f / "config.json").rename(f / ".config.json.a1b2.tmp"),
    "writer-pid-0": _writer({"pid": 0, "host": socket.gethostname()}),
    "writer-pid-minus-1": _writer({"pid": -1, "host": socket.gethostname()}),
    "writer-pid-1": _writer({"pid": 1, "host": socket.gethostname()}),
    "writer-pid-huge": _writer({"pid": 10**15, "host": socket.gethostname()}),
    "writer-other-host": _writer({"pid": 4242, "host": "elsewhere.example"}, age=3600),
    "writer-zombie": _writer(lambda: {"pid": zombie_pid(), "host": socket.gethostname()}),
    "writer-not-an-object": _writer("me"),
}
"""Each kind of damage by name: a function that spoils a valid run folder."""

DAMAGE_ENDING_IN_ERROR = {name for name in DAMAGE if not name.startswith("writer-")}
"""Damage a reader must refuse (the others are folders whose writer is gone: readable)."""

RECORDS_DAMAGE = {name for name in DAMAGE_ENDING_IN_ERROR
                  if name.startswith(("records-", "histogram-", "more-", "unknown-"))}  # fmt: skip
"""Damage to the records alone: a listing reads a finished run's config and summary only."""

COMMANDS: dict[str, Callable[[Path, Path], list[str]]] = {
    "runs": lambda run, out: ["runs", str(run.parent)],
    "runs --json": lambda run, out: ["runs", str(run.parent), "--json"],
    "show --no-ui": lambda run, out: ["show", str(run), "--no-ui"],
    "show --follow": lambda run, out: ["show", str(run), "--follow", "--no-ui"],
    "export": lambda run, out: ["export", str(run)],
    "export --format json -o": lambda run, out: [
        "export",
        str(run),
        "--format",
        "json",
        "-o",
        str(out / "out.json"),
    ],  # fmt: skip
    "export --svg": lambda run, out: ["export", str(run), "--svg", str(out / "svg")],
}
"""The seven commands the issue tried on every hostile folder: argv from (run, scratch)."""


def hostile_folder(root: Path, damage: str, name: str = "20261129-152238-custom") -> Path:
    """A run folder under ``root`` spoiled by ``damage`` (a key of :data:`DAMAGE`)."""
    folder = write_run(root / name)
    DAMAGE[damage](folder)
    return folder


def escaped_folder(root: Path, family: str) -> Path:
    """A valid run whose folder name and dataset hold the escape ``family`` (a key of
    :data:`ESCAPES`, or the text itself)."""
    text = ESCAPES.get(family, family)
    folder = write_run(root / f"20261129-152238-x{text.replace('/', '|')}")
    _edit_json("config.json", lambda d: d.update(dataset=f"mn{text}ist"))(folder)
    return folder


def copy_run(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target


HANG_SECONDS = 20


class Hang(Exception):
    pass


@contextlib.contextmanager
def watchdog(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """A call that takes longer than ``seconds`` fails as a hang instead of blocking."""

    def expire(signum, frame):
        raise Hang(f"no answer in {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def call(argv: list[str], capsys) -> tuple[int, str, str]:
    """``vgtui ARGV`` in this process: its exit status, stdout and stderr."""
    capsys.readouterr()
    with watchdog():
        try:
            status = REGISTRY[argv[0]].load()(argv[1:])
        except SystemExit as exit_:
            status = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capsys.readouterr()
    return status, out, err
