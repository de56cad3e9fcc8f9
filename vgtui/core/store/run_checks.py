"""What a run folder's values must be before anything draws or sums them: a record of a setup
its configuration trains, with one gradient norm per weight layer, the histogram bins vgtui
writes, counts and times in range. A value outside is damage (ValueError with the reason):
an infinite time would overflow the header's clock, a histogram of 10^6 bins hang the chart,
a record with more layers than the network crash the gradient tab."""

from __future__ import annotations

import math

from vgtui.core.config import RunConfig
from vgtui.core.histogram import BINS
from vgtui.core.records import MetricRecord
from vgtui.core.summary import SetupSummary
from vgtui.core.vocabulary import RunStatus, SetupStatus

MAX_SECONDS = 1e9
"""A run's wall time at most (30 years)."""
MAX_COUNT = 2**53
"""A histogram count or gradient-zero count at most (exact in a float)."""


def records_at_most(config: RunConfig) -> int:
    """How many records a run of ``config`` writes at most: every evaluation of every
    network it trains (the last iteration included)."""
    return (config.iterations // config.eval_every + 2) * len(config.trained)


class RecordCheck:
    """Whether a row (a line of records.jsonl or a row of metrics.csv) is a record a run of
    ``config`` could have written: called with the row, it gives the record or raises
    ValueError with the reason. What the configuration allows is worked out once."""

    def __init__(self, config: RunConfig) -> None:
        self.config = config
        self.names = frozenset(name for _, _, name in config.trained)
        self.layers = len(config.hidden) + 1

    def __call__(self, row: object) -> MetricRecord:
        if not isinstance(row, dict):
            raise ValueError("not a JSON object")
        try:
            record = MetricRecord.from_dict(row)
        except (KeyError, TypeError, AttributeError, OverflowError) as error:
            raise ValueError(f"not a vgtui record ({type(error).__name__}: {error})") from None
        config, layers = self.config, self.layers
        if record.setup not in self.names:
            raise ValueError("a setup its configuration does not train")
        if not 0 <= record.iteration <= config.iterations:
            raise ValueError(f"iteration out of range 0..{config.iterations}")
        if not (math.isfinite(record.seconds) and 0 <= record.seconds <= MAX_SECONDS):
            raise ValueError("seconds out of range")
        if len(record.grad_norms) != layers or len(record.layers) not in (0, layers):
            raise ValueError(f"not {layers} weight layers, as its configuration has")
        if any(not 0 <= layer.grad_zeros <= MAX_COUNT for layer in record.layers):
            raise ValueError("a gradient-zero count out of range")
        if record.activations:
            self._check_activations(record)
        return record

    def _check_activations(self, record: MetricRecord) -> None:
        hidden = self.config.hidden
        if len(record.activations) != len(hidden):
            raise ValueError(f"not {len(hidden)} hidden layers, as its configuration has")
        for layer, width in zip(record.activations, hidden, strict=True):
            if layer.units != width or not 0 <= layer.dead_units <= width:
                raise ValueError("activation units out of range")
            counts = layer.histogram
            if len(counts) != BINS or any(not 0 <= c <= MAX_COUNT for c in counts):
                raise ValueError(f"an activation histogram that is not {BINS} counts")


def checked_summary(document: dict, config: RunConfig) -> tuple[RunStatus, float, int]:
    """summary.json's status, wall time and iterations trained; ValueError if out of range."""
    status = RunStatus(document["status"])
    wall = document.get("wall_seconds") or 0.0
    trained = document.get("iterations_done") or 0
    if isinstance(wall, bool) or not isinstance(wall, (int, float)) or not 0 <= wall <= MAX_SECONDS:
        raise ValueError("wall_seconds out of range")
    if type(trained) is not int or not 0 <= trained <= config.iterations:
        raise ValueError(f"iterations_done out of range 0..{config.iterations}")
    return status, float(wall), trained


_SUMMARY_NUMBERS = (
    "final_test_accuracy",
    "best_test_accuracy",
    "final_train_accuracy",
    "final_train_loss",
    "seconds",
    "grad_ratio",
    "final_test_spread",
)
_SUMMARY_COUNTS = ("iterations", "best_iteration", "seeds", "evaluations")


def summary_setups(document: dict, config: RunConfig) -> tuple[SetupSummary, ...]:
    """The per-setup summaries summary.json holds (what the writer summarised from all the
    records), each checked: a listing needs no more of a finished run."""
    rows = document.get("setups")
    if not isinstance(rows, list) or len(rows) > len(config.setups):
        raise ValueError("setups: not one summary per setup")
    summaries = []
    for row in rows:
        if not isinstance(row, dict) or row.get("setup") not in config.setup_names:
            raise ValueError("setups: a setup its configuration does not have")
        numbers = {key: _summary_number(row, key) for key in _SUMMARY_NUMBERS if key in row}
        counts = {key: _summary_count(row, key) for key in _SUMMARY_COUNTS if key in row}
        try:
            summaries.append(
                SetupSummary(
                    setup=row["setup"], status=SetupStatus(row["status"]), **numbers, **counts
                )  # type: ignore[arg-type]  # fmt: skip
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"setups: not a vgtui setup summary ({error})") from None
    return tuple(summaries)


def _summary_number(row: dict, key: str) -> float:
    value = row[key]
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"setups: {key} is not a number")
    return float(value)


def _summary_count(row: dict, key: str) -> int | None:
    value = row[key]
    if value is None and key == "best_iteration":  # no best: diverged before evaluating
        return None
    if type(value) is not int or not 0 <= value <= MAX_COUNT:
        raise ValueError(f"setups: {key} out of range")
    return value
