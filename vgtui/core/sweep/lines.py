"""The lines of a sweep's cells.jsonl: what the writer puts there (seed and cell lines), what
makes a line damaged, and :class:`SweepLines`, what the lines say so far.

A sweep folder is untrusted input (it may be damaged, or written by someone else): a line is
kept only if it has the shape the writer gives it, with finite numbers and accuracies in
0..1, so whatever reads the lines (the resume, the Sweep tab, the heatmap) can trust them.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from vgtui.core.store.run_folder import json_safe
from vgtui.core.summary import seed_sd
from vgtui.core.sweep.grid import theory
from vgtui.core.sweep.scores import trains as cell_trains
from vgtui.core.sweep.spec import (
    MAX_DEPTH,
    PLAIN,
    VARIANTS,
    CellKey,
    SweepSpec,
    Task,
    lane_name,
    split_lane,
)
from vgtui.core.vocabulary import RunStatus, SetupStatus

SEED_LINE = "seed"
CELL_LINE = "cell"
MAX_LINE_BYTES = 1 << 20
"""A longer line is damage (the writer's longest is a few kilobytes)."""
ACCURACY_FIELDS = (
    "test_accuracy",
    "test_accuracy_min",
    "test_accuracy_max",
    "test_accuracy_std",
    "train_accuracy",
)
"""Fields that are an accuracy (or its spread) in 0..1, or null."""
TEXT_LIST_FIELDS = ("diagnosis", "errors")


def seed_lines(spec: SweepSpec, task: Task, result: dict | None, error: str | None) -> list[dict]:
    """The ``seed`` lines of a finished task: one per sigma_w^2 (each with the error of a
    task that failed)."""
    lines = []
    for k, weight_variance in enumerate(spec.weight_variances):
        line = {
            "kind": SEED_LINE,
            "activation": task.activation,
            "variant": task.variant,
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


def cell_line(spec: SweepSpec, lane: str, depth: int, weight_variance: float,
              seeds: Sequence[dict]) -> dict:  # fmt: skip
    """A cell from its seeds' lines: mean and spread over the seeds that finished. Only a
    plain lane gets the mean-field prediction (and so ``agrees``): the theory is of plain
    networks, and says nothing usable about +bn or +res ones (README, Remedies)."""
    activation, variant = split_lane(lane)
    done = [s for s in seeds if s.get("status") == RunStatus.DONE]
    failed = [s for s in seeds if s.get("status") != RunStatus.DONE]
    diverged = [s for s in done if s.get("setup_status") == SetupStatus.DIVERGED]
    scored = [s for s in done if s.get("test_accuracy") is not None]
    tests = [s["test_accuracy"] for s in scored]
    trains_ = [s["train_accuracy"] for s in scored if s.get("train_accuracy") is not None]
    line: dict = {
        "kind": CELL_LINE,
        "activation": activation,
        "variant": variant,
        "depth": depth,
        "weight_variance": weight_variance,
        "seeds": len(seeds),
        "seeds_done": len(done),
        "status": str(RunStatus.DONE if done else RunStatus.FAILED),
        "test_accuracy": statistics.fmean(tests) if tests else None,
        "test_accuracy_min": min(tests) if tests else None,
        "test_accuracy_max": max(tests) if tests else None,
        "test_accuracy_std": seed_sd(tests) if len(tests) > 1 else None,
        "train_accuracy": statistics.fmean(trains_) if trains_ else None,
        "per_seed_test_accuracy": [s.get("test_accuracy") for s in done],
        "diverged_seeds": len(diverged),
        "diagnosis": _most_common([tuple(s.get("diagnosis", ())) for s in done]),
    }
    if variant == PLAIN:
        model = theory(activation, weight_variance, spec.bias_variance)
        line.update(
            xi_c=model.xi_c,
            xi_grad=model.xi_grad,
            depth_scale=model.depth_scale_name,
            trainable_depth=model.trainable_depth,
            predicted_trains=depth < model.trainable_depth,
        )
    if done:
        trains = cell_trains(line["test_accuracy"], len(diverged), spec.threshold)
        line["trains"] = trains
        if variant == PLAIN:
            line["agrees"] = trains == line["predicted_trains"]
    if failed:
        line["errors"] = sorted({str(s.get("error")) for s in failed})
    return json_safe(line)


def _most_common(values: list[tuple]) -> list:
    if not values:
        return []
    return list(Counter(values).most_common(1)[0][0])


def cell_key(line: Mapping) -> CellKey:
    """The (lane, depth, sigma_w^2) a line is about (a line :func:`line_damage` passed); a
    line without a variant (written before variants) is plain."""
    lane = lane_name(line["activation"], line.get("variant", PLAIN))
    return (lane, line["depth"], float(line["weight_variance"]))


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _accuracy(value: object) -> bool:
    return value is None or (_number(value) and 0 <= value <= 1)  # type: ignore[operator]


def line_damage(line: object) -> str | None:
    """What is wrong with a line of cells.jsonl, or None if it has the shape the writer gives
    it (the fields anything reads: its cell, seed, status, accuracies and texts)."""
    if not isinstance(line, dict):
        return f"a JSON {type(line).__name__}, not an object"
    kind = line.get("kind")
    if kind not in (SEED_LINE, CELL_LINE):
        return "its kind is neither seed nor cell"
    if not isinstance(line.get("activation"), str) or "+" in line["activation"]:
        return "no activation name"
    if line.get("variant", PLAIN) not in VARIANTS:
        return "an unknown variant"
    if not _whole(line.get("depth")) or not 1 <= line["depth"] <= MAX_DEPTH:
        return "no depth"
    if not _number(line.get("weight_variance")) or line["weight_variance"] <= 0:
        return "no weight_variance"
    if kind == SEED_LINE and (not _whole(line.get("seed")) or line["seed"] < 0):
        return "no seed"
    if not isinstance(line.get("status"), str):
        return "no status"
    for name in ACCURACY_FIELDS:
        if not _accuracy(line.get(name)):
            return f"{name} is not an accuracy in 0..1"
    per_seed = line.get("per_seed_test_accuracy", [])
    if not isinstance(per_seed, list) or not all(_accuracy(a) for a in per_seed):
        return "per_seed_test_accuracy is not a list of accuracies"
    for name in TEXT_LIST_FIELDS:
        value = line.get(name, [])
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            return f"{name} is not a list of texts"
    for name in ("seeds", "seeds_done", "diverged_seeds"):
        if name in line and not _whole(line[name]):
            return f"{name} is not a whole number"
    return None


def parse_line(raw: bytes) -> tuple[dict | None, str | None]:
    """A whole line (bytes, without its newline) as ``(line, None)``, or ``(None, what is
    wrong)``: not UTF-8 JSON, too long, nested too deep, a number out of range, or a line
    :func:`line_damage` refuses."""
    if len(raw) > MAX_LINE_BYTES:
        return None, f"longer than {MAX_LINE_BYTES} bytes"
    line, damage = json_document(raw)
    damage = damage or line_damage(line)
    return (None, damage) if damage else (line, None)


def json_document(data: bytes) -> tuple[object, str | None]:
    """``data`` parsed as UTF-8 JSON, or ``(None, what is wrong)``: not UTF-8, not JSON, nested
    too deep, an integer of too many digits, a number JSON does not have (NaN, Infinity)."""
    try:
        return json.loads(data, parse_constant=_no_constant), None
    except RecursionError:
        return None, "nested too deep"
    except ValueError as error:
        return None, f"not JSON ({' '.join(str(error).split())[:80]})"


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number")


def parse_lines(raw_lines: Iterable[bytes]) -> list[dict]:
    """The lines of whole lines that are not damaged (a follower skips the others)."""
    return [line for line, _ in map(parse_line, raw_lines) if line is not None]


class SweepLines:
    """What cells.jsonl says so far, line by line: the last cell line of each cell and the
    latest seed line of each (cell, seed). Kept by the writer and by a follower alike."""

    def __init__(self, lines: Iterable[dict] = ()) -> None:
        self.cells: dict[CellKey, dict] = {}
        self.seeds: dict[CellKey, dict[int, dict]] = {}
        self.add(lines)

    def add(self, lines: Iterable[dict]) -> None:
        for line in lines:
            if line_damage(line) is not None:
                continue
            key = cell_key(line)
            if line["kind"] == CELL_LINE:
                self.cells[key] = line
            else:
                self.seeds.setdefault(key, {})[line["seed"]] = line


__all__ = [
    "CELL_LINE",
    "SEED_LINE",
    "SweepLines",
    "cell_line",
    "line_damage",
    "parse_line",
    "parse_lines",
    "seed_lines",
]
