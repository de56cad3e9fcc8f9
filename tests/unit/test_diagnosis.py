"""The diagnosis as a pure function of records: each mechanism from the evidence that tells it
apart, when it held, cause first, and advice that fits the setup."""

from __future__ import annotations

import math

import pytest

from vgtui.core.diagnosis import CHANCE_LOSS, describe, diagnose, setup_state
from vgtui.core.records import ActivationStats, LayerStats, MetricRecord
from vgtui.core.vocabulary import Diagnosis, SetupState, SetupStatus

HE = (math.sqrt(2 / 784), math.sqrt(2 / 40), math.sqrt(2 / 20))  # the (40, 20) net's He stds


def layer(delta=1e-3, weight=0.1, update=1e-3, zeros=0) -> LayerStats:
    return LayerStats(delta, weight, update, zeros)


def units(units=40, spread=0.5, saturated=math.nan, dead=0, mean=0.3) -> ActivationStats:
    return ActivationStats(mean, 0.3, spread, saturated, 0.4, dead, units, (0,) * 20)


def record(iteration, setup, test=0.1, loss=CHANCE_LOSS, norms=(1.0, 1.0, 1.0), layers=(),
           activations=(), status=SetupStatus.OK) -> MetricRecord:  # fmt: skip
    return MetricRecord(iteration, setup, test, test, loss, norms, 0.1, status, layers, activations)


def history(setup, count, every=10, **fields) -> list[MetricRecord]:
    return [record(every * (i + 1), setup, **fields) for i in range(count)]


def kinds(findings) -> list[Diagnosis]:
    return [f.kind for f in findings]


SOUND = (units(40), units(20))


def test_a_tiny_learning_rate_is_named_not_vanishing():
    """Every layer moves < 1e-5 of its weights, yet the error reaches layer 1 (delta ratio
    0.5) and the signal is sound: the learning rate (issue 18, item 1)."""
    steps = (layer(5e-4, HE[0], 1e-6), layer(5e-4, HE[1], 2e-6), layer(1e-3, HE[2], 5e-7))
    rows = history("relu-he", 8, norms=(1.4, 0.5, 0.23), layers=steps, activations=SOUND)
    findings = diagnose(rows, ["relu-he"])
    assert kinds(findings) == [Diagnosis.LR_TOO_SMALL, Diagnosis.STALLED]
    assert findings[0].when == "since iteration 10" and "larger learning rate" in findings[0].advice
    assert "(learning rate too small)" in findings[1].meaning and not findings[1].advice


def test_xavier_relu_vanishing_layer_by_layer_is_named_with_its_mechanism():
    """Deep ReLU with Xavier: the error reaching layer 1 is 3e-6 of the output's, the
    activations shrink layer after layer; He is advised, not to a He net (items 4, 5)."""
    steps = (layer(1e-8, 0.036, 1e-9), layer(1e-6, 0.12, 5e-8), layer(3e-3, 0.12, 6e-7))
    shrinking = (units(64, mean=0.1), ActivationStats(1e-4, 1e-4, 0.4, math.nan, 0.5, 0, 64,
                                                      (0,) * 20))  # fmt: skip
    vanished = dict(norms=(7e-6, 2e-6, 2e-4), layers=steps, activations=shrinking)
    recovered = dict(norms=(1.0, 1.0, 1.0), layers=(layer(),) * 3, activations=SOUND)
    rows = [record(10 * (i + 1), "relu-xavier", **(vanished if i < 8 else recovered))
            for i in range(12)]  # fmt: skip
    findings = diagnose(rows, ["relu-xavier"])
    assert kinds(findings) == [Diagnosis.VANISHING, Diagnosis.STALLED]
    vanishing = findings[0]
    assert vanishing.when == "from iteration 10 to 80"
    assert "the error reaching the first layers is 3.3e-06 of the output" in vanishing.evidence
    assert "no hidden layer moves more than 5.0e-08" in vanishing.evidence
    assert "activations vary 3.3e-04 as much as the first's" in vanishing.evidence
    assert "He et al. 2015" in vanishing.meaning and "He init" in vanishing.advice
    he = diagnose([record(r.iteration, "relu-he", norms=r.grad_norms, layers=r.layers,
                          activations=r.activations) for r in rows], ["relu-he"])  # fmt: skip
    assert "He init" not in he[0].advice


