"""The findings, each read from the run's whole history and from the evidence that tells its
mechanism apart from the others (see evidence.py), in the order cause first."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import vgtui.core.diagnosis.evidence as ev
import vgtui.core.diagnosis.wording as wording
from vgtui.core.config import SetupSpec, base_setup
from vgtui.core.diagnosis.findings import Finding
from vgtui.core.records import MetricRecord
from vgtui.core.vocabulary import Diagnosis, SetupStatus

CAUSES = (
    Diagnosis.LR_TOO_LARGE,
    Diagnosis.EXPLODING,
    Diagnosis.LR_TOO_SMALL,
    Diagnosis.VANISHING,
    Diagnosis.SATURATION,
    Diagnosis.COLLAPSE,
    Diagnosis.DEAD_UNITS,
)


def diagnose(records: Iterable[MetricRecord], setup_names: Sequence[str]) -> list[Finding]:
    """Findings for every setup, in ``setup_names`` order."""
    by_setup: dict[str, list[MetricRecord]] = {name: [] for name in setup_names}
    for record in records:
        if record.setup not in by_setup and base_setup(record.setup) in by_setup:
            continue  # a further seed of a setup: its first seed speaks for it
        by_setup.setdefault(record.setup, []).append(record)
    return [finding for name, rows in by_setup.items() for finding in diagnose_setup(name, rows)]


def diagnose_setup(setup: str, records: Sequence[MetricRecord]) -> list[Finding]:
    """Findings for one setup's records (in iteration order): a setup that learned is said
    to learn first, its problems after it; one that did not, its causes first."""
    spec = ev.spec_of(setup)
    scored = [r for r in records if r.status == SetupStatus.OK]
    diverged = [r for r in records if r.status == SetupStatus.DIVERGED]
    causes: list[Finding] = []
    for check in (_lr_too_large, _exploding, _lr_too_small, _vanishing):
        found = check(setup, scored, spec) if scored else None
        if found is not None and not _consequence(found, causes):
            causes.append(found)
    kinds = {f.kind for f in causes}
    for check in (_saturation, _collapse, _dead_units):
        found = check(setup, scored, spec, kinds) if scored else None
        if found is not None:
            causes.append(found)
    if diverged:
        return [*causes, _diverged(setup, diverged[0])]
    if not scored:
        return []
    outcome = _outcome(setup, scored, spec, causes)
    if outcome is None:
        return causes
    if outcome.kind in (Diagnosis.HEALTHY, Diagnosis.LEARNS, Diagnosis.PLATEAU):
        return [outcome, *causes]
    return [*causes, outcome]


def _consequence(found: Finding, causes: list[Finding]) -> bool:
    """Gradients that explode in weights a too large step has already blown up (every layer,
    not the first ones most) follow from the step, not from the init."""
    return found.kind == Diagnosis.EXPLODING and any(
        c.kind == Diagnosis.LR_TOO_LARGE and c.since <= found.since for c in causes
    )


def _diverged(setup: str, record: MetricRecord) -> Finding:
    return Finding(
        setup,
        Diagnosis.DIVERGED,
        record.iteration,
        f"the loss became infinite or NaN at iteration {record.iteration}",
        "the updates grew until the numbers overflowed; training this setup stopped",
        "lower the learning rate, or use a smaller initial weight scale",
    )


def _lr_too_large(setup, records, spec) -> Finding | None:
    """Steps that overshoot: weights grown several times their natural scale in some layer
    while the loss is no better than a uniform guess's, not the way an exploding gradient
    grows them (the first layers by far the most); an interval's mean loss far above a
    uniform guess's is told too (alone it can be a large init's confident wrong answers)."""

    def overshoots(r: MetricRecord) -> bool:
        grown = ev.growth(r, spec)
        if ev.exploded_backwards(grown) or r.train_loss < ev.LEARNING_LOSS:
            return False  # weights that grew while the loss fell well below chance: it learns
        return max(grown, default=0) >= ev.GROWN

    held = ev.span(records, overshoots, least=1)
    if held is None:
        return None
    first = next(r for r in records if overshoots(r))
    grown = ev.growth(first, spec)
    parts = []
    if first.train_loss > ev.LOSS_SPIKE * ev.CHANCE_LOSS:
        parts.append(
            f"the loss averaged {first.train_loss:.3g} over the steps to iteration "
            f"{first.iteration} (a uniform guess: {ev.CHANCE_LOSS:.3f})"
        )
    if grown and max(grown) >= ev.GROWN:
        layer = max(range(len(grown)), key=grown.__getitem__)
        parts.append(
            f"by iteration {first.iteration} layer {layer + 1}'s weights had grown to "
            f"{grown[layer]:.0f} times their starting scale"
        )
    return Finding(
        setup,
        Diagnosis.LR_TOO_LARGE,
        held.since,
        "; ".join(parts),
        "each step overshoots: it moves the weights so far that the loss rises instead of "
        "falling, and units can be pushed where they never recover",
        "a lower learning rate",
        until=held.until,
    )


def _exploding(setup, records, spec) -> Finding | None:
    """The error grows by orders of magnitude on its way back: seen in a record's ratios, or
    (when it came and went before the first evaluation) in the first layer's weights, grown
    by orders of magnitude more than the output layer's."""
    held = ev.span(records, ev.exploding, least=1)
    if held is not None:
        shown = [r for r in records if ev.exploding(r)][:3]
        norms = ", ".join(f"{r.grad_norms[0]:.1e} at iteration {r.iteration}" for r in shown)
        worst = max(shown, key=lambda r: r.grad_ratio)
        evidence = (
            f"the first layer's gradient norm was {norms}: up to {worst.grad_ratio:.1e} times "
            "the last layer's"
        )
    else:
        first = records[0]
        grown = ev.growth(first, spec)
        if not ev.exploded_backwards(grown):
            return None
        held = ev.Span(1, first.iteration)
        evidence = (
            f"in the first {first.iteration} steps the first layer's weights grew to "
            f"{grown[0]:.1e} times their starting scale (the output layer's: {grown[-1]:.2g} "
            "times): a gradient grown by orders of magnitude on its way back hit them"
        )
    chaotic = spec is not None and spec.init == "var" and spec.gauss_sigma > 1
    return Finding(
        setup,
        Diagnosis.EXPLODING,
        held.since,
        evidence,
        "the error signal grows at every layer on its way back"
        + (" (sigma_w^2 > 1: the chaotic phase)" if chaotic else "")
        + ", so the first layers take huge steps",
        wording.advice(spec, "a smaller initial weight scale", "a lower learning rate"),
        until=held.until,
    )


