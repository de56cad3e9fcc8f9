"""The sweep folder ``<out>/<timestamp>-sweep/``: its format, its one writer and its one reader.

It holds ``sweep.json`` (the settings and versions, written whole: a temp file renamed, so a
reader never sees half of it) and ``cells.jsonl``: per finished task one ``"kind": "seed"``
line per sigma_w^2, and once all seeds of a cell have a line, a ``"kind": "cell"`` line with
the mean over seeds and the spread (the last cell line of a cell wins: a failed seed retried by
``--resume`` adds a new one). Lines are appended whole and flushed; a reader takes only whole
lines (:class:`SweepReader`), so it may follow the folder while a sweep writes it.

The theory overlay (vgtui.core.theory): a cell is predicted to train when its depth is below
6 xi_c; it trains when its mean test accuracy is at least the sweep's threshold (50% by default,
the diagnosis' "learned") and no seed diverged.
"""

from __future__ import annotations

import json
import platform
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

from vgtui import __version__
from vgtui.core.config import ConfigError
from vgtui.core.store.follow import FileFollower
from vgtui.core.store.run_folder import (
    FolderName,
    atomic_write_text,
    folder_order,
    json_safe,
    new_run_dir,
)
from vgtui.core.sweep.grid import theory
from vgtui.core.sweep.spec import CellKey, SweepSpec, Task
from vgtui.core.vocabulary import RunStatus, SetupStatus

SWEEP_FORMAT = 1
SWEEP_FILE = "sweep.json"
CELLS_FILE = "cells.jsonl"
SWEEP_KIND = "sweep"
"""What a sweep folder's name says it is: ``<timestamp>-sweep[-N]``."""
SEED_LINE = "seed"
CELL_LINE = "cell"


# -- the lines of cells.jsonl ------------------------------------------------------------------


def seed_lines(spec: SweepSpec, task: Task, result: dict | None, error: str | None) -> list[dict]:
    """The ``seed`` lines of a finished task: one per sigma_w^2 (each with the error of a
    task that failed)."""
    lines = []
    for k, weight_variance in enumerate(spec.weight_variances):
        line = {
            "kind": SEED_LINE,
            "activation": task.activation,
            "depth": task.depth,
            "weight_variance": weight_variance,
            "seed": task.seed,
        }
        if result is None:
            line.update(status=str(RunStatus.FAILED), error=error)
        else:
            line.update(status=str(RunStatus.DONE), **result["results"][k])
            line.update(seconds=result["seconds"], worker=f"{result['host']}:{result['pid']}")
        lines.append(line)
    return lines


def cell_line(spec: SweepSpec, activation: str, depth: int, weight_variance: float,
              seeds: Sequence[dict]) -> dict:  # fmt: skip
    """A cell from its seeds' lines: mean and spread over the seeds that finished."""
    done = [s for s in seeds if s.get("status") == RunStatus.DONE]
    failed = [s for s in seeds if s.get("status") != RunStatus.DONE]
    diverged = [s for s in done if s.get("setup_status") == SetupStatus.DIVERGED]
    scored = [s for s in done if s.get("test_accuracy") is not None]
    tests = [s["test_accuracy"] for s in scored]
    trains_ = [s["train_accuracy"] for s in scored if s.get("train_accuracy") is not None]
    model = theory(activation, weight_variance, spec.bias_variance)
    predicted = depth < model.trainable_depth
    line: dict = {
        "kind": CELL_LINE,
        "activation": activation,
        "depth": depth,
        "weight_variance": weight_variance,
        "seeds": len(seeds),
        "seeds_done": len(done),
        "status": str(RunStatus.DONE if done else RunStatus.FAILED),
        "test_accuracy": statistics.fmean(tests) if tests else None,
        "test_accuracy_min": min(tests) if tests else None,
        "test_accuracy_max": max(tests) if tests else None,
        "test_accuracy_std": statistics.pstdev(tests) if tests else None,
        "train_accuracy": statistics.fmean(trains_) if trains_ else None,
        "per_seed_test_accuracy": [s.get("test_accuracy") for s in done],
        "diverged_seeds": len(diverged),
        "diagnosis": _most_common([tuple(s.get("diagnosis", ())) for s in done]),
        "xi_c": model.xi_c,
        "trainable_depth": model.trainable_depth,
        "predicted_trains": predicted,
    }
    if done:
        trains = bool(tests) and not diverged and statistics.fmean(tests) >= spec.threshold
        line["trains"] = trains
        line["agrees"] = trains == predicted
    if failed:
        line["errors"] = sorted({str(s.get("error")) for s in failed})
    return json_safe(line)


