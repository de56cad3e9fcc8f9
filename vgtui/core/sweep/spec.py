"""Trainability sweeps over (activation, depth, sigma_w^2, seed), without any UI or scheduler.

A sweep is a grid of cells (activation, depth, sigma_w^2), each trained with ``seeds`` seeds.
One *task* is one (activation, depth, seed): it trains every sigma_w^2 of the sweep together,
as the setups ``ACT-var:W`` of one RunConfig, so they step in lockstep in one bank on the same
mini-batches. :func:`run_task` runs a task in whatever process calls it (a Dask worker, or the
bench's plain loop); it loads the data itself, once per process, and evaluates on its own
thread (the workers are the parallelism).

The sweep folder ``<out>/<timestamp>-sweep/`` holds ``sweep.json`` (the settings and versions)
and ``cells.jsonl``: per finished task one ``"kind": "seed"`` line per sigma_w^2, and once all
seeds of a cell have a line, a ``"kind": "cell"`` line with the mean over seeds and the spread
(the last cell line of a cell wins: a failed seed retried by ``--resume`` adds a new one).

The theory overlay (vgtui.core.theory): a cell is predicted to train when its depth is below
6 xi_c; it trains when its mean test accuracy is at least the sweep's threshold (50% by default,
the diagnosis' "learned") and no seed diverged.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import statistics
import textwrap
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime
from functools import cache
from pathlib import Path

import numpy as np

from vgtui import __version__
from vgtui.core.budget import check_memory
from vgtui.core.config import (
    ConfigError,
    RunConfig,
    SetupSpec,
    check_bias_variance,
    check_learning_rate,
    check_positive_int,
    parse_float,
    parse_int,
    parse_setup,
)
from vgtui.core.diagnosis import LEARNED
from vgtui.core.store.run_folder import json_safe, new_run_dir
from vgtui.core.theory import critical_weight_variance, mean_field
from vgtui.core.vocabulary import RunStatus, SetupStatus

SWEEP_FORMAT = 1
SWEEP_FILE = "sweep.json"
CELLS_FILE = "cells.jsonl"
SEED_LINE = "seed"
CELL_LINE = "cell"
MAX_VALUES = 200  # values on one axis
WIDTH = 80


# -- the grid --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepSpec:
    """Everything that defines a sweep. The defaults are the ``schoenholz`` preset."""

    activations: tuple[str, ...] = ("tanh",)
    weight_variances: tuple[float, ...] = tuple(1.0 + 0.375 * k for k in range(9))
    """1 to 4 in 9 steps: 1.75 is a column, next to the critical 1.761 of tanh at 0.05."""
    depths: tuple[int, ...] = (10, 25, 40, 55, 70, 85, 100)
    bias_variance: float = 0.05
    width: int = 100
    seeds: int = 1
    iterations: int = 400
    learning_rate: float = 0.003
    batch_size: int = 100
    eval_every: int = 80
    threshold: float = LEARNED
    """A cell trains when its mean test accuracy is at least this."""
    data_dir: str | None = None
    """Where workers find the four MNIST IDX files; None: the bundled MNIST."""

    def validate(self) -> SweepSpec:
        """Raise ConfigError for the first invalid value (before any work); return self."""
        if not self.activations:
            raise ConfigError("no activations given")
        for activation in self.activations:
            parse_activation(activation)
        if not self.weight_variances or any(
            not math.isfinite(w) or w <= 0 for w in self.weight_variances
        ):
            raise ConfigError("weight variances must be positive numbers")
        if not self.depths or any(d < 1 for d in self.depths):
            raise ConfigError("depths must be positive whole numbers")
        check_bias_variance(self.bias_variance)
        check_positive_int("width", self.width)
        check_positive_int("seeds", self.seeds)
        check_learning_rate(self.learning_rate)
        if not 0 < self.threshold <= 1:
            raise ConfigError(f"threshold must be in (0, 1], got {self.threshold:g}")
        for activation in self.activations:
            config = self.config(Task(activation, max(self.depths), 0)).validate()
            check_memory(config)
        return self

    @property
    def setups(self) -> tuple[str, ...]:
        return tuple(f"var:{w:g}" for w in self.weight_variances)

    def config(self, task: Task) -> RunConfig:
        """The run of one task: every sigma_w^2 as a setup of one bank."""
        return RunConfig(
            iterations=self.iterations,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            hidden=(self.width,) * task.depth,
            eval_every=self.eval_every,
            seed=task.seed,
            setups=tuple(SetupSpec(task.activation, "var", w) for w in self.weight_variances),
            bias_variance=self.bias_variance,
        )

    def tasks(self) -> list[Task]:
        """Every task, the most expensive first (so the last ones to finish are short)."""
        tasks = [
            Task(a, d, s) for a in self.activations for d in self.depths for s in range(self.seeds)
        ]
        return sorted(tasks, key=lambda t: (-t.depth, t.activation, t.seed))

    @property
    def cell_count(self) -> int:
        return len(self.activations) * len(self.depths) * len(self.weight_variances)

    def to_dict(self) -> dict:
        document = asdict(self)
        for key in ("activations", "weight_variances", "depths"):
            document[key] = list(document[key])
        return document

    @classmethod
    def from_dict(cls, document: Mapping) -> SweepSpec:
        """Inverse of :meth:`to_dict`; raises ConfigError for a malformed document."""
        known = {f.name for f in fields(cls)}
        try:
            values = {k: v for k, v in document.items() if k in known}
            for key in ("activations", "weight_variances", "depths"):
                if key in values:
                    values[key] = tuple(values[key])
            spec = cls(**values)
            spec = replace(
                spec,
                weight_variances=tuple(float(w) for w in spec.weight_variances),
                depths=tuple(int(d) for d in spec.depths),
            )
            return spec.validate()
        except (TypeError, ValueError) as error:
            raise ConfigError(f"malformed sweep settings: {error}") from None


PRESETS: dict[str, SweepSpec] = {
    "schoenholz": SweepSpec(),
    "quick": SweepSpec(
        weight_variances=(0.5, 1.0, 1.76, 3.0, 6.0),
        depths=(2, 6, 12),
        width=32,
        iterations=200,
        learning_rate=0.05,
        eval_every=40,
    ),
}
"""``schoenholz``: Schoenholz et al.'s figure (tanh, sigma_b^2 0.05, sigma_w^2 1..4, depth
10..100, width 100) cut to a few minutes on two cores; ``quick``: a smoke test in seconds."""


@dataclass(frozen=True, order=True)
class Task:
    """One unit of work: every sigma_w^2 of one (activation, depth, seed)."""

    activation: str
    depth: int
    seed: int

    @property
    def key(self) -> str:
        return f"{self.activation}-depth{self.depth}-seed{self.seed}"


# -- parsing the axes ------------------------------------------------------------------------


def parse_activation(text: str) -> str:
    return parse_setup(f"{text.strip()}-he").activation


def parse_activations(text: str) -> tuple[str, ...]:
    items = [p.strip() for p in text.split(",")]
    if not text.strip() or any(not p for p in items):
        raise ConfigError(f"activations must look like tanh,relu, got {text.strip()!r}")
    found = tuple(dict.fromkeys(parse_activation(p) for p in items))
    return found


def _axis(label: str, text: str, parse) -> list:
    """``LOW:HIGH:N`` (N evenly spaced values, both ends included) or ``A,B,C``."""
    text = text.strip()
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise ConfigError(f"{label} range must look like LOW:HIGH:N, got {text!r}")
        low = parse_float(label, parts[0])
        high = parse_float(label, parts[1])
        count = parse_int(f"{label} count", parts[2])
        if count < 1 or count > MAX_VALUES:
            raise ConfigError(f"{label} count must be in 1..{MAX_VALUES}, got {count}")
        if high < low:
            raise ConfigError(f"{label} range must go up (LOW <= HIGH), got {text!r}")
        if count == 1 and high != low:
            raise ConfigError(f"{label} range of 1 value needs LOW = HIGH, got {text!r}")
        return [parse(f"{v:.10g}") for v in np.linspace(low, high, count)]
    items = [p.strip() for p in text.split(",")]
    if not text or any(not p for p in items):
        raise ConfigError(f"{label} must be LOW:HIGH:N or a list like 1,2,3, got {text!r}")
    if len(items) > MAX_VALUES:
        raise ConfigError(f"{label}: at most {MAX_VALUES} values")
    return [parse(p) for p in items]


def parse_weight_variances(text: str) -> tuple[float, ...]:
    """``1:4:13`` or ``0.5,1,2``: sigma_w^2 values, each > 0."""
    label = "weight variance"
    values = _axis(label, text, lambda t: parse_float(label, t))
    if any(v <= 0 for v in values):
        raise ConfigError(f"{label} values must be > 0, got {text.strip()!r}")
    values = sorted({round(v, 10) for v in values})
    return tuple(values)


def parse_depths(text: str) -> tuple[int, ...]:
    """``10:100:10`` (10 evenly spaced depths, rounded) or ``2,5,10``: depths, each >= 1."""
    label = "depth"

    def whole(t: str) -> int:
        value = parse_float(label, t)
        if value != round(value) and ":" not in text:
            raise ConfigError(f"{label} must be a whole number, got {t!r}")
        return round(value)

    values = _axis(label, text, whole)
    if any(v < 1 for v in values):
        raise ConfigError(f"{label} values must be >= 1, got {text.strip()!r}")
    if any(v > 10_000 for v in values):
        raise ConfigError(f"{label} values must be at most 10000, got {text.strip()!r}")
    return tuple(sorted(set(values)))


# -- a task, in the worker -------------------------------------------------------------------


@cache
def _dataset(data_dir: str | None):
    """The data, loaded once per process."""
    from vgtui.core.data import load_dataset

    return load_dataset(data_dir)


@cache
def _blocks(data_dir: str | None, probe_size: int, seed: int):
    """The test blocks with the probe of a seed, cut once per process and seed."""
    from vgtui.core.eval_blocks import dataset_blocks

    return dataset_blocks(_dataset(data_dir), probe_size=probe_size, seed=seed)


def run_task(spec_document: dict, task: Task) -> dict:
    """Train one task in this process, on this thread; return its results (JSON-friendly).

    Called by Dask workers (and the bench's plain loop): one BLAS thread, the data loaded by
    the process itself (never sent with the task), evaluation on this thread."""
    from vgtui.core.blas import limit_blas_threads
    from vgtui.core.diagnosis import diagnose
    from vgtui.core.evaluation.local import LocalEvaluator
    from vgtui.core.summary import summarize
    from vgtui.core.trainer import Trainer

    started = time.time()
    limit_blas_threads(1)
    spec = SweepSpec.from_dict(spec_document)
    loading = time.perf_counter()
    config = spec.config(task)
    data = _dataset(spec.data_dir)
    blocks = _blocks(spec.data_dir, config.probe_size, config.seed)
    load_seconds = time.perf_counter() - loading
    trainer = Trainer(config, data, np.random.default_rng(task.seed), LocalEvaluator(blocks))
    records: list = []
    try:
        trainer.run(records.extend)
    finally:
        trainer.close()
    names = config.setup_names
    findings = diagnose(records, names)
    results = []
    for weight_variance, name, summary in zip(
        spec.weight_variances, names, summarize(records, names), strict=True
    ):
        mine = [f for f in findings if f.setup == name]
        results.append(
            json_safe(
                {
                    "weight_variance": weight_variance,
                    "setup": name,
                    "setup_status": str(summary.status),
                    "train_accuracy": summary.final_train_accuracy,
                    "test_accuracy": summary.final_test_accuracy,
                    "best_test_accuracy": summary.best_test_accuracy,
                    "train_loss": summary.final_train_loss,
                    "grad_ratio": summary.grad_ratio,
                    "diagnosis": [str(f.kind) for f in mine],
                    "evidence": [f.evidence for f in mine],
                }
            )
        )
    return {
        "task": task.key,
        "activation": task.activation,
        "depth": task.depth,
        "seed": task.seed,
        "results": results,
        "seconds": trainer.seconds,
        "load_seconds": load_seconds,
        "started": started,
        "finished": time.time(),
        "pid": os.getpid(),
        "host": platform.node(),
    }


# -- the sweep folder ------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Theory:
    """What mean-field theory predicts for one column."""

    xi_c: float
    trainable_depth: float
    chi_1: float


@cache
def theory(activation: str, weight_variance: float, bias_variance: float) -> Theory:
    field_ = mean_field(activation, weight_variance, bias_variance)
    return Theory(field_.xi_c, field_.trainable_depth, field_.chi_1)


@cache
def critical(activation: str, bias_variance: float) -> float | None:
    try:
        return critical_weight_variance(activation, bias_variance)
    except ValueError:
        return None


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
    """``sweep.json`` and ``cells.jsonl`` of one sweep: lines appended whole and flushed."""

    def __init__(self, path: Path, spec: SweepSpec, lines: list[dict]) -> None:
        self.path = path
        self.spec = spec
        self.lines = lines
        self._file = None

    @classmethod
    def create(cls, out_root: Path, spec: SweepSpec, extra: Mapping | None = None) -> SweepFolder:
        path = new_run_dir(Path(out_root), "sweep")
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
        (path / SWEEP_FILE).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        (path / CELLS_FILE).touch()
        return cls(path, spec, [])

    @classmethod
    def open(cls, path: Path) -> SweepFolder:
        """An existing sweep folder (ConfigError if it is not one); a partial last line of
        cells.jsonl (a writer killed mid-write) is dropped."""
        try:
            document = json.loads((path / SWEEP_FILE).read_text(encoding="utf-8"))
            spec = SweepSpec.from_dict(document["sweep"])
        except FileNotFoundError:
            raise ConfigError(f"{path}: not a sweep folder (no {SWEEP_FILE})") from None
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ConfigError(f"{path / SWEEP_FILE}: unreadable ({error})") from None
        cells = path / CELLS_FILE
        try:
            text = cells.read_text(encoding="utf-8") if cells.exists() else ""
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"{cells}: unreadable ({error})") from None
        lines, complete = [], 0
        for raw in text.splitlines(keepends=True):
            if not raw.endswith("\n"):
                break
            try:
                lines.append(json.loads(raw))
            except ValueError:
                break
            complete += len(raw.encode("utf-8"))
        if complete != len(text.encode("utf-8")):
            with open(cells, "r+b") as handle:
                handle.truncate(complete)
        return cls(path, spec, lines)

    def append(self, lines: Iterable[dict]) -> None:
        lines = list(lines)
        if self._file is None:
            self._file = open(self.path / CELLS_FILE, "a", encoding="utf-8", newline="\n")  # noqa: SIM115
        self._file.write("".join(json.dumps(line) + "\n" for line in lines))
        self._file.flush()
        self.lines.extend(lines)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def finished_tasks(self) -> set[Task]:
        """Tasks whose every sigma_w^2 has a ``done`` seed line."""
        count: Counter = Counter()
        for line in self.lines:
            if line.get("kind") == SEED_LINE and line.get("status") == RunStatus.DONE:
                count[Task(line["activation"], line["depth"], line["seed"])] += 1
        return {t for t, n in count.items() if n >= len(self.spec.weight_variances)}

    def seed_results(self, activation: str, depth: int) -> dict[float, dict[int, dict]]:
        """The latest seed line of each (sigma_w^2, seed) of one (activation, depth)."""
        found: dict[float, dict[int, dict]] = {}
        for line in self.lines:
            if (
                line.get("kind") == SEED_LINE
                and line["activation"] == activation
                and line["depth"] == depth
            ):
                found.setdefault(line["weight_variance"], {})[line["seed"]] = line
        return found

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

    def cells(self) -> dict[tuple[str, int, float], dict]:
        """The last cell line of each cell."""
        return {
            (line["activation"], line["depth"], line["weight_variance"]): line
            for line in self.lines
            if line.get("kind") == CELL_LINE
        }


# -- following a sweep folder while it is written --------------------------------------------

_SWEEP_NAME = re.compile(r"(\d{8}-\d{6})-sweep(?:-(\d+))?")


def sweep_folders(out_root: Path) -> list[Path]:
    """The sweep folders under ``out_root`` (``<timestamp>-sweep[-N]`` with a sweep.json),
    oldest first: ordered by their names, which the writer makes from the time it started."""
    try:
        entries = list(Path(out_root).iterdir())
    except OSError:
        return []
    found = []
    for entry in entries:
        match = _SWEEP_NAME.fullmatch(entry.name)
        if match and (entry / SWEEP_FILE).is_file():
            found.append(((match.group(1), int(match.group(2) or 1)), entry))
    return [path for _, path in sorted(found)]


def newest_sweep(out_root: Path) -> Path | None:
    folders = sweep_folders(out_root)
    return folders[-1] if folders else None


class SweepReader:
    """One sweep folder read while another process writes it, never written to (unlike
    :meth:`SweepFolder.open`, which drops a partial last line): its settings once, then at
    each :meth:`read` only the whole lines appended to cells.jsonl since the last one, so a
    follower polling it costs one ``stat`` when nothing changed."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.spec: SweepSpec | None = None
        self.offset = 0
        """Bytes of cells.jsonl already read: whole lines only."""

    def read_spec(self) -> SweepSpec:
        """The sweep's settings; ConfigError if sweep.json is missing, partial or malformed
        (a writer that has just created the folder may not have written it yet)."""
        if self.spec is None:
            try:
                document = json.loads((self.path / SWEEP_FILE).read_text(encoding="utf-8"))
                self.spec = SweepSpec.from_dict(document["sweep"])
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise ConfigError(f"{self.path / SWEEP_FILE}: unreadable ({error})") from None
        return self.spec

    def read(self) -> tuple[list[dict], bool]:
        """The lines appended since the last call, and whether the file was replaced or cut
        (then these are all its lines, from the start). A line that is not JSON is skipped."""
        cells = self.path / CELLS_FILE
        try:
            size = cells.stat().st_size
        except FileNotFoundError:
            return [], False
        except OSError as error:
            raise ConfigError(f"{cells}: unreadable ({error})") from None
        reset = size < self.offset
        if reset:
            self.offset = 0
        if size == self.offset:
            return [], reset
        try:
            with open(cells, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read(size - self.offset)
        except OSError as error:
            raise ConfigError(f"{cells}: unreadable ({error})") from None
        whole = data[: data.rfind(b"\n") + 1]  # a partial last line waits for its end
        self.offset += len(whole)
        lines = []
        for raw in whole.splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if isinstance(line, dict):
                lines.append(line)
        return lines, reset


# -- the heatmap and the agreement with theory -----------------------------------------------

BAND_DIGITS = "0123456789"
NARROW_PREDICTED_NOT = "abcdefghij"


def band(cell: dict | None) -> str:
    """One character: the tens digit of the test accuracy; x diverged, ? failed, . not run."""
    if cell is None:
        return "."
    if cell.get("diverged_seeds"):
        return "x"
    accuracy = cell.get("test_accuracy")
    if accuracy is None:
        return "?"
    return BAND_DIGITS[min(9, max(0, int(accuracy * 10)))]


def agreement(spec: SweepSpec, cells: Mapping) -> tuple[int, int]:
    """(cells whose outcome matches depth < 6 xi_c, cells with an outcome)."""
    judged = [c for c in cells.values() if "agrees" in c]
    return sum(1 for c in judged if c["agrees"]), len(judged)


def axis_label(value: float, width: int) -> str:
    """``value`` in at most ``width`` characters if it can be (1.375 -> 1.38 in 4), so that
    neighbouring column labels never run together."""
    for digits in (4, 3, 2, 1):
        text = f"{value:.{digits}g}"
        if len(text) <= width:
            return text
    return text


def _depth_label(value: float) -> str:
    if math.isinf(value):
        return "inf"
    return f"{value:.0f}" if value < 9999.5 else "big"


def heatmap(spec: SweepSpec, cells: Mapping, width: int = WIDTH) -> str:
    """Per activation, a grid of test accuracy over (sigma_w^2, depth) with the theory
    overlay, the legend and the agreement with theory, in ``width`` columns."""
    blocks = [_heatmap_block(spec, activation, cells, width) for activation in spec.activations]
    matches, judged = agreement(spec, cells)
    share = f"{100 * matches / judged:.0f}%" if judged else "-"
    summary = textwrap_lines(
        f'Agreement with theory: {matches}/{judged} cells ({share}) match "trains (mean test '
        f'accuracy >= {100 * spec.threshold:.0f}%, no seed diverged) iff depth < 6 xi_c".',
        width,
    )
    return "\n\n".join([*blocks, "\n".join(summary)])


def textwrap_lines(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_on_hyphens=False)


def _heatmap_block(spec: SweepSpec, activation: str, cells: Mapping, width: int) -> str:
    columns = spec.weight_variances
    label = 7  # "  100  "
    cell_width = next((w for w in (5, 3) if label + w * len(columns) <= width), 1)
    models = [theory(activation, w, spec.bias_variance) for w in columns]
    seeds = f"{spec.seeds} seeds, mean" if spec.seeds > 1 else "1 seed"
    lines = textwrap_lines(
        f"{activation}: test accuracy after {spec.iterations} iterations, width "
        f"{spec.width}, sigma_b^2 {spec.bias_variance:g}, lr {spec.learning_rate:g} ({seeds})",
        width,
    )
    crit = critical(activation, spec.bias_variance)
    marker_column = None
    if crit is not None and columns[0] <= crit <= columns[-1]:
        marker_column = min(range(len(columns)), key=lambda k: abs(columns[k] - crit))
    if marker_column is not None:
        offset = label + marker_column * cell_width + cell_width // 2
        lines.append(" " * offset + "v")
    if cell_width == 5:
        lines.append("depth  " + "".join(f"{axis_label(w, 4):^5}" for w in columns).rstrip())
    else:
        lines.append("depth  (columns: sigma_w^2 below)")
    for depth in sorted(spec.depths, reverse=True):
        row = []
        for k, w in enumerate(columns):
            char = band(cells.get((activation, depth, w)))
            predicted = depth < models[k].trainable_depth
            if cell_width == 1:
                if not predicted and char in BAND_DIGITS:
                    char = NARROW_PREDICTED_NOT[BAND_DIGITS.index(char)]
                row.append(char)
            elif predicted:
                row.append(f"{char:^{cell_width}}")
            else:
                row.append(f"({char})".center(cell_width))
        lines.append(f"{depth:>5}  " + "".join(row).rstrip())
    if cell_width == 5:
        labels = "".join(f"{_depth_label(m.trainable_depth):^5}" for m in models)
        lines.append(("6xi_c  " + labels).rstrip())
    else:
        values = ", ".join(
            f"{w:g} ({_depth_label(m.trainable_depth)})"
            for w, m in zip(columns, models, strict=True)
        )
        lines += textwrap_lines(f"sigma_w^2 (6 xi_c), left to right: {values}", width)
    digits = "digit: test accuracy in tens of % (0 below 10%, 9 from 90%)"
    if cell_width == 1:
        lines += textwrap_lines(
            f"{digits}; a-j: the same where depth >= 6 xi_c (theory: does not train); "
            "x diverged, ? failed, . not run",
            width,
        )
    else:
        lines += textwrap_lines(
            f"{digits}; (d): depth >= 6 xi_c, theory says it does not train; x diverged, "
            "? failed, . not run",
            width,
        )
    if crit is not None:
        where = "v marks the nearest column" if marker_column is not None else "outside the grid"
        lines += textwrap_lines(
            f"critical sigma_w^2 (chi_1 = 1, xi_c infinite): {crit:.3f} ({where})", width
        )
    return "\n".join(lines)


__all__ = [
    "PRESETS",
    "SweepFolder",
    "SweepReader",
    "SweepSpec",
    "Task",
    "agreement",
    "heatmap",
    "newest_sweep",
    "parse_activations",
    "parse_depths",
    "parse_weight_variances",
    "run_task",
    "sweep_folders",
]
