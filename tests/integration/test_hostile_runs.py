"""Saved runs are untrusted input (issue 22 items 1-2, issue 23 item 12): every damage the
issue found, through the seven commands on saved runs, gives one "damaged run folder" line and
exit 1 (or, for a folder whose writer is gone, works), never a traceback, never a hang; no
escape sequence from a file reaches the terminal."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys

import pytest

from tests.hostile_runs import (
    COMMANDS,
    DAMAGE,
    DAMAGE_ENDING_IN_ERROR,
    ESCAPES,
    RECORDS_DAMAGE,
    call,
    escaped_folder,
    hostile_folder,
    record,
    write_run,
)
from vgtui.core.store.listing import find_runs, list_runs
from vgtui.core.store.saved_runs import READ_CHUNK_BYTES, RunFolderError, read_run
from vgtui.core.store.writer_check import writer_alive

HANG_SECONDS = 20
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("vgtui: error")]


@pytest.mark.parametrize("damage", sorted(DAMAGE_ENDING_IN_ERROR))
def test_damage_is_one_line_naming_the_folder_and_exit_1_in_every_command(tmp_path, capsys, damage):
    folder = hostile_folder(tmp_path / "runs", damage)
    for command, argv in COMMANDS.items():
        status, out, err = call(argv(folder, tmp_path), capsys)
        lines = errors(err)
        if command.startswith("runs") and damage in RECORDS_DAMAGE:
            assert status == 0 and not lines and folder.name in out  # records not read
            continue
        assert status == 1, (command, out, err)
        assert len(lines) == 1, (command, err)
        assert lines[0].startswith(f"vgtui: error: damaged run folder: {folder}"), lines
        assert "Traceback" not in err and len(lines[0]) < 1000
    assert not (tmp_path / "out.json").exists() and not list(tmp_path.glob("svg/*"))


@pytest.mark.parametrize("damage", sorted(set(DAMAGE) - DAMAGE_ENDING_IN_ERROR))
def test_a_writer_that_is_gone_or_unknown_ends_follow(tmp_path, capsys, damage):
    """pid 0, -1 or 1, a zombie, a huge or foreign pid: the run died; --follow ends (23.12)."""
    folder = hostile_folder(tmp_path / "runs", damage)
    assert read_run(folder).status == "died"
    status, out, err = call(["show", str(folder), "--follow", "--no-ui"], capsys)
    assert status == 1 and "stopped without finishing" in err and "Run died" in out


def test_a_writer_on_another_host_counts_while_its_folder_changes(tmp_path):
    folder = write_run(tmp_path / "run", finished=False)
    assert writer_alive({"pid": 4242, "host": "elsewhere.example"}, "", folder)
    assert not writer_alive({"pid": 4242, "host": socket.gethostname()}, "", folder)


def test_a_live_process_that_started_after_the_run_is_not_its_writer(tmp_path):
    """A pid reused by a later process (this one began long after 2026-11-29T15:22:38)."""
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as later:
        try:
            writer = {"pid": later.pid, "host": socket.gethostname()}
            assert not writer_alive(writer, "2026-11-29T15:22:38")
            assert writer_alive(writer, "2999-01-01T00:00:00")
        finally:
            later.kill()


@pytest.mark.parametrize("family", sorted(ESCAPES))
def test_no_escape_from_a_file_reaches_the_terminal(tmp_path, capsys, family):
    folder = escaped_folder(tmp_path / "runs", family)
    for command, argv in COMMANDS.items():
        if command == "export --svg":
            continue  # the SVG files are checked with the app's screens
        status, out, err = call(argv(folder, tmp_path), capsys)
        assert status == 0, (command, err)
        assert not RAW_CONTROL.search(out + err), (command, out + err)
    status, out, err = call(["show", str(folder), "--no-ui"], capsys)
    assert "\\x1b" in out or family in ("c1csi", "del", "markup")  # shown, as its escape


def test_a_listing_skips_each_damaged_run_with_one_line(tmp_path, capsys):
    root = tmp_path / "runs"
    good = [write_run(root / f"2026112{n}-000000-custom") for n in range(3)]
    bad = [hostile_folder(root, name, f"2026113{n}-000000-custom")
           for n, name in enumerate(["summary-iterations-huge", "summary-wall-Infinity",
                                     "config-iterations-huge"])]  # fmt: skip
    status, out, err = call(["runs", str(root)], capsys)
    assert status == 1
    assert all(run.name in out for run in good) and not any(run.name in out for run in bad)
    assert len(errors(err)) == 3 and all(run.name in err for run in bad)


def test_a_killed_atomic_write_of_config_json_is_listed_as_damaged(tmp_path, capsys):
    """23.18: the folder was invisible to ``vgtui runs``."""
    folder = hostile_folder(tmp_path / "runs", "config-interrupted-write")
    assert find_runs(folder.parent) == [folder]
    status, out, err = call(["runs", str(folder.parent)], capsys)
    assert status == 1 and ".config.json.a1b2.tmp" in err and "damaged run folder" in err


def test_stale_temporary_files_of_a_finished_run_are_removed_when_listing(tmp_path):
    folder = write_run(tmp_path / "runs" / "20261129-152238-custom")
    (folder / ".metrics.csv.x1y2.tmp").write_text("iteration,se")
    [listing] = list_runs([folder])
    assert not isinstance(listing, RunFolderError)
    assert not (folder / ".metrics.csv.x1y2.tmp").exists()


def test_temporary_files_of_a_live_writer_are_kept(tmp_path):
    folder = write_run(tmp_path / "runs" / "20261129-152238-custom", finished=False)
    document = json.loads((folder / "config.json").read_text())
    document["writer"]["pid"] = __import__("os").getpid()  # this process writes it
    (folder / "config.json").write_text(json.dumps(document))
    (folder / ".metrics.csv.x1y2.tmp").write_text("iteration,se")
    list(list_runs([folder]))
    assert (folder / ".metrics.csv.x1y2.tmp").exists()


def test_a_large_valid_records_file_is_read_with_progress(tmp_path, capsys):
    """200,000 records (the issue: more than 20 s with no word); the time is linear, and
    bench/runs_listing.py measures it."""
    folder = write_run(tmp_path / "20261129-152238-custom", lines=0)
    config = json.loads((folder / "config.json").read_text())
    config["config"].update(iterations=1_000_000, eval_every=10)
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "summary.json").unlink()
    lines = []
    for n in range(200_000):
        row = record(10 * (n // 2 + 1), ("relu-he", "sigmoid-gauss")[n % 2])
        del row["layers"], row["activations"]
        lines.append(json.dumps(row) + "\n")
    (folder / "records.jsonl").write_text("".join(lines))
    assert (folder / "records.jsonl").stat().st_size > 2 * READ_CHUNK_BYTES
    status, out, err = call(["show", str(folder), "--no-ui"], capsys)
    assert status == 0, err
    assert "Run died: 1000000/1000000" in out  # all of it was read (its writer is gone)
    progress = [line for line in err.splitlines() if "reading" in line]
    assert len(progress) >= 3 and progress[-1].endswith("100%")
