"""The Sweep tab's drawing: the core's grid model (:class:`~vgtui.core.sweep.grid.Grid`, the
one ``vgtui sweep`` prints as text) as coloured blocks in the space the tab has, with the
cursor and its readout.

Readable without colour (NO_COLOR): every cell carries the text rendering's mark (its accuracy
band as a digit, in parentheses where theory says it does not train), the cursor is a pair of
brackets; colour only adds the blocks.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text

from vgtui.core.summary import format_percent
from vgtui.core.sweep.grid import BAND_DIGITS, Grid, GridCell, axis_label, band, theory
from vgtui.core.sweep.spec import PLAIN, SweepSpec, split_lane
from vgtui.core.vocabulary import RunStatus
from vgtui.ui.sweep.state import Cursor, SweepState

VIRIDIS: tuple[tuple[int, int, int], ...] = (
    (68, 1, 84),
    (72, 40, 120),
    (62, 73, 137),
    (49, 104, 142),
    (38, 130, 142),
    (31, 158, 137),
    (53, 183, 121),
    (110, 206, 88),
    (181, 222, 43),
    (253, 231, 37),
)
"""One colour per accuracy band (tens of %), dark (chance) to bright: a perceptually even
scale that also reads in grey and for colour-blind eyes."""
NO_RESULT_STYLE = "on rgb(60,60,60)"
CELL_WIDTHS = (7, 6, 5, 4, 3)
"""Cell widths tried, widest first (4 fits a label like 2.25); else 1, without gaps."""
MAX_ROW_HEIGHT = 3
BLOCK_LINES = 4
"""The grid's lines besides its rows: title, critical marker, sigma_w^2 labels, 6 xi_c."""


def band_style(cell: Mapping | None) -> str:
    """The block's colour: the accuracy band's, grey without a number."""
    char = band(cell)
    if char not in BAND_DIGITS:
        return NO_RESULT_STYLE if cell is not None else ""
    index = BAND_DIGITS.index(char)
    text = "rgb(0,0,0)" if index >= 5 else "rgb(255,255,255)"
    return f"{text} on rgb({','.join(map(str, VIRIDIS[index]))})"