def _most_common(values: list[tuple]) -> list:
    if not values:
        return []
    return list(Counter(values).most_common(1)[0][0])


def cell_key(line: Mapping) -> CellKey | None:
    """The (activation, depth, sigma_w^2) a line is about, or None for a malformed line."""
    try:
        return (str(line["activation"]), int(line["depth"]), float(line["weight_variance"]))
    except (KeyError, TypeError, ValueError):
        return None


class SweepLines:
    """What cells.jsonl says so far, line by line: the last cell line of each cell and the
    latest seed line of each (cell, seed). Kept by the writer and by a follower alike."""

    def __init__(self, lines: Iterable[dict] = ()) -> None:
        self.cells: dict[CellKey, dict] = {}
        self.seeds: dict[CellKey, dict[int, dict]] = {}
        self.add(lines)

    def add(self, lines: Iterable[dict]) -> None:
        for line in lines:
            key = cell_key(line)
            if key is None:
                continue
            if line.get("kind") == CELL_LINE:
                self.cells[key] = line
            elif line.get("kind") == SEED_LINE:
                self.seeds.setdefault(key, {})[line.get("seed", -1)] = line


# -- reading: whole lines only, so a folder can be followed while it is written ----------------


def parse_lines(raw_lines: Iterable[bytes]) -> list[dict]:
    """The JSON objects of whole lines (a line that is not one is skipped)."""
    lines = []
    for raw in raw_lines:
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict):
            lines.append(line)
    return lines


def read_spec(path: Path) -> SweepSpec:
    """The settings in a sweep folder's sweep.json; ConfigError if it is not one."""
    try:
        document = json.loads((path / SWEEP_FILE).read_text(encoding="utf-8"))
        return SweepSpec.from_dict(document["sweep"])
    except FileNotFoundError:
        raise ConfigError(f"{path}: not a sweep folder (no {SWEEP_FILE})") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfigError(f"{path / SWEEP_FILE}: unreadable ({error})") from None


class SweepReader:
    """The one reader of a sweep folder, never written to: its settings once, then at each
    :meth:`read` only the whole lines appended to cells.jsonl since the last one (a
    :class:`~vgtui.core.store.follow.FileFollower`), so a follower polling it costs one
    ``stat`` when nothing changed."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.spec: SweepSpec | None = None
        self.cells = FileFollower(self.path / CELLS_FILE)

    def read_spec(self) -> SweepSpec:
        """The sweep's settings (read once); ConfigError if sweep.json is missing or malformed."""
        if self.spec is None:
            self.spec = read_spec(self.path)
        return self.spec

    def read(self) -> tuple[list[dict], bool]:
        """The lines appended since the last call, and whether the file was replaced or cut
        (then these are all its lines, from the start)."""
        try:
            raw_lines, reset = self.cells.read()
        except OSError as error:
            raise ConfigError(f"{self.cells.path}: unreadable ({error})") from None
        return parse_lines(raw_lines), reset


def read_cells(path: Path) -> list[dict]:
    """Every whole line of a sweep folder's cells.jsonl (what the CLI, resume and tests read)."""
    return SweepReader(path).read()[0]


def sweep_folders(out_root: Path) -> list[Path]:
    """The sweep folders under ``out_root`` (``<timestamp>-sweep[-N]`` with a sweep.json),
    oldest first: ordered by their names, which the writer makes from the time it started."""
    try:
        entries = list(Path(out_root).iterdir())
    except OSError:
        return []
    found = []
    for entry in entries:
        name = FolderName.parse(entry.name)
        if name and name.kind == SWEEP_KIND and (entry / SWEEP_FILE).is_file():
            found.append(entry)
    return sorted(found, key=lambda path: folder_order(path.name))


def newest_sweep(out_root: Path) -> Path | None:
    folders = sweep_folders(out_root)
    return folders[-1] if folders else None


# -- writing -----------------------------------------------------------------------------------


