"""What the charts draw: the records of the current run, grouped per setup (no Textual here)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from vgtui.core.records import MetricRecord
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

    def add(self, record: MetricRecord) -> None:
        if record.status == SetupStatus.DIVERGED:
            self.diverged_at = record.iteration
            return
        self.iterations.append(record.iteration)
        self.train_accuracy.append(record.train_accuracy)
        self.test_accuracy.append(record.test_accuracy)
        self.train_loss.append(record.train_loss)
        self.grad_norms.append(record.grad_norms)
        self.delta_std.append(
            tuple(layer.delta_std for layer in record.layers)
            if record.layers
            else (math.nan,) * len(record.grad_norms)
        )

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
            series = self.series.get(record.setup)
            if series is None:
                series = self.series[record.setup] = SetupSeries(record.setup)
            series.add(record)

    def __len__(self) -> int:
        return len(self.records)
