"""The sweep's agreement share beside the rules that know no theory ("always trains", the
best "trains iff depth <= D") and at other thresholds (issue 18, item 10): on a small set of
cells whose scores are worked out by hand here."""

from __future__ import annotations

from vgtui.core.sweep.scores import Scores, score_lines, scores


def cell(depth: int, accuracy: float, predicted: bool, diverged: int = 0) -> dict:
    return {"depth": depth, "test_accuracy": accuracy, "diverged_seeds": diverged,
            "predicted_trains": predicted, "agrees": None}  # fmt: skip


CELLS = {
    ("tanh", 10, 1.0): cell(10, 0.90, True),  # A
    ("tanh", 10, 2.0): cell(10, 0.55, True),  # B
    ("tanh", 25, 1.0): cell(25, 0.65, False),  # C
    ("tanh", 25, 2.0): cell(25, 0.30, False),  # D
    ("tanh", 40, 1.0): cell(40, 0.75, True),  # E
    ("tanh", 40, 2.0): cell(40, 0.80, False, diverged=1),  # F: a seed diverged, never trains
    ("tanh", 40, 3.0): {"depth": 40, "test_accuracy": None, "predicted_trains": True},  # no outcome
}


def test_scores_at_three_thresholds_as_worked_out_by_hand():
    # >= 50%: trains A B C E. Theory (T T F F T F) misses C: 5. Always: 4. Never: 2 (D F);
    # depth <= 10: A B D F right: 4; <= 25: A B C F: 4; <= 40 is always: 4. Best: <= 10.
    assert scores(CELLS, 0.5) == Scores(0.5, 6, theory=5, always=4, depth_rule=4, depth_limit=10)
    # >= 60%: trains A C E. Theory misses B and C: 4. Always 3, never 3 (B D F); <= 10: A D F
    # right: 3; <= 25: A C F: 3; <= 40: 3. Never is first of the best.
    assert scores(CELLS, 0.6) == Scores(0.6, 6, theory=4, always=3, depth_rule=3,
                                        depth_limit=None)  # fmt: skip
    # >= 70%: trains A E. Theory misses B: 5. Always 2; never 4 (B C D F); <= 10: A C D F: 4.
    assert scores(CELLS, 0.7) == Scores(0.7, 6, theory=5, always=2, depth_rule=4,
                                        depth_limit=None)  # fmt: skip


def test_the_summary_sentences():
    lines = score_lines(CELLS, 0.5)
    assert lines[0] == (
        'Without theory, on the same cells: "always trains" gets 4/6 (67%), the best '
        'depth-only rule, "trains iff depth <= 10" (chosen on these cells), 4/6 (67%).'
    )
    assert lines[1:] == [
        "Trains at >= 50%: theory 5/6, always 4/6, depth <= 10 4/6.",
        "Trains at >= 60%: theory 4/6, always 3/6, depth never 3/6.",
        "Trains at >= 70%: theory 5/6, always 2/6, depth never 4/6.",
    ]
    assert [line[:18] for line in score_lines(CELLS, 0.55)[1:]] == [
        "Trains at >= 50%: ", "Trains at >= 55%: ", "Trains at >= 60%: ", "Trains at >= 70%: "
    ]  # fmt: skip
    assert score_lines({}, 0.5) == []
