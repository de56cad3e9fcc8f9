"""How well theory predicts a sweep's cells, beside rules that know no theory: "always
trains", and the best rule "trains iff depth <= D" (one D for all the cells, chosen on them),
at the sweep's threshold and at others. A share means little without them: where most cells
train, or where depth alone decides, a high share is cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vgtui.core.sweep.spec import CellKey

SENSITIVITY_THRESHOLDS = (0.5, 0.6, 0.7)
"""Thresholds the CLI's summary shows the scores at, besides the sweep's own."""


def trains(test_accuracy: float | None, diverged_seeds: int, threshold: float) -> bool:
    """A cell trains: its mean test accuracy over the seeds is at least ``threshold`` and no
    seed diverged. The one rule, for the cell lines and for the scores at any threshold."""
    return test_accuracy is not None and not diverged_seeds and test_accuracy >= threshold


@dataclass(frozen=True)
class Scores:
    """Out of ``judged`` cells (those with an outcome), how many each rule gets right."""

    threshold: float
    judged: int
    theory: int
    """Cells where "trains iff depth < 6 xi" (the cell's predicted_trains) is right."""
    always: int
    """Cells that train: what "always trains" gets right."""
    depth_rule: int
    """What the best "trains iff depth <= depth_limit" gets right."""
    depth_limit: int | None
    """That rule's D; None: "never trains" did best."""


def scores(cells: Mapping[CellKey, Mapping], threshold: float) -> Scores:
    """Each rule's right cells at ``threshold``, over the cells that have an outcome. The
    depth rule is fitted to these cells (the smallest D of the best ones): a bound on what
    depth alone can do, not a prediction."""
    judged = [c for c in cells.values() if "agrees" in c]
    outcomes = [
        (c["depth"], trains(c.get("test_accuracy"), c.get("diverged_seeds", 0), threshold),
         bool(c["predicted_trains"]))
        for c in judged
    ]  # fmt: skip
    best, limit = sum(not t for _, t, _ in outcomes), None  # never trains
    for depth in sorted({d for d, _, _ in outcomes}):
        right = sum((d <= depth) == t for d, t, _ in outcomes)
        if right > best:
            best, limit = right, depth
    return Scores(
        threshold=threshold,
        judged=len(judged),
        theory=sum(t == p for _, t, p in outcomes),
        always=sum(t for _, t, _ in outcomes),
        depth_rule=best,
        depth_limit=limit,
    )


def share(right: int, judged: int) -> str:
    """``62/63 (98%)``."""
    return f"{right}/{judged} ({100 * right / judged:.0f}%)" if judged else "-"


def depth_rule_name(limit: int | None) -> str:
    return "never trains" if limit is None else f"trains iff depth <= {limit}"


def score_lines(cells: Mapping[CellKey, Mapping], threshold: float) -> list[str]:
    """The baselines at ``threshold``, then every rule's score at the sensitivity thresholds
    (and ``threshold``), one sentence each (to wrap)."""
    own = scores(cells, threshold)
    if not own.judged:
        return []
    lines = [
        f'Without theory, on the same cells: "always trains" gets {share(own.always, own.judged)}'
        f', the best depth-only rule, "{depth_rule_name(own.depth_limit)}" (chosen on these '
        f"cells), {share(own.depth_rule, own.judged)}."
    ]
    for level in sorted({*SENSITIVITY_THRESHOLDS, threshold}):
        at = scores(cells, level)
        limit = "never" if at.depth_limit is None else f"<= {at.depth_limit}"
        lines.append(
            f"Trains at >= {100 * level:.0f}%: theory {at.theory}/{at.judged}, always "
            f"{at.always}/{at.judged}, depth {limit} {at.depth_rule}/{at.judged}."
        )
    return lines


__all__ = ["SENSITIVITY_THRESHOLDS", "Scores", "score_lines", "scores", "share", "trains"]
