"""What the charts draw: the records of the current run, grouped per setup (no Textual here)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from vgtui.core.config import base_setup
from vgtui.core.records import MetricRecord
from vgtui.core.summary import finite_mean, mean_ratio
from vgtui.core.vocabulary import SetupStatus
from vgtui.ui.view import GradientQuantity


@dataclass
class SetupSeries:
    """The curves of one setup: accuracies and per-layer gradient norms over iterations."""

    setup: str
    iterations: list[int] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    """Mean cross-entropy of the mini-batches since the previous evaluation point."""
    grad_norms: list[tuple[float, ...]] = field(default_factory=list)
    delta_std: list[tuple[float, ...]] = field(default_factory=list)
    """Std of the back-propagated error at each weight layer's output (NaN: not recorded)."""
    diverged_at: int | None = None
    test_low: list[float] = field(default_factory=list)
    test_high: list[float] = field(default_factory=list)
    """With several seeds: the lowest and highest test accuracy at each iteration (the other
    lists hold the seeds' means)."""
    seeds: int = 1
    grad_ratio: list[float] = field(default_factory=list)
    """First/last-layer gradient ratio per iteration; with several seeds the geometric mean of
    theirs (core.summary.mean_ratio), the number the summary shows, not the ratio of the
    mean norms."""
    _records: dict[int, list[MetricRecord]] = field(default_factory=dict, repr=False)

    def add(self, record: MetricRecord) -> None:
        """Add a record of this setup, or of one of its further seeds (``relu-he#2``)."""
        if record.status == SetupStatus.DIVERGED:
            if record.setup == self.setup:  # a further seed's end is not the setup's
                self.diverged_at = record.iteration
            return
        group = self._records.get(record.iteration)
        if group is None:
            group = self._records[record.iteration] = [record]
            self.iterations.append(record.iteration)
            for values in self._lists():
                values.append(math.nan)
        else:
            group.append(record)
            self.seeds = max(self.seeds, len(group))
        last = len(self.iterations) - 1
        at = last if self.iterations[last] == record.iteration else None
        self._aggregate(self.iterations.index(record.iteration) if at is None else at, group)

    def _lists(self) -> list[list]:
        return [self.train_accuracy, self.test_accuracy, self.train_loss, self.grad_norms,
                self.delta_std, self.test_low, self.test_high, self.grad_ratio]  # fmt: skip

    def _aggregate(self, at: int, group: list[MetricRecord]) -> None:
        """The means (and the test accuracy's range) of the seeds recorded at ``at``."""
        if len(group) == 1:  # one seed: its own values, exactly
            (record,) = group
            values = (record.train_accuracy, record.test_accuracy, record.train_loss,
                      record.grad_norms, _delta_std(record), record.test_accuracy,
                      record.test_accuracy, record.grad_ratio)  # fmt: skip
        else:
            tests = [r.test_accuracy for r in group if math.isfinite(r.test_accuracy)]
            values = (
                finite_mean(r.train_accuracy for r in group),
                finite_mean(tests),
                finite_mean(r.train_loss for r in group),
                tuple(map(finite_mean, zip(*(r.grad_norms for r in group), strict=True))),
                tuple(map(finite_mean, zip(*(_delta_std(r) for r in group), strict=True))),
                min(tests, default=math.nan),
                max(tests, default=math.nan),
                mean_ratio(r.grad_ratio for r in group),
            )
        for values_list, value in zip(self._lists(), values, strict=True):
            values_list[at] = value

    @property
    def latest_train(self) -> float:
        return self.train_accuracy[-1] if self.train_accuracy else math.nan

    @property
    def latest_test(self) -> float:
        return self.test_accuracy[-1] if self.test_accuracy else math.nan

    def layer_norms(self, layer: int) -> list[float]:
        """Gradient norm of ``layer`` (0 = input layer) at every recorded iteration."""
        return [norms[layer] for norms in self.grad_norms]

    def per_layer(self, quantity: GradientQuantity) -> list[tuple[float, ...]]:
        """Per recorded iteration, each weight layer's gradient norm or error (delta) std."""
        return self.delta_std if quantity == "delta" else self.grad_norms


def _delta_std(record: MetricRecord) -> tuple[float, ...]:
    if record.layers:
        return tuple(layer.delta_std for layer in record.layers)
    return (math.nan,) * len(record.grad_norms)


class RunHistory:
    """All records of one run (or of several runs compared, their setups named
    ``run/setup``), in arrival order and per setup."""

    def __init__(self, setup_names: Sequence[str]) -> None:
        self.setup_names = tuple(setup_names)
        self.records: list[MetricRecord] = []
        self.series = {name: SetupSeries(name) for name in self.setup_names}
        self.last_iteration = 0
        """The latest iteration recorded (of any setup: several runs may be shown at once)."""

    def add(self, records: Iterable[MetricRecord]) -> None:
        for record in records:
            self.records.append(record)
            self.last_iteration = max(self.last_iteration, record.iteration)
            name = record.setup
            if name not in self.series and base_setup(name) in self.series:
                name = base_setup(name)  # a further seed: drawn with its setup
            series = self.series.get(name)
            if series is None:
                series = self.series[name] = SetupSeries(name)
            series.add(record)

    def __len__(self) -> int:
        return len(self.records)
