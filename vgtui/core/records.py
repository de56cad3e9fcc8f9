"""Small immutable records emitted by the trainer."""

from __future__ import annotations

import math
from dataclasses import dataclass

from vgtui.core.vocabulary import SetupStatus


@dataclass(frozen=True, slots=True)
class LayerStats:
    """One weight layer of one setup at an evaluation point, from that iteration's step:
    the std of the back-propagated error (delta) at the layer's output, the weights' std, the
    update/weight ratio lr * |grad| / |W|, and how many gradient entries are exactly 0."""

    delta_std: float
    weight_std: float
    update_ratio: float
    grad_zeros: int
    gamma: float | None = None
    """With batch norm (+bn, hidden layers): the mean over the layer's units of gamma, ..."""
    beta: float | None = None
    """... of beta, ..."""
    running_mean: float | None = None
    """... of the running mean of the pre-activations (what evaluation subtracts) ..."""
    running_std: float | None = None
    """... and of their running standard deviation (what evaluation divides by)."""

    def to_dict(self) -> dict:
        row: dict = {
            "delta_std": self.delta_std,
            "weight_std": self.weight_std,
            "update_ratio": self.update_ratio,
            "grad_zeros": self.grad_zeros,
        }
        if self.gamma is not None:
            row.update(gamma=self.gamma, beta=self.beta, running_mean=self.running_mean,
                       running_std=self.running_std)  # fmt: skip
        return row


BATCH_NORM_FIELDS = ("gamma", "beta", "running_mean", "running_std")


def batch_norm(values: object) -> tuple[float | None, ...]:
    """LayerStats' batch-norm fields from numbers (NaN or none: no batch norm there)."""
    numbers = [float(v) for v in values]  # type: ignore[attr-defined]
    if len(numbers) != len(BATCH_NORM_FIELDS) or any(math.isnan(v) for v in numbers):
        return ()
    return tuple(numbers)


@dataclass(frozen=True, slots=True)
class ActivationStats:
    """One hidden layer of one setup at an evaluation point, on the probe images (see
    vgtui.core.activation_stats): mean and std of every activation; ``spread``, how much a
    unit's activation varies across inputs relative to the layer's typical magnitude
    (sqrt(mean over units of the variance across inputs / mean square); 0: every input gives
    the same activations, the signal collapsed); the share of bounded activations
    ``saturated`` beyond 99% of their range and of ReLU-like ones ``inactive`` (<= 0), NaN
    where it does not apply; ``dead_units`` of its ``units`` never active on any probe image
    (ReLU-like); and the ``histogram`` counts on the activation's scale (``histogram_scale``)."""

    mean: float
    std: float
    spread: float
    saturated: float
    inactive: float
    dead_units: int
    units: int
    histogram: tuple[int, ...]

    def to_dict(self) -> dict:
        return {
            "units": self.units,
            "mean": self.mean,
            "std": self.std,
            "spread": self.spread,
            "saturated": self.saturated,
            "inactive": self.inactive,
            "dead_units": self.dead_units,
            "histogram": list(self.histogram),
        }

    @classmethod
    def from_dict(cls, row: dict) -> ActivationStats:
        return cls(
            mean=_number(row["mean"]),
            std=_number(row["std"]),
            spread=_number(row["spread"]),
            saturated=_number(row.get("saturated")),
            inactive=_number(row.get("inactive")),
            dead_units=int(row["dead_units"]),
            units=int(row["units"]),
            histogram=tuple(int(c) for c in row["histogram"]),
        )


@dataclass(frozen=True, slots=True)
class MetricRecord:
    """One evaluation point of one setup.

    ``iteration`` counts completed SGD steps. ``train_accuracy`` is measured on the current
    mini-batch after the update (as the notebook does), ``test_accuracy`` on the whole test set,
    ``train_loss`` is the mean cross-entropy of the steps since the previous record, and
    ``grad_norms`` holds the L2 norm of each layer's weight gradient at this step, input layer
    first; ``seconds`` is the run's compute time so far (pauses excluded). A diverged
    record is the last one its setup emits.
    """

    iteration: int
    setup: str
    train_accuracy: float
    test_accuracy: float
    train_loss: float
    grad_norms: tuple[float, ...]
    seconds: float
    status: SetupStatus = SetupStatus.OK
    layers: tuple[LayerStats, ...] = ()
    """Per weight layer, input layer first (empty for a diverged record or an old run)."""
    activations: tuple[ActivationStats, ...] = ()
    """Per hidden layer, on the probe images (empty without a probe, for a diverged record or
    an old run)."""

    @property
    def grad_ratio(self) -> float:
        """First-layer over last-layer gradient norm: far below 1 when gradients vanish."""
        last = self.grad_norms[-1]
        return self.grad_norms[0] / last if last > 0 else float("nan")

    def to_dict(self) -> dict:
        """JSON-friendly view; gradient norms are spelled out per layer."""
        row = {
            "iteration": self.iteration,
            "setup": self.setup,
            "train_accuracy": self.train_accuracy,
            "test_accuracy": self.test_accuracy,
            "train_loss": self.train_loss,
            "seconds": self.seconds,
            "status": self.status,
        }
        for layer, norm in enumerate(self.grad_norms, start=1):
            row[f"grad_norm_{layer}"] = norm
        if self.layers:
            row["layers"] = [layer.to_dict() for layer in self.layers]
        if self.activations:
            row["activations"] = [layer.to_dict() for layer in self.activations]
        return row

    @classmethod
    def from_dict(cls, row: dict) -> MetricRecord:
        """Inverse of :meth:`to_dict`, also for rows read back from CSV (text, "" for a value
        not measured) or JSON (null). Raises KeyError or ValueError for a malformed row."""
        status = SetupStatus(row.get("status") or SetupStatus.OK)
        layers = sorted(
            int(key.removeprefix("grad_norm_")) for key in row if key.startswith("grad_norm_")
        )
        if layers != list(range(1, len(layers) + 1)) or not layers:
            raise ValueError("gradient norm columns must be grad_norm_1..grad_norm_L")
        missing_loss = math.inf if status == SetupStatus.DIVERGED else math.nan
        return cls(
            iteration=int(row["iteration"]),
            setup=str(row["setup"]),
            train_accuracy=_number(row["train_accuracy"]),
            test_accuracy=_number(row["test_accuracy"]),
            train_loss=_number(row["train_loss"], missing_loss),
            grad_norms=tuple(_number(row[f"grad_norm_{layer}"]) for layer in layers),
            seconds=_number(row["seconds"]),
            status=status,
            layers=tuple(
                LayerStats(
                    _number(layer["delta_std"]),
                    _number(layer["weight_std"]),
                    _number(layer["update_ratio"]),
                    int(layer["grad_zeros"]),
                    *batch_norm([_number(layer.get(key)) for key in BATCH_NORM_FIELDS]),
                )
                for layer in row.get("layers") or ()
            ),
            activations=tuple(
                ActivationStats.from_dict(layer) for layer in row.get("activations") or ()
            ),
        )


def _number(value: object, missing: float = math.nan) -> float:
    """A float from JSON or CSV; None or "" is a value not measured."""
    if value is None or value == "":
        return missing
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    return float(value)  # type: ignore[arg-type]
