"""The sweep's heatmap as a model, drawn by both renderings: the text one that ``vgtui sweep``
prints (:mod:`vgtui.core.sweep.text`) and the Sweep tab's (:mod:`vgtui.ui.sweep`).

Per lane (an activation, plain or with a remedy), a grid of cells over (sigma_w^2, depth): each
cell's test accuracy band and, in a plain lane only, mean-field theory's prediction
(vgtui.core.theory: it trains when its depth is below 6 xi_c),
the 6 xi_c row, the critical sigma_w^2 and the legend. One notation for both renderings:

- a cell's mark is the tens digit of its test accuracy (``x`` diverged, ``?`` failed, ``.`` not
  run yet), in parentheses where theory says it does not train: ``(3)``; in cells one
  character wide, ``a``-``j`` stand for 0-9 in parentheses. Each cell carries the prediction
  that the agreement with theory counts, so a disagreement reads off the grid: ``(9)`` or ``2``;
- 6 xi_c per column in at most :data:`LIMIT_WIDTH` characters: ``22``, ``2557``, ``29k``, ``inf``;
- ``v`` over the critical sigma_w^2, between the columns it falls between.

Where a column's q* is 0 or infinite (ReLU with sigma_b^2 = 0) xi_c is infinite and the limit
is 6 xi_grad (see vgtui.core.theory): the row is labelled ``6xi_g`` then (``6xi`` if a grid has
columns of both kinds) and the legend says what that is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from vgtui.core.sweep.spec import PLAIN, CellKey, SweepSpec, split_lane
from vgtui.core.theory import MeanField, critical_weight_variance, mean_field

BAND_DIGITS = "0123456789"
NARROW_PREDICTED_NOT = "abcdefghij"
"""In one-character cells: the band digit of a cell theory says does not train."""
MARKS = {"x": "x diverged", "?": "? failed", ".": ". not run yet"}
"""The marks of cells without an accuracy, named in the legend when such a cell is shown."""
LIMIT_WIDTH = 4
"""The most characters of a 6 xi_c label: one label in every rendering."""


@cache
def theory(activation: str, weight_variance: float, bias_variance: float) -> MeanField:
    """Mean-field theory of one column, computed once (the tab redraws often)."""
    return mean_field(activation, weight_variance, bias_variance)


@cache
def critical(activation: str, bias_variance: float) -> float | None:
    """The sigma_w^2 where chi_1 = 1 (xi_c infinite), or None if there is none."""
    try:
        return critical_weight_variance(activation, bias_variance)
    except ValueError:
        return None


def band(cell: Mapping | None) -> str:
    """One character: the tens digit of the test accuracy; x diverged, ? failed, . not run."""
    if cell is None:
        return "."
    if cell.get("diverged_seeds"):
        return "x"
    accuracy = cell.get("test_accuracy")
    if accuracy is None:
        return "?"
    return BAND_DIGITS[min(9, max(0, int(accuracy * 10)))]


def axis_label(value: float, width: int) -> str:
    """``value`` in at most ``width`` characters if it can be (1.375 -> 1.38 in 4), so that
    neighbouring column labels never run together."""
    for digits in (4, 3, 2, 1):
        text = f"{value:.{digits}g}"
        if len(text) <= width:
            return text
    return text


def limit_label(value: float, width: int = LIMIT_WIDTH) -> str:
    """6 xi_c in at most ``width`` characters: ``22``, ``2557``, ``29k``, ``3M``, ``inf``."""
    if math.isinf(value):
        return "inf"
    for text in (f"{value:.0f}", f"{value / 1e3:.0f}k", f"{value / 1e6:.0f}M"):
        if len(text) <= width:
            return text
    return ""


@dataclass(frozen=True)
class GridCell:
    """One cell: its cell line (None until all its seeds are in) and theory's prediction."""

    line: Mapping | None
    predicted: bool
    """Theory: it trains (depth < 6 xi_c)."""

    @property
    def mark(self) -> str:
        return band(self.line)

    def text(self, width: int) -> str:
        """The cell in ``width`` characters: its mark in the middle (at ``(width - 1) // 2``),
        in parentheses where theory says it does not train."""
        mark = self.mark
        if self.predicted:
            return f"{mark:^{width}}" if width > 1 else mark
        if width < 3:
            return NARROW_PREDICTED_NOT[BAND_DIGITS.index(mark)] if mark in BAND_DIGITS else mark
        middle = (width - 1) // 2
        return " " * (middle - 1) + f"({mark})" + " " * (width - middle - 2)


