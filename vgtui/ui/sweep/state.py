"""What the Sweep tab holds of the sweep it follows: the folder's lines read so far (kept by
the core's :class:`~vgtui.core.sweep.lines.SweepLines`, as the writer keeps them) and the
cursor on its grid."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from vgtui.core.sweep.grid import critical
from vgtui.core.sweep.lines import SweepLines
from vgtui.core.sweep.spec import CellKey, SweepSpec


@dataclass
class SweepState:
    """A followed sweep: its settings and what its cells.jsonl said so far (a cell line comes
    once all seeds of its depth are in)."""

    path: Path
    spec: SweepSpec
    lines: SweepLines = field(default_factory=SweepLines)

    def add(self, lines: Iterable[dict]) -> None:
        self.lines.add(lines)

    @property
    def cells(self) -> Mapping[CellKey, dict]:
        """The last cell line of each cell."""
        return self.lines.cells

    def seeds_in(self, key: CellKey) -> int:
        """Seeds of a cell with a line so far."""
        return len(self.lines.seeds.get(key, ()))

    @property
    def done(self) -> int:
        """Cells of the grid with a result."""
        grid = set(self.grid())
        return sum(1 for key in self.cells if key in grid)

    def grid(self) -> list[CellKey]:
        spec = self.spec
        return [(a, d, w) for a in spec.lanes for d in spec.depths for w in spec.weight_variances]


@dataclass
class Cursor:
    """The cell read: indices into the spec's lanes (its activations, each plain or with a
    remedy: one grid each), depths (ascending) and sigma_w^2."""

    activation: int = 0
    depth: int = 0
    column: int = 0

    @classmethod
    def start(cls, spec: SweepSpec) -> Cursor:
        """The deepest row at the column nearest the critical sigma_w^2: the wedge's tip."""
        columns = spec.weight_variances
        crit = critical(spec.activations[0], spec.bias_variance)
        column = len(columns) // 2
        if crit is not None:
            column = min(range(len(columns)), key=lambda k: abs(columns[k] - crit))
        return cls(0, len(spec.depths) - 1, column)

    def key(self, spec: SweepSpec) -> CellKey:
        depths = sorted(spec.depths)
        return (
            spec.lanes[self.activation],
            depths[self.depth],
            spec.weight_variances[self.column],
        )


__all__ = ["Cursor", "SweepState"]
