"""The bench scripts' command lines (no timing here: the timed runs are the scripts' own job).
bench/speed.py runs the remedies row unless told to skip it; what the probe costs moved to
bench/probe_overhead.py (which reuses speed.py's fresh-process worker)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def help_text(script: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def test_speed_runs_the_remedies_row_unless_told_to_skip_it():
    assert "--skip-remedies" in help_text("speed.py")


def test_probe_overhead_is_its_own_script():
    text = help_text("probe_overhead.py")
    assert "--pairs" in text
    assert "--quiet-wait" in text
    assert "--probe-overhead" not in help_text("speed.py")
