"""Issue 19's command-line items, run as real subprocesses: help, run names, permissions, output
that fits 80 columns, and how a run ends."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

VGTUI = [sys.executable, "-m", "vgtui"]
SMALL = ("--iters", "20", "--eval-every", "10", "--hidden", "8", "--probe-size", "20")


def run_cli(*args: str, env: dict | None = None, timeout: float = 120, **kwargs):
    return subprocess.run(
        [*VGTUI, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        **kwargs,
    )


def test_run_files_are_created_as_the_umask_says(tmp_path):
    """Under umask 022 every file of a run folder is 0644 (they were 0600, but records.jsonl):
    a student shares a run folder with the teacher."""
    out = tmp_path / "runs"
    result = subprocess.run(
        ["sh", "-c", 'umask 022 && exec "$@"', "sh", *VGTUI, "--no-ui", *SMALL, "--out", str(out)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    (folder,) = out.iterdir()
    files = sorted(path for path in folder.iterdir() if path.is_file())
    assert {path.name for path in files} >= {"config.json", "metrics.csv", "summary.json"}
    modes = {path.name: oct(stat.S_IMODE(path.stat().st_mode)) for path in files}
    assert set(modes.values()) == {"0o644"}, modes
