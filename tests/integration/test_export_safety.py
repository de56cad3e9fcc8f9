"""``vgtui export`` never destroys a run (issue 23 item 3): it refuses to write into a run
folder, replaces an existing file only with --force, and writes SVG files atomically."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.hostile_runs import write_run
from vgtui.core.store.saved_runs import read_run

VGTUI = [sys.executable, "-m", "vgtui"]


def vgtui(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*VGTUI, *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120)  # fmt: skip


def test_export_refuses_to_write_into_a_run_folder(tmp_path):
    run = write_run(tmp_path / "20261129-152238-custom")
    records = (run / "records.jsonl").read_bytes()
    for target in (run / "records.jsonl", run / "new.csv"):
        result = vgtui("export", str(run), "-o", str(target), "--force")
        assert result.returncode == 1 and "inside the run folder" in result.stderr
        assert result.stderr.count("\n") == 1
    assert (run / "records.jsonl").read_bytes() == records and not (run / "new.csv").exists()
    assert read_run(run).records  # the run still opens
    result = vgtui("export", str(run), "--svg", str(run))
    assert result.returncode == 1 and "inside the run folder" in result.stderr
    assert not list(run.glob("*.svg"))


def test_export_replaces_an_existing_file_only_with_force(tmp_path):
    run = write_run(tmp_path / "runs" / "20261129-152238-custom")
    target = tmp_path / "table.csv"
    target.write_text("mine\n")
    result = vgtui("export", str(run), "-o", str(target))
    assert result.returncode == 1 and "add --force" in result.stderr
    assert target.read_text() == "mine\n"
    assert vgtui("export", str(run), "-o", str(target), "--force").returncode == 0
    assert target.read_text().startswith("run,") and "mine" not in target.read_text()


def test_export_svg_replaces_files_atomically_and_only_with_force(tmp_path):
    run = write_run(tmp_path / "runs" / "20261129-152238-custom")
    out = tmp_path / "svg"
    first = vgtui("export", str(run), "--svg", str(out))
    assert first.returncode == 0, first.stderr
    written = [Path(line) for line in first.stdout.splitlines()]
    inodes = {path: path.stat().st_ino for path in written}
    again = vgtui("export", str(run), "--svg", str(out))
    assert again.returncode == 1 and "add --force" in again.stderr
    assert {path: path.stat().st_ino for path in written} == inodes  # untouched
    forced = vgtui("export", str(run), "--svg", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    for path in written:  # each replaced by a rename: a reader never sees half a file
        assert path.stat().st_ino != inodes[path] and path.read_text().endswith("</svg>\n")
    assert not list(out.glob(".*.tmp"))
