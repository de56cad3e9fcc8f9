"""Why a setup fails, in plain words: a pure function from a run's records to findings, each
with its evidence, the iteration from which it held, what it means and what to try.

Read from what every record holds (accuracies, loss, each layer's gradient norm and update
ratio) and, where the run measured them, the hidden layers' activations on the probe images
(signal collapse, saturation, dead units; a run without a probe gets no such findings).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vgtui.core.config import base_setup
from vgtui.core.records import MetricRecord
from vgtui.core.vocabulary import Diagnosis, SetupState, SetupStatus

CHANCE_LOSS = math.log(10)  # cross-entropy of a uniform guess over the 10 digits: 2.303
CHANCE_LOSS_TOLERANCE = 0.01  # within 1% of it
CHANCE_ACCURACY = 0.2  # 10% is chance, 11.35% always saying "1": below this is not learning
STREAK = 5  # a finding about the present must hold for the last 5 evaluations
VANISHING_RATIO = 1e-2  # the first layer's gradient below 1% of the last layer's
TINY_UPDATE = 1e-5  # lr * |grad| / |W|: healthy layers move about 1e-3 of their weights a step
EXPLODING_RATIO = 1e2
EXPLODING_NORM = 1e3
LEARNED = 0.5  # test accuracy that counts as having learned
PLATEAU_SHARE = 0.1  # a plateau lasts at least this share of the run (and STREAK evaluations)
COLLAPSE_SPREAD = 0.01  # a layer's activations vary across inputs by < 1% of their magnitude
SATURATED_SHARE = 0.5  # half of a bounded layer's activations beyond 99% of its range
DEAD_SHARE = 0.25  # a quarter of a ReLU-like layer's units never active on the probe


@dataclass(frozen=True)
class Finding:
    setup: str
    kind: Diagnosis
    since: int
    """The iteration from which it held."""
    evidence: str
    meaning: str
    advice: str

    def to_dict(self) -> dict:
        return {
            "setup": self.setup,
            "finding": str(self.kind),
            "since": self.since,
            "evidence": self.evidence,
            "meaning": self.meaning,
            "advice": self.advice,
        }


def diagnose(records: Iterable[MetricRecord], setup_names: Sequence[str]) -> list[Finding]:
    """Findings for every setup, in ``setup_names`` order."""
    by_setup: dict[str, list[MetricRecord]] = {name: [] for name in setup_names}
    for record in records:
        if record.setup not in by_setup and base_setup(record.setup) in by_setup:
            continue  # a further seed of a setup: its first seed speaks for it
        by_setup.setdefault(record.setup, []).append(record)
    return [finding for name, rows in by_setup.items() for finding in diagnose_setup(name, rows)]


def diagnose_setup(setup: str, records: Sequence[MetricRecord]) -> list[Finding]:
    """Findings for one setup's records (in iteration order)."""
    diverged = [r for r in records if r.status == SetupStatus.DIVERGED]
    if diverged:
        return [
            Finding(
                setup,
                Diagnosis.DIVERGED,
                diverged[0].iteration,
                f"the loss became infinite or NaN at iteration {diverged[0].iteration}",
                "the updates grew until the numbers overflowed; training this setup stopped",
                "lower the learning rate, or use a smaller initial weight scale",
            )
        ]
    scored = [r for r in records if r.status == SetupStatus.OK]
    if not scored:
        return []
    checks = (_stalled, _collapse, _vanishing, _exploding, _saturation, _dead_units)
    findings = [f for f in (check(setup, scored) for check in checks) if f is not None]
    if not findings:
        findings.append(_progress(setup, scored))
    return findings


def _streak_start(records: Sequence[MetricRecord], holds) -> int | None:
    """The iteration from which ``holds(record)`` is true to the end, if it is for at least
    the last :data:`STREAK` records."""
    start = len(records)
    while start > 0 and holds(records[start - 1]):
        start -= 1
    if len(records) - start < min(STREAK, len(records)) or start == len(records):
        return None
    return records[start].iteration


def setup_state(status: SetupStatus, evaluations: int, test_accuracy: float) -> SetupState:
    """The state shown for a setup: "stalled" once STREAK evaluations have passed and its
    latest test accuracy is still at chance, as the "stalled at chance" finding counts it."""
    if status == SetupStatus.DIVERGED:
        return SetupState.DIVERGED
    if status == SetupStatus.NO_DATA or evaluations == 0:
        return SetupState.NO_DATA
    if evaluations >= STREAK and test_accuracy <= CHANCE_ACCURACY:
        return SetupState.STALLED
    return SetupState.OK