def _lr_too_small(setup, records, spec) -> Finding | None:
    held = ev.span(records, ev.steps_too_small)
    if held is None:
        return None
    last = next(r for r in reversed(records) if ev.steps_too_small(r))
    largest = max(layer.update_ratio for layer in last.layers)
    sound = ", no dead, saturated or collapsed layer" if last.activations else ""
    return Finding(
        setup,
        Diagnosis.LR_TOO_SMALL,
        held.since,
        f"every layer moves less than {ev.TINY_UPDATE:.0e} of its weights per step (largest "
        f"{largest:.1e}) while the error reaches the first layer (first/last gradient ratio "
        f"{last.grad_ratio:.2g}{sound})",
        "the gradients are sound but the learning rate makes each step tiny, so nothing "
        "visibly changes",
        "a larger learning rate (the default is 0.1)",
        until=held.until,
    )


def _vanishing(setup, records, spec) -> Finding | None:
    held = ev.span(records, ev.vanishing)
    if held is None:
        return None
    first = next(r for r in records if r.iteration >= held.since)
    ratio = ev.backward_ratio(first)
    at = f"at iteration {first.iteration}"
    if ratio == 0:
        evidence = f"{at} no hidden layer gets any error back: the gradient is exactly 0"
    elif first.layers:
        evidence = (
            f"{at} the error reaching the first layers is {ratio:.1e} of the output layer's; "
            f"the first/last gradient ratio is {first.grad_ratio:.1e}"
        )
        if 0 < first.grad_norms[0] < ev.FLOAT32_TINY:
            evidence += (
                "; the first layer's gradient norm is below 1e-38, under float32's normal "
                "range, where the training's arithmetic keeps no digits of it"
            )
    else:
        evidence = f"{at} the first layer's gradient is {first.grad_ratio:.1e} of the last's"
    hidden = [layer.update_ratio for layer in first.layers[:-1]]
    if hidden and max(hidden) < ev.TINY_UPDATE:
        evidence += f"; no hidden layer moves more than {max(hidden):.1e} of its weights a step"
    if len(first.activations) > 1 and first.activations[0].std > 0:
        shrink = first.activations[-1].std / first.activations[0].std
        if shrink < ev.VANISHING_RATIO**0.5:
            evidence += (
                f"; the last hidden layer's activations vary {shrink:.1e} as much as the first's"
            )
    return Finding(
        setup,
        Diagnosis.VANISHING,
        held.since,
        evidence,
        wording.why_vanishing(spec),
        wording.vanishing_advice(spec),
        until=held.until,
    )


