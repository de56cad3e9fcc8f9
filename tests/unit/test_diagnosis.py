"""The diagnosis as a pure function of records: each finding, its evidence and its start."""

from __future__ import annotations

import math

from vgtui.core.diagnosis import CHANCE_LOSS, describe, diagnose
from vgtui.core.records import MetricRecord
from vgtui.core.vocabulary import Diagnosis, SetupStatus


def records(setup: str, points: list[tuple[float, float, tuple[float, ...]]], every: int = 10):
    """Records at iterations every, 2 every, ...: (test accuracy, loss, gradient norms)."""
    return [
        MetricRecord(every * (i + 1), setup, test, test, loss, norms, 0.1 * i)
        for i, (test, loss, norms) in enumerate(points)
    ]


def kinds(findings) -> list[Diagnosis]:
    return [f.kind for f in findings]


def test_stalled_and_vanishing_from_the_first_iteration_they_hold():
    rows = records("s", [(0.6, 1.0, (1.0, 1.0))] + [(0.1, CHANCE_LOSS, (1e-4, 0.1))] * 6)
    findings = diagnose(rows, ["s"])
    assert kinds(findings) == [Diagnosis.STALLED, Diagnosis.VANISHING]
    assert all(f.since == 20 for f in findings)  # the streak starts at the second record
    assert "1.0e-03" in findings[1].evidence


def test_exactly_zero_gradients_vanish_whatever_the_ratio():
    rows = records("s", [(0.1, 2.0, (0.0, 0.0, 0.0))] * 6)
    (finding,) = [f for f in diagnose(rows, ["s"]) if f.kind == Diagnosis.VANISHING]
    assert "exactly 0" in finding.evidence


def test_exploding_diverged_plateau_healthy_and_slow():
    exploding = records("e", [(0.3, 1.5, (5e3, 1.0))] * 6)
    diverged = records("d", [(0.5, 1.0, (1.0, 1.0))]) + [
        MetricRecord(15, "d", math.nan, math.nan, math.inf, (1.0, 1.0), 0.2, SetupStatus.DIVERGED)
    ]
    plateau = records("p", [(0.11, 2.30, (0.5, 1.0))] * 8 + [(0.9, 0.4, (1.0, 1.0))] * 8)
    healthy = records("h", [(0.5, 1.0, (1.0, 1.0)), (0.9, 0.3, (1.0, 1.0))])
    slow = records("w", [(0.15, 2.0, (1.0, 1.0)), (0.3, 1.8, (1.0, 1.0))])
    every = exploding + diverged + plateau + healthy + slow
    findings = {f.setup: f for f in diagnose(every, ["e", "d", "p", "h", "w"])}
    assert findings["e"].kind == Diagnosis.EXPLODING
    assert findings["d"].kind == Diagnosis.DIVERGED and findings["d"].since == 15
    assert findings["p"].kind == Diagnosis.PLATEAU and findings["p"].since == 90
    assert findings["h"].kind == Diagnosis.HEALTHY
    assert findings["w"].kind == Diagnosis.SLOW
    text = describe(list(findings.values()))
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "Try: lower the learning rate" in text


def test_vanishing_everywhere_that_the_ratio_misses():
    """A deep Xavier ReLU net: first/last ratio near 1, but every hidden layer's update is
    about 1e-6 of its weights."""
    from vgtui.core.records import LayerStats

    tiny = tuple(LayerStats(1e-4, 0.1, 2e-6, 0) for _ in range(3)) + (
        LayerStats(1e-3, 0.1, 2e-5, 0),
    )
    rows = [
        MetricRecord(10 * (i + 1), "x", 0.11, 0.11, CHANCE_LOSS, (1e-3,) * 4, 0.1, layers=tiny)
        for i in range(6)
    ]
    (vanishing,) = [f for f in diagnose(rows, ["x"]) if f.kind == Diagnosis.VANISHING]
    assert "every hidden layer's update" in vanishing.evidence
    assert vanishing.since == 10