def _at_chance(record: MetricRecord) -> bool:
    return record.test_accuracy <= CHANCE_ACCURACY


def _stalled(setup: str, records: Sequence[MetricRecord]) -> Finding | None:
    def stalled(r: MetricRecord) -> bool:
        flat = abs(r.train_loss - CHANCE_LOSS) <= CHANCE_LOSS_TOLERANCE * CHANCE_LOSS
        return flat and _at_chance(r)

    since = _streak_start(records, stalled)
    if since is None:
        return None
    last = records[-1]
    return Finding(
        setup,
        Diagnosis.STALLED,
        since,
        f"loss {last.train_loss:.3f} (a uniform guess: ln 10 = {CHANCE_LOSS:.3f}), "
        f"test accuracy {100 * last.test_accuracy:.1f}%",
        "the network gives every image nearly the same answer: it has learned nothing",
        "see the other findings for why; for sigmoid or tanh use Xavier, for ReLU He",
    )


def _updates_tiny(record: MetricRecord) -> bool:
    """Every hidden layer's update is tiny next to its weights: the gradient vanished
    everywhere, which the first/last ratio cannot see (a deep Xavier ReLU net: about 1e-6 in
    every layer). The output layer, fed the error directly, does not count."""
    hidden = record.layers[:-1]
    return bool(hidden) and all(layer.update_ratio < TINY_UPDATE for layer in hidden)


def _vanishing(setup: str, records: Sequence[MetricRecord]) -> Finding | None:
    def vanishing(r: MetricRecord) -> bool:
        zero = all(norm == 0 for norm in r.grad_norms)
        return zero or r.grad_ratio < VANISHING_RATIO or _updates_tiny(r)

    since = _streak_start(records, vanishing)
    if since is None:
        return None
    last = records[-1]
    if all(norm == 0 for norm in last.grad_norms):
        evidence = "every layer's gradient is exactly 0"
    elif _updates_tiny(last) and last.grad_ratio >= VANISHING_RATIO:
        largest = max(layer.update_ratio for layer in last.layers[:-1])
        evidence = (
            f"every hidden layer's update is below {TINY_UPDATE:.0e} of its weights (largest "
            f"{largest:.1e}), although the first/last ratio is {last.grad_ratio:.2g}"
        )
    else:
        evidence = (
            f"the first layer's gradient is {last.grad_ratio:.1e} of the last layer's "
            f"({last.grad_norms[0]:.1e} against {last.grad_norms[-1]:.1e})"
        )
    return Finding(
        setup,
        Diagnosis.VANISHING,
        since,
        evidence,
        "the error signal shrinks on its way back through the layers, so the first layers "
        "barely change",
        "initialise for the activation (Xavier for sigmoid/tanh, He for ReLU), or use ReLU",
    )


def _exploding(setup: str, records: Sequence[MetricRecord]) -> Finding | None:
    def exploding(r: MetricRecord) -> bool:
        return r.grad_ratio > EXPLODING_RATIO or max(r.grad_norms) > EXPLODING_NORM

    since = _streak_start(records, exploding)
    if since is None:
        return None
    last = records[-1]
    return Finding(
        setup,
        Diagnosis.EXPLODING,
        since,
        f"gradient norms up to {max(last.grad_norms):.1e}, first/last ratio {last.grad_ratio:.1e}",
        "the error signal grows on its way back: updates are erratic and may overflow",
        "use a smaller initial weight scale or a lower learning rate",
    )


def _worst_layer(record: MetricRecord, badness) -> tuple[int, float] | None:
    """The hidden layer (1 = first) for which ``badness(stats)`` is largest, with it."""
    scored = [(badness(stats), number) for number, stats in enumerate(record.activations, 1)]
    scored = [(value, number) for value, number in scored if math.isfinite(value)]
    if not scored:
        return None
    value, number = max(scored)
    return number, value


