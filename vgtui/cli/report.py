"""The end-of-run report as text: the table of the app's Summary tab, the diagnosis and where
the results are; printed by ``vgtui --no-ui`` at the end of a run and by ``vgtui show``."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

from vgtui.core.config import RunConfig
from vgtui.core.diagnosis import describe, diagnose
from vgtui.core.records import MetricRecord
from vgtui.core.summary import (
    SUMMARY_COLUMNS,
    fit_summary_columns,
    seeds_vary,
    summarize,
    summary_cells,
)
from vgtui.core.vocabulary import RunPhase, RunStatus


def format_summary(
    records: Sequence[MetricRecord],
    status: RunStatus | RunPhase,
    config: RunConfig,
    wall_seconds: float,
    run_dir: Path | None,
    dataset_name: str,
    width: int = 80,
    iterations: int | None = None,
) -> str:
    """The end-of-run summary table (the columns of the app's Summary tab) and the diagnosis,
    in ``width`` columns. ``iterations``: how many were trained (by default, the last
    recorded)."""
    summaries = summarize(records, config.setup_names)
    if iterations is None:
        iterations = max((r.iteration for r in records), default=0)
    header = (
        f"Run {status}: {iterations}/{config.iterations} iterations in {wall_seconds:.1f} s "
        f"({seed_text(config)}, {dataset_name}, "
        f"{'notebook' if config.notebook_grad else 'exact'} gradient)"
    )
    rows = [summary_cells(s) for s in summaries]
    columns, headers = fit_summary_columns(rows, width)
    positions = [SUMMARY_COLUMNS.index(c) for c in columns]
    widths = [
        max(len(header), *(len(row[i]) for row in rows))
        for header, i in zip(headers, positions, strict=True)
    ]

    def line(cells: Sequence[str]) -> str:
        texts = []
        for cell, column_width, column in zip(cells, widths, columns, strict=True):
            left = column in ("setup", "status")
            texts.append(f"{cell:<{column_width}}" if left else f"{cell:>{column_width}}")
        return "  ".join(texts).rstrip()

    heading = line(headers)
    lines = [
        *textwrap.wrap(header, width, break_on_hyphens=False),
        heading,
        "-" * len(heading),
        *(line([row[i] for i in positions]) for row in rows),
    ]
    findings = diagnose(records, config.setup_names)
    if findings:
        lines.append(describe(findings, width, config.seeds))
    lines.append(f"Results: {run_dir}" if run_dir else "Results: none (nothing was recorded)")
    return "\n".join(lines)


def seed_text(config: RunConfig) -> str:
    """``seed 0``, or with several seeds what varied between them and how they are summed
    up."""
    if config.seeds == 1:
        return f"seed {config.seed}"
    last = config.seed + config.seeds - 1
    return (
        f"seeds {config.seed}-{last} varying {seeds_vary(config)}; "
        "final test: mean and sd, the standard deviation over the seeds"
    )