def test_a_transient_explosion_is_found_though_its_end_state_is_zero_gradients():
    """Step 1 and 2: the first layer's gradient 1e6, then 1e15 times the last's; then the
    layers saturate and the gradient is exactly 0. Exploding then saturation, not vanishing
    (item 3)."""
    saturated = (units(100, saturated=1.0, mean=0.0), units(100, saturated=1.0, mean=0.0))
    boom = [
        record(1, "tanh-var:4", norms=(2.7e6, 10.0, 1.0), layers=(layer(8e5), layer(), layer(1)),
               activations=saturated),
        record(2, "tanh-var:4", norms=(2e15, 1e9, 1.0), layers=(layer(7e14), layer(), layer(1)),
               activations=saturated),
    ]  # fmt: skip
    after = [
        record(i, "tanh-var:4", norms=(0.0, 0.0, 1.0), layers=(layer(0), layer(0), layer(1)),
               activations=saturated)
        for i in range(3, 10)
    ]  # fmt: skip
    findings = diagnose(boom + after, ["tanh-var:4"])
    assert kinds(findings) == [Diagnosis.EXPLODING, Diagnosis.SATURATION, Diagnosis.STALLED]
    exploding = findings[0]
    assert (exploding.since, exploding.until) == (1, 2)
    assert exploding.when == "from iteration 1 to 2"
    assert "2.7e+06 at iteration 1, 2.0e+15 at iteration 2" in exploding.evidence
    assert "chaotic phase" in exploding.meaning


def test_an_explosion_before_the_first_evaluation_shows_in_the_grown_first_layer():
    """Evaluated every 10 steps, the explosion is over by the first record; the first
    layer's weights, 1e11 times their starting scale (the output's unchanged), tell it."""
    sizes = (units(100, saturated=1.0), units(100, saturated=1.0))
    start = (math.sqrt(4 / 784), math.sqrt(4 / 100), math.sqrt(4 / 100))
    grown = (layer(0, 2e10, 0), layer(0, 8e10, 0), layer(1e-3, start[2], 1e-4))
    rows = history("tanh-var:4", 8, norms=(0.0, 0.0, 1.0), layers=grown, activations=sizes)
    findings = diagnose(rows, ["tanh-var:4"])
    assert kinds(findings)[:2] == [Diagnosis.EXPLODING, Diagnosis.SATURATION]
    assert findings[0].when == "from iteration 1 to 10"
    assert Diagnosis.VANISHING not in kinds(findings)


def test_a_learning_rate_too_large_kills_units_and_is_not_called_small_weights():
    """lr 2 on relu-he: the loss spikes to 13.5, the weights grow 8 to 40 times, the second
    layer dies. No collapse, no vanishing, no He advised to a He net (item 2)."""
    grown = (layer(0, 8 * HE[0], 0), layer(0, 16 * HE[1], 0), layer(0, 40 * HE[2], 0))
    dead = (units(40, dead=30, spread=0.2), units(20, dead=20, spread=0.0, mean=0.0))
    rows = [record(10, "relu-he", loss=13.5, norms=(0.0,) * 3, layers=grown, activations=dead)]
    rows += history("relu-he", 10, norms=(0.0,) * 3, layers=grown, activations=dead)[1:]
    findings = diagnose(rows, ["relu-he"])
    assert kinds(findings) == [Diagnosis.LR_TOO_LARGE, Diagnosis.DEAD_UNITS, Diagnosis.STALLED]
    assert "13.5" in findings[0].evidence and "40 times" in findings[0].evidence
    assert findings[1].advice == "a lower learning rate or a leaky ReLU"
    assert "large steps" in findings[1].meaning
    assert all("He" not in f.advice for f in findings)


def test_a_network_that_learns_is_said_to_learn_with_its_problems_after():
    rows = [record(10, "relu-he", test=0.1), *history("relu-he", 9, test=0.9)[1:]]
    rows = [record(r.iteration, "relu-he", test=r.test_accuracy, layers=(layer(),) * 3,
                   activations=(units(40, dead=16), units(20))) for r in rows]  # fmt: skip
    findings = diagnose(rows, ["relu-he"])
    assert kinds(findings) == [Diagnosis.LEARNS, Diagnosis.DEAD_UNITS]
    assert findings[1].advice == "a leaky ReLU"  # not He init, which it has
    healthy = diagnose([record(10, "relu-he", test=0.9)], ["relu-he"])
    assert kinds(healthy) == [Diagnosis.HEALTHY] and not healthy[0].advice


