"""The Profile tab's batch-norm rows, under its charts for the shown +bn setups: per hidden
layer (L1 first), the std of the pre-activations u = aW + b that batch norm divides by (its
running average at the cursor; at initialisation the probe images' own, taken as one batch)
and the gamma and beta it learned, each a mean over the layer's units. With std 0.01 weights
u's std is tiny, so batch norm multiplies the signal back up by 1/std: watch it work."""

from __future__ import annotations

from collections.abc import Sequence

from vgtui.core.layer_profile import LayerProfile
from vgtui.ui.charts.chart import fit_legend
from vgtui.ui.look import series_marker

MEANING = {
    "σ": "σ of u running",
    "init σ": "init σ: probe batch",
    "γ": "γ β scale, shift",
}
"""What each group of numbers in a row is (the header line, in the rows' order)."""
MAX_ROWS = 4
"""+bn setups listed at most (the header says how many of them)."""


def number(value: float) -> str:
    """Two significant digits, as the Activations tab shows its numbers."""
    return f"{value:.2g}"


def groups(initial: LayerProfile | None, current: LayerProfile | None) -> list[tuple[str, str]]:
    """(group, its numbers per layer) of one setup; none without batch norm."""
    found = []
    if current is not None and current.running_std:
        found.append(("σ", current.running_std))
    if initial is not None and initial.batch_std:
        found.append(("init σ", initial.batch_std))
    if current is not None and current.gamma:
        found += [("γ", current.gamma), ("β", current.beta)]
    return [(name, " ".join(number(v) for v in values)) for name, values in found]


def batch_norm_lines(
    profiles: Sequence[tuple[int, LayerProfile | None, LayerProfile | None]],
    names: Sequence[str],
    where: str,
    width: int,
    rows: int,
) -> list[str]:
    """The header and a row per +bn setup among ``profiles`` ((setup index, at init, at the
    cursor)), at most ``rows`` of them, each fitted to ``width`` (whole parts, or ``+N more``);
    no line without a +bn setup."""
    found = [(index, groups(initial, current)) for index, initial, current in profiles]
    found = [(index, parts) for index, parts in found if parts]
    if not found:
        return []
    shown = found[: max(1, min(rows, MAX_ROWS))]
    count = f", {len(shown)} of {len(found)}" if len(shown) < len(found) else ""
    present = {name for _, parts in shown for name, _ in parts}
    head = [f"BN {where} (unit means{count})"]
    head += [text for key, text in MEANING.items() if key in present]
    lines = [fit_legend(head, width)]
    for index, parts in shown:
        values = [f"{name} {text}" for name, text in parts]
        named = "  ".join([f"{series_marker(index)} {names[index]}", *values])
        lines.append(named if len(named) <= width else fit_legend(
            [series_marker(index), *values], width
        ))  # fmt: skip
    return lines