def _collapse(setup: str, records: Sequence[MetricRecord]) -> Finding | None:
    def collapsed(r: MetricRecord) -> bool:
        return any(a.spread < COLLAPSE_SPREAD for a in r.activations)

    since = _streak_start(records, collapsed)
    if since is None:
        return None
    last = records[-1]
    worst = _worst_layer(last, lambda a: -a.spread)
    assert worst is not None
    number = worst[0]
    stats = last.activations[number - 1]
    across = stats.spread * math.sqrt(stats.std**2 + stats.mean**2)
    return Finding(
        setup,
        Diagnosis.COLLAPSE,
        since,
        f"hidden layer {number} gives nearly the same activations for every input: each unit "
        f"varies by {across:.1e} across the probe images (mean {stats.mean:.3f}; spread "
        f"{stats.spread:.1e} of its magnitude)",
        "the layers after it see the same signal whatever the image, so the network cannot "
        "tell digits apart; the weights are too small for the activation",
        "use Xavier for sigmoid/tanh, He for ReLU",
    )


def _saturation(setup: str, records: Sequence[MetricRecord]) -> Finding | None:
    def saturated(r: MetricRecord) -> bool:
        return any(a.saturated >= SATURATED_SHARE for a in r.activations)

    since = _streak_start(records, saturated)
    if since is None:
        return None
    last = records[-1]
    number, share = _worst_layer(last, lambda a: a.saturated) or (0, math.nan)
    return Finding(
        setup,
        Diagnosis.SATURATION,
        since,
        f"{100 * share:.0f}% of hidden layer {number}'s activations are beyond 99% of their range",
        "a saturated unit's derivative is nearly 0, so the gradient dies there",
        "smaller initial weights (Xavier for sigmoid/tanh), or ReLU",
    )


def _dead_share(record: MetricRecord) -> float:
    return max((a.dead_units / a.units for a in record.activations if a.units), default=0.0)


def _dead_units(setup: str, records: Sequence[MetricRecord]) -> Finding | None:
    since = _streak_start(records, lambda r: _dead_share(r) >= DEAD_SHARE)
    if since is None:
        return None
    last = records[-1]
    number, _ = _worst_layer(last, lambda a: a.dead_units / max(a.units, 1)) or (0, 0.0)
    stats = last.activations[number - 1]
    return Finding(
        setup,
        Diagnosis.DEAD_UNITS,
        since,
        f"{stats.dead_units} of hidden layer {number}'s {stats.units} units are never active "
        f"on any probe image; {100 * stats.inactive:.0f}% of its activations are 0",
        "a ReLU that is never active gets no gradient and never comes back",
        "He init, a lower learning rate, or a leaky ReLU",
    )


def _progress(setup: str, records: Sequence[MetricRecord]) -> Finding:
    """How a setup with no problem found is doing: a plateau then learning, healthy, or
    still learning."""
    last = records[-1]
    final = f"test accuracy {100 * last.test_accuracy:.1f}%"
    first_learning = next((r for r in records if not _at_chance(r)), None)
    flat = records.index(first_learning) if first_learning is not None else len(records)
    long_enough = flat >= STREAK and flat >= PLATEAU_SHARE * len(records)
    if last.test_accuracy >= LEARNED and long_enough and first_learning is not None:
        return Finding(
            setup,
            Diagnosis.PLATEAU,
            first_learning.iteration,
            f"flat at chance until iteration {first_learning.iteration}, then {final}",
            "slow, not dead: small initial weights took a while to grow before it learned",
            "a larger initial scale (He for ReLU) skips the plateau",
        )
    if last.test_accuracy >= LEARNED:
        return Finding(
            setup,
            Diagnosis.HEALTHY,
            records[0].iteration,
            final,
            "gradients reach every layer and the network learns",
            "nothing to change",
        )
    return Finding(
        setup,
        Diagnosis.SLOW,
        records[0].iteration,
        final,
        "it is learning, but not yet much",
        "train longer, or raise the learning rate",
    )


def describe(findings: Sequence[Finding], width: int = 80) -> str:
    """The findings as text for a terminal of ``width`` columns."""
    lines = ["Diagnosis:"]
    for finding in findings:
        head = f"  {finding.setup}: {finding.kind} (from iteration {finding.since}): "
        lines += textwrap.wrap(
            head + finding.evidence, width, subsequent_indent="    ", break_on_hyphens=False
        )
        meaning = finding.meaning[:1].upper() + finding.meaning[1:] + "."
        if finding.kind != Diagnosis.HEALTHY:
            meaning += f" Try: {finding.advice}."
        lines += textwrap.wrap(
            meaning,
            width,
            initial_indent="    ",
            subsequent_indent="    ",
            break_on_hyphens=False,
        )
    return "\n".join(lines)