@dataclass(frozen=True)
class Geometry:
    """How the grid fits: the depth label's width, each cell's width, the gap between cells and
    the lines per row."""

    label: int
    cell: int
    gap: int
    row_height: int

    def center(self, column: int) -> int:
        return self.label + column * (self.cell + self.gap) + (self.cell - 1) // 2

    @classmethod
    def fit(cls, spec: SweepSpec, width: int, height: int, other_lines: int) -> Geometry:
        number = max(5, len(str(max(spec.depths))))
        label = number + 3  # "  100 > ": the cursor's row is marked
        columns = len(spec.weight_variances)
        cell, gap = 1, 0
        for candidate in CELL_WIDTHS:
            if label + columns * (candidate + 1) - 1 <= width:
                cell, gap = candidate, 1
                break
        spare = max(0, height - other_lines)
        row_height = max(1, min(MAX_ROW_HEIGHT, spare // len(spec.depths)))
        return cls(label, cell, gap, row_height)


def cell_text(cell: GridCell, width: int, cursor: bool) -> str:
    """A cell's middle line: the grid's text of the cell, ``[ ]`` at its edges under the
    cursor (the cursor wins where a cell is too narrow for both it and the parentheses)."""
    text = cell.text(width)
    if not cursor or width == 1:
        return text
    chars = list(text)
    middle = (width - 1) // 2
    if not cell.predicted and (middle - 1 == 0 or middle + 1 == width - 1):
        chars[middle - 1] = chars[middle + 1] = " "
    chars[0], chars[-1] = "[", "]"
    return "".join(chars)


def fit_line(parts: Sequence[str], width: int, separator: str = ", ") -> str:
    """As many of ``parts`` as fit in ``width``, the first always."""
    text = parts[0]
    for part in parts[1:]:
        if len(text) + len(separator) + len(part) > width:
            break
        text += separator + part
    return text


def wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, max(20, width), break_on_hyphens=False) or [""]


class SweepDrawing:
    """The tab's lines for one state, cursor and size; ``lines`` holds them as rich Text and
    ``plain`` as text (what NO_COLOR shows, and what the tests read)."""

    def __init__(
        self,
        state: SweepState,
        cursor: Cursor,
        width: int,
        height: int,
        status: str,
        hints: Sequence[str],
    ) -> None:
        self.state, self.cursor, self.width = state, cursor, max(20, width)
        spec = state.spec
        self.grid = Grid.of(spec, spec.lanes[cursor.activation], state.cells)
        narrow = Geometry.fit(spec, self.width, height, 0).cell == 1  # the width decides
        footer = [*wrap(self.grid.legend(narrow), self.width), *self.readout()]
        footer += wrap(status, self.width)
        keys = wrap("  ".join(hints), self.width) if hints else []
        if hints and len(footer) + len(keys) + BLOCK_LINES + len(spec.depths) > height:
            # Short of lines (80x24): the keys follow the status on its last line as far as
            # they fit, rather than the grid's legend or readout going below the fold (the
            # help screen lists every key).
            footer[-1] = fit_line([footer[-1], *hints], self.width, "  ")
            keys = []
        footer += keys
        self.geometry = Geometry.fit(spec, self.width, height, len(footer) + BLOCK_LINES)
        self.lines = self.block() + [Text(line) for line in footer]

    @property
    def plain(self) -> str:
        return "\n".join(line.plain.rstrip() for line in self.lines)

    def block(self) -> list[Text]:
        """The cursor's lane's grid (a sweep of several shows one at a time): title,
        critical marker, sigma_w^2 labels, the rows (deepest on top), 6 xi_c per column."""
        grid, geometry, cursor = self.grid, self.geometry, self.cursor
        count = len(grid.spec.lanes)
        which = f" ({cursor.activation + 1} of {count}, a: next)" if count > 1 else ""
        lines = [Text(fit_line(grid.title_parts(which), self.width), style="bold")]
        centers = [geometry.center(k) for k in range(len(grid.columns))]
        lines.append(Text(grid.critical_marker(centers, geometry.label, self.width)))
        header: list[Text | str] = [f"{'depth':<{geometry.label}}"]
        for k, w in enumerate(grid.columns):
            label = axis_label(w, geometry.cell) if geometry.cell > 1 else ""
            text = f"{label:^{geometry.cell}}"
            chosen = k == cursor.column
            header += [Text(text, style="reverse bold") if chosen else text, " " * geometry.gap]
        lines.append(Text.assemble(*header))
        cursor_row = len(grid.depths) - 1 - cursor.depth  # the grid's rows: deepest first
        for row, (depth, cells) in enumerate(zip(grid.depths, grid.rows, strict=True)):
            for part in range(geometry.row_height):
                middle = part == geometry.row_height // 2
                here = row == cursor_row
                mark = " > " if here and middle else "   "
                label = f"{depth:>{geometry.label - 3}}" if middle else " " * (geometry.label - 3)
                pieces: list[Text | str] = [label + mark]
                for k, cell in enumerate(cells):
                    chosen = here and k == cursor.column
                    text = cell_text(cell, geometry.cell, chosen) if middle else " " * geometry.cell
                    style = band_style(cell.line)
                    if chosen and middle:  # the block keeps its colour above and below
                        style = f"{style} reverse bold".strip()
                    pieces.append(Text(text, style=style) if style else text)
                    pieces.append(" " * geometry.gap)
                lines.append(Text.assemble(*pieces))
        if not grid.predicts:
            pass
        elif geometry.cell > 1:
            labels = "".join(
                f"{label:^{geometry.cell}}" + " " * geometry.gap
                for label in grid.limit_labels(geometry.cell)
            )
            lines.append(Text(f"{grid.limit_name:<{geometry.label}}" + labels))
        else:
            lines.append(Text(f"{grid.limit_words} per column: in the line under the cursor"))
        return lines

    def readout(self) -> list[str]:
        """What the cursor's cell is: accuracy, diagnosis, seed spread and theory."""
        state, spec = self.state, self.state.spec
        key = self.cursor.key(spec)
        lane, depth, weight_variance = key
        cell = state.cells.get(key)
        where = f"{lane}, depth {depth}, sigma_w^2 {weight_variance:g}"
        activation, variant = split_lane(lane)
        mean_field = theory(activation, weight_variance, spec.bias_variance)
        limit = mean_field.trainable_depth
        predicted = depth < limit
        shown = "infinite" if math.isinf(limit) else f"{limit:.0f}"
        scale = mean_field.depth_scale_name
        model = f"theory: 6 {scale} {shown}, {'trains' if predicted else 'does not train'}"
        if variant != PLAIN:
            model = "no mean-field prediction (+" + variant + ")"
        if cell is None:
            seeds = state.seeds_in(key)
            waiting = f"{seeds} of {spec.seeds} seeds in" if seeds else "not run yet"
            return wrap(f"{where}: {waiting}; {model}", self.width)
        first = f"{where}:"
        accuracy = cell.get("test_accuracy")
        if accuracy is None:
            errors = "; ".join(cell.get("errors", [])) or "no result"
            first += f" {RunStatus.FAILED}: {errors}"
        else:
            first += f" test {format_percent(accuracy)}"
            train = cell.get("train_accuracy")
            if train is not None:
                first += f" (train {format_percent(train)})"
            findings = ", ".join(cell.get("diagnosis") or [])
            if findings:
                first += f"; {findings}"
        tests = [a for a in cell.get("per_seed_test_accuracy", []) if a is not None]
        if len(tests) > 1:
            std = 100 * (cell.get("test_accuracy_std") or 0.0)
            spread = (
                f"{len(tests)} seeds: {format_percent(min(tests))} to "
                f"{format_percent(max(tests))}, std {std:.1f} points"
            )
        else:
            spread = f"{cell.get('seeds_done', 0)} seed"
        if cell.get("diverged_seeds"):
            spread += f", {cell['diverged_seeds']} diverged"
        if "agrees" in cell:
            model += "; agrees" if cell["agrees"] else "; disagrees"
        return wrap(first, self.width) + wrap(f"{spread}; {model}", self.width)


__all__ = ["SweepDrawing"]