def versions() -> dict:
    found = {"vgtui": __version__, "python": platform.python_version(), "numpy": np.__version__}
    for name in ("dask", "distributed"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        found[name] = getattr(module, "__version__", "?")
    return found


class SweepFolder:
    """The writer of one sweep folder: ``sweep.json`` once, then lines appended to
    ``cells.jsonl`` whole and flushed."""

    def __init__(self, path: Path, spec: SweepSpec, lines: Iterable[dict]) -> None:
        self.path = path
        self.spec = spec
        self.lines = SweepLines(lines)
        self._file = None

    @classmethod
    def create(cls, out_root: Path, spec: SweepSpec, extra: Mapping | None = None) -> SweepFolder:
        path = new_run_dir(Path(out_root), SWEEP_KIND)
        document = {
            "format": SWEEP_FORMAT,
            "kind": "sweep",
            "sweep": spec.to_dict(),
            "created": datetime.now().isoformat(timespec="seconds"),
            "versions": versions(),
            "tasks": len(spec.tasks()),
            "cells": spec.cell_count,
            **(extra or {}),
        }
        (path / CELLS_FILE).touch()  # first: a folder with a sweep.json is complete
        atomic_write_text(path / SWEEP_FILE, json.dumps(document, indent=2) + "\n")
        return cls(path, spec, [])

    @classmethod
    def open(cls, path: Path) -> SweepFolder:
        """An existing sweep folder, to write on (ConfigError if it is not one); a partial last
        line of cells.jsonl (a writer killed mid-write) is cut off."""
        reader = SweepReader(path)
        spec = reader.read_spec()
        lines, _ = reader.read()
        cells = path / CELLS_FILE
        try:
            if cells.exists() and cells.stat().st_size > reader.cells.lines_end:
                with open(cells, "r+b") as handle:
                    handle.truncate(reader.cells.lines_end)
        except OSError as error:
            raise ConfigError(f"{cells}: unreadable ({error})") from None
        return cls(path, spec, lines)

    def append(self, lines: Iterable[dict]) -> None:
        lines = list(lines)
        if self._file is None:
            self._file = open(self.path / CELLS_FILE, "a", encoding="utf-8", newline="\n")  # noqa: SIM115
        self._file.write("".join(json.dumps(line) + "\n" for line in lines))
        self._file.flush()
        self.lines.add(lines)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def finished_tasks(self) -> set[Task]:
        """Tasks whose every sigma_w^2 has a ``done`` seed line."""
        count: Counter = Counter()
        for (activation, depth, _), seeds in self.lines.seeds.items():
            for seed, line in seeds.items():
                if line.get("status") == RunStatus.DONE:
                    count[Task(activation, depth, seed)] += 1
        return {t for t, n in count.items() if n >= len(self.spec.weight_variances)}

    def seed_results(self, activation: str, depth: int) -> dict[float, dict[int, dict]]:
        """The latest seed line of each (sigma_w^2, seed) of one (activation, depth)."""
        return {
            w: dict(seeds)
            for (a, d, w), seeds in self.lines.seeds.items()
            if a == activation and d == depth
        }

    def add_task(self, task: Task, result: dict | None, error: str | None) -> list[dict]:
        """Append a finished task's seed lines and, once every seed of its (activation, depth)
        has a line, its cell lines, in one write; return the cell lines."""
        seeds = seed_lines(self.spec, task, result, error)
        cells = self._cells_of(task.activation, task.depth, seeds)
        self.append(seeds + cells)
        return cells

    def _cells_of(self, activation: str, depth: int, new: Sequence[dict] = ()) -> list[dict]:
        found = self.seed_results(activation, depth)
        for line in new:
            found.setdefault(line["weight_variance"], {})[line["seed"]] = line
        if any(len(found.get(w, {})) < self.spec.seeds for w in self.spec.weight_variances):
            return []
        return [
            cell_line(self.spec, activation, depth, w, list(found[w].values()))
            for w in self.spec.weight_variances
        ]

    def complete_cells(self) -> None:
        """Append the cell lines a writer stopped before writing (every seed done, no cell)."""
        have = self.cells()
        for activation in self.spec.activations:
            for depth in self.spec.depths:
                if any((activation, depth, w) not in have for w in self.spec.weight_variances):
                    cells = self._cells_of(activation, depth)
                    if cells:
                        self.append(cells)

    def cells(self) -> dict[CellKey, dict]:
        """The last cell line of each cell."""
        return dict(self.lines.cells)


__all__ = [
    "CELLS_FILE",
    "SWEEP_FILE",
    "SweepFolder",
    "SweepLines",
    "SweepReader",
    "newest_sweep",
    "read_cells",
    "sweep_folders",
]
