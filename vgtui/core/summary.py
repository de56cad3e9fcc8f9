"""Summaries of a run: one :class:`SetupSummary` per setup from its records, and the summary
table drawn from them, the same columns on the command line and in the app."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vgtui.core.config import RunConfig, base_setup
from vgtui.core.diagnosis import setup_state
from vgtui.core.records import MetricRecord
from vgtui.core.vocabulary import SetupState, SetupStatus


@dataclass(frozen=True)
class SetupSummary:
    """Outcome of one setup: final and best test accuracy, final train accuracy and more."""

    setup: str
    status: SetupStatus
    iterations: int
    final_test_accuracy: float
    best_test_accuracy: float
    best_iteration: int | None
    """None when there is no best test accuracy (NaN: a setup that diverged before its first
    evaluation), so that summary.json has null for both."""
    final_train_accuracy: float
    final_train_loss: float
    seconds: float
    grad_ratio: float
    seeds: int = 1
    """With several seeds: the accuracies, loss and ratio are their means ..."""
    final_test_sd: float = math.nan
    """... this is the sample standard deviation (n - 1) of their final test accuracies
    (NaN with fewer than two finite ones) ..."""
    final_test_min: float = math.nan
    final_test_max: float = math.nan
    """... and these their lowest and highest (one seed: its own)."""
    evaluations: int = 0

    @property
    def state(self) -> SetupState:
        """As the strip shows it: ok, stalled, diverged or no data."""
        return setup_state(self.status, self.evaluations, self.final_test_accuracy)


def seeds_vary(config: RunConfig) -> str:
    """What differs between the seeds of a run, as the summary says it."""
    if config.seeds == 1:
        return "one seed"
    if config.same_batches:
        return f"initial weights only (all on the mini-batches of seed {config.seed})"
    return "initial weights and mini-batches"


def seed_sd(values: Sequence[float]) -> float:
    """The seeds' standard deviation: the sample one (n - 1), NaN for fewer than two."""
    return statistics.stdev(values) if len(values) > 1 else math.nan


def diverged_setups(summaries: Iterable[SetupSummary]) -> list[str]:
    """The setups of a run that diverged, in order."""
    return [s.setup for s in summaries if s.status == SetupStatus.DIVERGED]


def status_text(status: object, summaries: Iterable[SetupSummary]) -> str:
    """A run's status and how many setups diverged: ``done, 1 diverged``."""
    diverged = len(diverged_setups(summaries))
    return f"{status}, {diverged} diverged" if diverged else str(status)


def finite_mean(values: Iterable[float]) -> float:
    """The mean of the finite values (a diverged seed's NaN or inf left out); NaN if none."""
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan


def summarize(records: Iterable[MetricRecord], setup_names: Sequence[str]) -> list[SetupSummary]:
    """One summary per setup (in ``setup_names`` order) from the records seen so far; the
    seeds of a setup (``relu-he``, ``relu-he#2``, ...) are summarised together."""
    groups: dict[str, list[SetupSummary]] = {}
    for summary in _summaries(records, setup_names):
        groups.setdefault(base_setup(summary.setup), []).append(summary)
    return [_combined(name, group) for name, group in groups.items()]


def _combined(name: str, group: list[SetupSummary]) -> SetupSummary:
    """One setup's seeds as one summary: means, and the spread of the final test accuracy."""
    if len(group) == 1:
        return group[0]

    finals = [s.final_test_accuracy for s in group if math.isfinite(s.final_test_accuracy)]
    statuses = {s.status for s in group}
    status = next((st for st in (SetupStatus.DIVERGED, SetupStatus.OK) if st in statuses),
                  group[0].status)  # fmt: skip
    best = finite_mean(s.best_test_accuracy for s in group)
    return SetupSummary(
        setup=name,
        status=status,
        iterations=max(s.iterations for s in group),
        final_test_accuracy=finite_mean(s.final_test_accuracy for s in group),
        best_test_accuracy=best,
        best_iteration=group[0].best_iteration if math.isfinite(best) else None,
        final_train_accuracy=finite_mean(s.final_train_accuracy for s in group),
        final_train_loss=finite_mean(s.final_train_loss for s in group),
        seconds=max(s.seconds for s in group),
        grad_ratio=mean_ratio(s.grad_ratio for s in group),
        seeds=len(group),
        final_test_sd=seed_sd(finals),
        final_test_min=min(finals, default=math.nan),
        final_test_max=max(finals, default=math.nan),
        evaluations=max(s.evaluations for s in group),
    )