def _saturation(setup, records, spec, kinds) -> Finding | None:
    held = ev.span(records, lambda r: ev.saturated_share(r) >= ev.SATURATED_SHARE)
    if held is None:
        return None
    last = records[-1]
    scored = [(a.saturated, n) for n, a in enumerate(last.activations, 1)
              if math.isfinite(a.saturated)]  # fmt: skip
    share, number = max(scored, default=(math.nan, 0))
    after = " after the explosion" if Diagnosis.EXPLODING in kinds else ""
    return Finding(
        setup,
        Diagnosis.SATURATION,
        held.since,
        f"{100 * share:.0f}% of hidden layer {number}'s activations are beyond 99% of their range",
        f"a saturated unit's slope is nearly 0 (exactly 0 in float32 at the ends), so the "
        f"gradient dies there{after}",
        wording.saturation_advice(
            spec, bool(kinds & {Diagnosis.LR_TOO_LARGE, Diagnosis.EXPLODING})
        ),
        until=held.until,
    )


def _collapse(setup, records, spec, kinds) -> Finding | None:
    held = ev.span(records, lambda r: bool(ev.collapsed_layers(r)))
    if held is None:
        return None
    last = next(r for r in reversed(records) if ev.collapsed_layers(r))
    number = min(ev.collapsed_layers(last), key=lambda n: last.activations[n - 1].spread)
    stats = last.activations[number - 1]
    across = stats.spread * math.sqrt(stats.std**2 + stats.mean**2)
    return Finding(
        setup,
        Diagnosis.COLLAPSE,
        held.since,
        f"hidden layer {number} gives nearly the same activations for every input: each unit "
        f"varies by {across:.1e} across the probe images (mean {stats.mean:.3f}; spread "
        f"{stats.spread:.1e} of its magnitude)",
        wording.why_collapse(spec),
        wording.collapse_advice(spec),
        until=held.until,
    )


def _dead_units(setup, records, spec, kinds) -> Finding | None:
    """ReLU units never active on the probe (leaky ReLU, ELU and SiLU keep a slope below 0:
    their units do not die)."""
    if spec is not None and spec.activation != "relu":
        return None
    held = ev.span(records, lambda r: ev.dead_share(r) >= ev.DEAD_SHARE)
    if held is None:
        return None
    last = records[-1]
    number = max(range(1, len(last.activations) + 1),
                 key=lambda n: last.activations[n - 1].dead_units / max(last.activations[n - 1].units, 1))  # fmt: skip  # noqa: E501
    stats = last.activations[number - 1]
    before = [r for r in records if r.iteration <= held.since]
    step, at = max(((layer.update_ratio, r.iteration) for r in before
                    for layer in r.layers[:-1]), default=(0.0, 0))  # fmt: skip
    big_steps = Diagnosis.LR_TOO_LARGE in kinds or step >= ev.BIG_STEP
    why = "a ReLU that is never active gets no gradient and never comes back"
    if step >= ev.BIG_STEP:
        why = (
            f"steps of up to {step:.2g} of a layer's weights (iteration {at}) pushed them "
            f"below 0 for every input; {why}"
        )
    elif big_steps:
        why = f"large steps pushed them below 0 for every input; {why}"
    return Finding(
        setup,
        Diagnosis.DEAD_UNITS,
        held.since,
        f"{stats.dead_units} of hidden layer {number}'s {stats.units} units are never active "
        f"on any probe image; {100 * stats.inactive:.0f}% of its activations are 0",
        why,
        wording.dead_units_advice(spec, big_steps),
        until=held.until,
    )


