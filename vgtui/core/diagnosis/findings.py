"""A finding and how it reads: its kind, when it held, its evidence, meaning and advice."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from vgtui.core.vocabulary import Diagnosis


@dataclass(frozen=True)
class Finding:
    setup: str
    kind: Diagnosis
    since: int
    """The iteration from which it held."""
    evidence: str
    meaning: str
    advice: str
    """What to try; empty when there is nothing to change."""
    until: int | None = None
    """The last iteration it held at, if it stopped holding before the run's end."""

    @property
    def when(self) -> str:
        if self.until is None:
            return f"since iteration {self.since}"
        if self.until == self.since:
            return f"at iteration {self.since}"
        return f"from iteration {self.since} to {self.until}"

    def to_dict(self) -> dict:
        return {
            "setup": self.setup,
            "finding": str(self.kind),
            "since": self.since,
            "until": self.until,
            "evidence": self.evidence,
            "meaning": self.meaning,
            "advice": self.advice,
        }


def describe(findings: Sequence[Finding], width: int = 80, seeds: int = 1) -> str:
    """The findings as text for a terminal of ``width`` columns. With several ``seeds`` the
    findings read each setup's first seed (vgtui.core.diagnosis.rules.diagnose), and their
    numbers are that seed's, not the mean the table beside them shows: the heading says so."""
    heading = "Diagnosis:" if seeds < 2 else (
        f"Diagnosis of each setup's first seed (the table shows the mean of {seeds}):"
    )  # fmt: skip
    lines = textwrap.wrap(heading, width, break_on_hyphens=False)
    for finding in findings:
        head = f"  {finding.setup}: {finding.kind} ({finding.when}): "
        lines += textwrap.wrap(
            head + finding.evidence, width, subsequent_indent="    ", break_on_hyphens=False
        )
        meaning = finding.meaning[:1].upper() + finding.meaning[1:] + "."
        if finding.advice:
            meaning += f" Try: {finding.advice}."
        lines += textwrap.wrap(
            meaning,
            width,
            initial_indent="    ",
            subsequent_indent="    ",
            break_on_hyphens=False,
        )
    return "\n".join(lines)