def _summaries(records: Iterable[MetricRecord], setup_names: Sequence[str]) -> list[SetupSummary]:
    """One summary per record name (setups first, in ``setup_names`` order)."""
    by_setup: dict[str, list[MetricRecord]] = {name: [] for name in setup_names}
    for record in records:
        by_setup.setdefault(record.setup, []).append(record)
    summaries = []
    for name, rows in by_setup.items():
        scored = [r for r in rows if r.status == SetupStatus.OK]
        diverged = any(r.status == SetupStatus.DIVERGED for r in rows)
        status = (
            SetupStatus.DIVERGED
            if diverged
            else (SetupStatus.OK if scored else SetupStatus.NO_DATA)
        )
        if scored:
            last = scored[-1]
            best = max(scored, key=lambda r: r.test_accuracy)
            summaries.append(
                SetupSummary(
                    setup=name,
                    status=status,
                    iterations=rows[-1].iteration,
                    final_test_accuracy=last.test_accuracy,
                    best_test_accuracy=best.test_accuracy,
                    best_iteration=best.iteration,
                    final_train_accuracy=last.train_accuracy,
                    final_train_loss=last.train_loss,
                    seconds=rows[-1].seconds,
                    grad_ratio=last.grad_ratio,
                    final_test_min=last.test_accuracy,
                    final_test_max=last.test_accuracy,
                    evaluations=len(rows),
                )
            )
        else:
            nan = math.nan
            iterations = rows[-1].iteration if rows else 0
            seconds = rows[-1].seconds if rows else 0.0
            summaries.append(
                SetupSummary(name, status, iterations, nan, nan, None, nan, nan, seconds, nan)
            )
    return summaries


# -- the summary table: one set of columns for the CLI's table and the app's Summary tab

SUMMARY_COLUMNS: tuple[str, ...] = (
    "setup",
    "status",
    "iter",
    "final test",
    "best test",
    "@iter",
    "final train",
    "seconds",
    "grad 1st/last",
)
"""Columns of :func:`summary_cells`."""
SUMMARY_SHORT_HEADERS = {
    "final test": "test",
    "best test": "best",
    "final train": "train",
    "seconds": "s",
    "grad 1st/last": "1st/last",
}
"""Headers for narrow tables."""
SUMMARY_PRIORITY = (
    "setup",
    "grad 1st/last",
    "final test",
    "status",
    "best test",
    "final train",
    "iter",
    "@iter",
    "seconds",
)
"""The columns from the most to the least important: narrow tables drop the last ones."""
CELL_GAP = 2


def fit_summary_columns(
    rows: Sequence[Sequence[str]], width: int
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The columns (in table order) and their headers that fit ``width`` with a gap of
    :data:`CELL_GAP` after each: full headers if every column fits so, else short headers,
    dropping the least important columns until the rest fit. Never a cut number."""

    def needed(column: str, header: str) -> int:
        index = SUMMARY_COLUMNS.index(column)
        return max([len(header), *(len(row[index]) for row in rows)]) + CELL_GAP

    full = {c: c for c in SUMMARY_COLUMNS}
    short = {c: SUMMARY_SHORT_HEADERS.get(c, c) for c in SUMMARY_COLUMNS}
    for headers in (full, short):
        chosen: list[str] = []
        used = 0
        for column in SUMMARY_PRIORITY:
            cost = needed(column, headers[column])
            if used + cost > width and chosen:
                break
            chosen.append(column)
            used += cost
        if len(chosen) == len(SUMMARY_COLUMNS):
            break
    columns = tuple(c for c in SUMMARY_COLUMNS if c in chosen)
    return columns, tuple(headers[c] for c in columns)


def format_number(value: float, spec: str, missing: str = "-") -> str:
    """``value`` formatted with ``spec``, or ``missing`` when it was not measured (NaN)."""
    return missing if math.isnan(value) else format(value, spec)


def format_percent(value: float) -> str:
    """An accuracy in 0..1 as a percentage, e.g. ``94.8%``."""
    return format_number(100 * value, ".1f") + ("" if math.isnan(value) else "%")


def mean_ratio(ratios: Iterable[float]) -> float:
    """The seeds' gradient ratio: the geometric mean of their positive finite ratios (they
    span orders of magnitude); the summary and the app's strip and titles show this one."""
    logs = [math.log(r) for r in ratios if math.isfinite(r) and r > 0]
    return math.exp(finite_mean(logs)) if logs else math.nan


def format_ratio(value: float) -> str:
    """A gradient ratio (or norm) that keeps its magnitude in few characters: ``4.3e-3``,
    ``1.8e0``; ``0`` for an exact zero (underflow), ``-`` when not measured."""
    if math.isnan(value):
        return "-"
    if value == 0:
        return "0"
    if math.isinf(value):
        return "inf"
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _sd_text(sd: float) -> str:
    """`` sd 0.4`` (percentage points) after a mean of seeds; nothing without one."""
    return f" sd {100 * sd:.1f}" if math.isfinite(sd) else ""


def summary_cells(summary: SetupSummary) -> tuple[str, ...]:
    """One row of the summary table (see :data:`SUMMARY_COLUMNS`), the same in the app and on
    the command line. Gradient ratios keep their magnitude (4.3e-3, never 0.00). With several
    seeds the final test is their mean and standard deviation, ``90.5% sd 0.4``."""
    return (
        summary.setup,
        str(summary.state),
        str(summary.iterations),
        format_percent(summary.final_test_accuracy) + _sd_text(summary.final_test_sd),
        format_percent(summary.best_test_accuracy),
        str(summary.best_iteration) if summary.best_iteration else "-",
        format_percent(summary.final_train_accuracy),
        f"{summary.seconds:.1f}",
        format_ratio(summary.grad_ratio),
    )