def test_a_plateau_is_blamed_on_small_weights_only_where_they_are_small():
    flat_then_learns = [0.1] * 8 + [0.9] * 8
    for setup, small in (("relu-gauss", True), ("relu-he", False)):
        rows = [record(10 * (i + 1), setup, test=t) for i, t in enumerate(flat_then_learns)]
        (plateau,) = diagnose(rows, [setup])
        assert plateau.kind == Diagnosis.PLATEAU and plateau.when == "from iteration 10 to 80"
        assert plateau.evidence == (
            "at chance at every evaluation up to iteration 80, first above chance at "
            "iteration 90, then test accuracy 90.0%"
        )
        assert ("small initial weights" in plateau.meaning) == small
        assert plateau.advice == ("He init" if small else "")


def test_stalled_follows_the_shown_state_and_never_points_at_findings_that_are_not_there():
    """One rule (item 6): 19.98% after 5 evaluations with the loss at 2.275 is stalled in the
    table and in the diagnosis, which says the loss is still falling."""
    losses = (2.344, 2.303, 2.295, 2.288, 2.275)
    tests = (0.101, 0.118, 0.138, 0.124, 0.1998)
    rows = [record(80 * (i + 1), "tanh-var:1", test=t, loss=loss)
            for i, (t, loss) in enumerate(zip(tests, losses, strict=True))]  # fmt: skip
    (stalled,) = diagnose(rows, ["tanh-var:1"])
    assert setup_state(SetupStatus.OK, len(rows), rows[-1].test_accuracy) == SetupState.STALLED
    assert stalled.kind == Diagnosis.STALLED and "falling from 2.344" in stalled.evidence
    assert "other findings" not in stalled.advice and stalled.advice
    for count in range(1, 8):
        for test in (0.1, 0.2, 0.21, 0.6):
            rows = history("s", count, test=test)
            state = setup_state(SetupStatus.OK, count, test)
            found = Diagnosis.STALLED in kinds(diagnose(rows, ["s"]))
            assert found == (state == SetupState.STALLED)


@pytest.mark.parametrize(
    ("dead", "vanishes"), [(20, False), (0, True)], ids=["wholly-dead-layer", "no-dead-unit"]
)
def test_exactly_zero_gradients_vanish_only_when_no_dead_or_saturated_layer_explains_them(
    dead, vanishes
):
    acts = (units(40), units(20, dead=dead))
    zeros = (layer(0), layer(0), layer(1e-3))
    rows = history("relu-gauss", 6, norms=(0.0, 0.0, 1e-4), layers=zeros, activations=acts)
    assert (Diagnosis.VANISHING in kinds(diagnose(rows, ["relu-gauss"]))) == vanishes


def test_diverged_and_still_learning_and_the_wrapped_text():
    diverged = history("d", 1, test=0.5, loss=1.0) + [
        record(15, "d", math.nan, math.inf, status=SetupStatus.DIVERGED)
    ]
    slow = [record(10, "w", test=0.15, loss=2.0), record(20, "w", test=0.3, loss=1.8)]
    findings = {f.setup: f for f in diagnose(diverged + slow, ["d", "w"])}
    assert findings["d"].kind == Diagnosis.DIVERGED and findings["d"].since == 15
    assert findings["w"].kind == Diagnosis.SLOW
    text = describe(list(findings.values()))
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "d: diverged (since iteration 15)" in text and "Try: lower the learning rate" in text


def test_weights_grown_while_the_loss_falls_are_learning_not_a_large_learning_rate():
    grown = (layer(weight=8 * HE[0]), layer(weight=8 * HE[1]), layer(weight=8 * HE[2]))
    rows = [record(10 * (i + 1), "relu-he", test=t, loss=loss, layers=grown, activations=SOUND)
            for i, (t, loss) in enumerate([(0.3, 2.0), (0.6, 0.9), (0.9, 0.3)])]  # fmt: skip
    (healthy,) = diagnose(rows, ["relu-he"])
    assert healthy.kind == Diagnosis.HEALTHY and healthy.when == "since iteration 20"
    rows[0] = record(10, "relu-he", test=0.1, loss=13.5, layers=grown, activations=SOUND)
    assert Diagnosis.LR_TOO_LARGE in kinds(diagnose(rows, ["relu-he"]))
    hovering = [record(10 * (i + 1), "relu-he", loss=loss, layers=grown, activations=SOUND)
                for i, loss in enumerate([13.5, 2.31, 2.29, 2.30, 2.299])]  # fmt: skip
    (large, *_) = diagnose(hovering, ["relu-he"])
    assert large.kind == Diagnosis.LR_TOO_LARGE and large.when == "since iteration 10"
