"""The sweep's heatmap as plain text (what ``vgtui sweep`` prints at its end): the grid model
of :mod:`vgtui.core.sweep.grid` in a given number of columns (with several seeds, a second
grid of their standard deviation), then the agreement with theory beside the baselines and at
other thresholds (:mod:`vgtui.core.sweep.scores`)."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

from vgtui.core.sweep.grid import Grid, axis_label
from vgtui.core.sweep.scores import score_lines, scores
from vgtui.core.sweep.spec import CellKey, SweepSpec

WIDTH = 80
LABEL = 7
"""The depth label's columns: ``  100  ``."""
CELL_WIDTHS = (5, 3)
"""Cell widths tried, widest first (5 fits a label like 1.38 with a space); else 1."""


def wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_on_hyphens=False)


def join_parts(parts: list[str], width: int) -> list[str]:
    """``parts`` joined by commas in lines of at most ``width``, broken only between parts
    (a part wider than a line on its own)."""
    lines = [parts[0]]
    for part in parts[1:]:
        if len(lines[-1]) + 2 + len(part) <= width:
            lines[-1] += ", " + part
        else:
            lines[-1] += ","
            lines.append(part)
    return [piece for line in lines for piece in wrap(line, width)]


def heatmap(spec: SweepSpec, cells: Mapping[CellKey, Mapping], width: int = WIDTH) -> str:
    """Per lane, a grid of test accuracy over (sigma_w^2, depth) with the theory overlay
    (plain lanes only) and the legend, then the agreement with theory over the plain lanes'
    cells, in ``width`` columns."""
    grids = [Grid.of(spec, lane, cells) for lane in spec.lanes]
    blocks = [grid_text(grid, width) for grid in grids]
    own = scores(cells, spec.threshold)
    names = {grid.limit_name for grid in grids if grid.predicts}
    limit = "6 xi_c" if names == {"6xi_c"} else "6 xi_c (6 xi_grad where xi_c is infinite)"
    percent = f"{100 * own.theory / own.judged:.0f}%" if own.judged else "-"
    summary = wrap(
        f"Agreement with theory: {own.theory}/{own.judged} cells ({percent}) match "
        f'"trains (mean test accuracy >= {100 * spec.threshold:.0f}%, no seed diverged) iff '
        f'depth < {limit}"' + (" (plain lanes only)." if len(spec.variants) > 1 else "."),
        width,
    )
    for line in score_lines(cells, spec.threshold):
        summary += wrap(line, width)
    return "\n\n".join([*blocks, "\n".join(summary)])


def grid_text(grid: Grid, width: int = WIDTH) -> str:
    """One activation's grid: title, critical marker, sigma_w^2 labels, the rows (deepest on
    top), 6 xi_c per column, the legend."""
    columns = grid.columns
    cell = next((w for w in CELL_WIDTHS if LABEL + w * len(columns) <= width), 1)
    lines = join_parts(grid.title_parts(), width)
    centers = [LABEL + k * cell + (cell - 1) // 2 for k in range(len(columns))]
    lines.append(grid.critical_marker(centers, LABEL, width))
    if cell == 5:
        lines.append("depth  " + "".join(f"{axis_label(w, 4):^5}" for w in columns).rstrip())
    else:
        lines.append("depth  (columns: sigma_w^2 below)")
    for depth, row in zip(grid.depths, grid.rows, strict=True):
        lines.append(f"{depth:>5}  " + "".join(c.text(cell) for c in row).rstrip())
    if not grid.predicts:
        pass
    elif cell == 5:
        row = "".join(f"{t:^5}" for t in grid.limit_labels(4))
        lines.append((f"{grid.limit_name:<{LABEL}}" + row).rstrip())
    else:
        values = ", ".join(
            f"{w:g} ({label})" for w, label in zip(columns, grid.limit_labels(4), strict=True)
        )
        lines += wrap(f"sigma_w^2 ({grid.limit_name}), left to right: {values}", width)
    lines += wrap(grid.legend(narrow=cell == 1), width)
    if grid.spec.seeds > 1:
        lines += spread_text(grid, cell, width)
    return "\n".join(lines)


def spread_text(grid: Grid, cell: int, width: int) -> list[str]:
    """The seeds' standard deviation of each cell's test accuracy, in points, as a grid under
    the heatmap (``.``: fewer than two seeds in); in one-character cells, where it is."""
    seeds = grid.spec.seeds
    title = f"sd of test accuracy over {seeds} seeds, in points (the sample sd, n - 1)"
    if cell == 1:
        return wrap(f"{title}: too narrow here, see cells.jsonl (test_accuracy_std)", width)
    lines = [""] + wrap(title, width)
    if cell == 5:
        lines.append("depth  " + "".join(f"{axis_label(w, 4):^5}" for w in grid.columns).rstrip())
    else:
        lines.append("depth  (columns as above)")
    for depth, row in zip(grid.depths, grid.rows, strict=True):
        texts = []
        for entry in row:
            sd = (entry.line or {}).get("test_accuracy_std")
            texts.append(f"{'.' if sd is None else f'{100 * sd:.0f}':^{cell}}")
        lines.append(f"{depth:>5}  " + "".join(texts).rstrip())
    return lines


__all__ = ["grid_text", "heatmap"]