def _outcome(setup: str, records: Sequence[MetricRecord], spec: SetupSpec | None,
             causes: list[Finding]) -> Finding | None:  # fmt: skip
    """Whether it learned: it learns (healthy when nothing else was found), after a plateau,
    is still learning, or stalled at chance (the rule of :func:`evidence.is_stalled`)."""
    last = records[-1]
    final = f"test accuracy {100 * last.test_accuracy:.1f}%"
    if ev.is_stalled(len(records), last.test_accuracy):
        return _stalled(setup, records, causes)
    if last.test_accuracy >= ev.LEARNED:
        first_learning = next(r for r in records if r.test_accuracy > ev.CHANCE_ACCURACY)
        flat = records.index(first_learning)
        if flat >= ev.STREAK and flat >= ev.PLATEAU_SHARE * len(records):
            slow_start = wording.small_init(spec)
            # one end, said alike: the span's last iteration is the last evaluation at chance
            # (not "until" the first one above it, which read as a second end)
            return Finding(
                setup,
                Diagnosis.PLATEAU,
                records[0].iteration,
                f"at chance at every evaluation up to iteration {records[flat - 1].iteration}, "
                f"first above chance at iteration {first_learning.iteration}, then {final}",
                "slow, not dead: "
                + ("small initial weights took a while to grow before it learned"
                   if slow_start else "it sat at chance a while before it found its way"),
                wording.advice(spec, wording.init_remedy(spec)) if slow_start else "",
                until=records[flat - 1].iteration,
            )  # fmt: skip
        kind = Diagnosis.LEARNS if causes else Diagnosis.HEALTHY
        meaning = (
            "it learns, with the problems below"
            if causes
            else "gradients reach every layer and the network learns"
        )
        since = next(r for r in records if r.test_accuracy >= ev.LEARNED).iteration
        return Finding(setup, kind, since, final, meaning, "")
    if last.test_accuracy > ev.CHANCE_ACCURACY:
        return Finding(
            setup,
            Diagnosis.SLOW,
            records[0].iteration,
            final,
            "it is learning, but not yet much",
            "train longer" + ("" if causes else ", or raise the learning rate"),
        )
    return None


def _stalled(setup: str, records: Sequence[MetricRecord], causes: list[Finding]) -> Finding:
    start = len(records)
    while start > 0 and records[start - 1].test_accuracy <= ev.CHANCE_ACCURACY:
        start -= 1
    last = records[-1]
    evidence = (
        f"test accuracy {100 * last.test_accuracy:.1f}%, loss {last.train_loss:.3f} "
        f"(a uniform guess: ln 10 = {ev.CHANCE_LOSS:.3f})"
    )
    first_loss = records[max(start, len(records) - ev.STREAK)].train_loss
    if first_loss - last.train_loss > 0.01 * ev.CHANCE_LOSS:
        evidence += f", falling from {first_loss:.3f}: it may yet learn"
    if causes:
        meaning = f"it has learned nothing yet; the cause is above ({causes[0].kind})"
        advice = ""
    else:
        meaning = "it has learned nothing yet, and no cause shows in its records"
        advice = "train longer, or a larger learning rate"
    return Finding(setup, Diagnosis.STALLED, records[start].iteration, evidence, meaning, advice)