@dataclass(frozen=True)
class Grid:
    """One lane's heatmap: ``rows`` deepest first, one cell per sigma_w^2. ``activation`` is
    the lane's name (``tanh``, ``tanh+bn``): only a plain lane gets the theory overlay."""

    spec: SweepSpec
    activation: str
    depths: tuple[int, ...]
    """Deepest first, as drawn."""
    rows: tuple[tuple[GridCell, ...], ...]
    limits: tuple[float, ...]
    """6 xi_c per column (6 xi_grad where xi_c is infinite)."""
    critical: float | None
    scale_names: tuple[str, ...] = ()
    """Per column: ``xi_c`` or ``xi_grad``, the depth scale of its limit."""

    @classmethod
    def of(cls, spec: SweepSpec, lane: str, cells: Mapping[CellKey, Mapping]) -> Grid:
        activation, variant = split_lane(lane)
        columns = spec.weight_variances
        models = [theory(activation, w, spec.bias_variance) for w in columns]
        limits = tuple(m.trainable_depth for m in models)
        predicts = variant == PLAIN
        depths = tuple(sorted(spec.depths, reverse=True))
        rows = tuple(
            tuple(
                GridCell(cells.get((lane, depth, w)), not predicts or depth < limit)
                for w, limit in zip(columns, limits, strict=True)
            )
            for depth in depths
        )
        names = tuple(m.depth_scale_name for m in models)
        crit = critical(activation, spec.bias_variance)
        return cls(spec, lane, depths, rows, limits, crit, names)

    @property
    def predicts(self) -> bool:
        """Mean-field theory's prediction is drawn: a plain lane. The theory is of plain
        networks; for +bn or +res it predicts nothing this grid could be held to."""
        return split_lane(self.activation)[1] == PLAIN

    @property
    def no_theory(self) -> str:
        """What a grid without the overlay says instead."""
        variant = split_lane(self.activation)[1]
        return f"+{variant}: no mean-field prediction drawn (the theory is of plain networks)"

    @property
    def limit_name(self) -> str:
        """The label of the limits' row: ``6xi_c``, ``6xi_g`` (6 xi_grad) or both, ``6xi``."""
        kinds = set(self.scale_names) or {"xi_c"}
        return "6xi" if len(kinds) > 1 else {"xi_c": "6xi_c", "xi_grad": "6xi_g"}[kinds.pop()]

    @property
    def limit_words(self) -> str:
        """The limit as the legend says it: ``6 xi_c``, ``6 xi_grad`` or ``6 xi``."""
        return {"6xi_c": "6 xi_c", "6xi_g": "6 xi_grad", "6xi": "6 xi"}[self.limit_name]

    @property
    def columns(self) -> tuple[float, ...]:
        return self.spec.weight_variances

    def title_parts(self, which: str = "") -> list[str]:
        """The title, in parts to join or cut: the first says what the grid is."""
        spec = self.spec
        return [
            f"{self.activation}{which}: test accuracy after {spec.iterations} iterations",
            f"width {spec.width}",
            f"sigma_b^2 {spec.bias_variance:g}",
            f"lr {spec.learning_rate:g}",
            f"{spec.seeds} seeds, mean" if spec.seeds > 1 else "1 seed",
        ]

    def limit_labels(self, width: int) -> list[str]:
        return [limit_label(limit, min(width, LIMIT_WIDTH)) for limit in self.limits]

    def marks(self) -> set[str]:
        return {cell.mark for row in self.rows for cell in row}

    def critical_marker(self, centers: Sequence[int], indent: int, width: int) -> str:
        """``v`` over the critical sigma_w^2 (between the columns it falls between, whose
        middles are at ``centers``), named; ``indent``: where the columns start."""
        columns, crit = self.columns, self.critical
        if not self.predicts:
            return " " * indent + self.no_theory
        if crit is None:
            return " " * indent + f"no critical sigma_w^2 for {self.activation}"
        name = f"critical sigma_w^2 {crit:.3f}"
        if not columns[0] <= crit <= columns[-1]:
            return " " * indent + f"{name} (outside the grid)"
        k = max(j for j in range(len(columns)) if columns[j] <= crit)
        x = float(centers[k])
        if k + 1 < len(columns):
            fraction = (crit - columns[k]) / (columns[k + 1] - columns[k])
            x += fraction * (centers[k + 1] - centers[k])
        at = round(x)
        if at + 2 + len(name) <= width:
            return " " * at + "v " + name
        return " " * max(0, at - len(name) - 1) + name + " v"

    def legend(self, narrow: bool) -> str:
        """What the marks mean (``narrow``: one-character cells), and the marks shown."""
        entries = ["digit: test accuracy in tens of % (0 below 10%, 9 from 90%)"]
        if not self.predicts:
            shown = self.marks()
            return "; ".join(entries + [t for mark, t in MARKS.items() if mark in shown])
        limit = self.limit_words
        if narrow:
            entries.append(f"a-j: 0-9 where depth >= {limit} (theory: does not train)")
        else:
            entries.append(f"(d): depth >= {limit} (theory: does not train)")
        entries.append(f"{self.limit_name}: theory's trainable depth per column (k: thousand)")
        if self.limit_name != "6xi_c":
            entries.append(
                "xi_grad = 1/|ln chi_1|, the depth over which gradients change e-fold: the "
                "limit where q* is 0 or infinite and the correlation depth xi_c is infinite"
                + (" (6 xi: 6 xi_c in the other columns)" if self.limit_name == "6xi" else "")
            )
        if self.critical is not None:
            entries.append("v: critical sigma_w^2 (chi_1 = 1, xi_c infinite)")
        shown = self.marks()
        entries += [text for mark, text in MARKS.items() if mark in shown]
        return "; ".join(entries)


__all__ = ["Grid", "GridCell", "band", "critical", "theory"]
