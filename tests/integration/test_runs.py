"""Coming back to runs: listing, showing, following while written, exporting, bad folders, and
the folders older versions wrote (committed fixtures of both formats)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from vgtui.core.store.listing import find_runs
from vgtui.core.store.run_folder import FolderName, new_run_dir
from vgtui.core.store.saved_runs import RunFolderError, RunFollower, read_run
from vgtui.core.vocabulary import RunPhase, RunStatus, SetupStatus

VGTUI = [sys.executable, "-m", "vgtui"]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "run_folders"
FORMAT1 = FIXTURES / "20261129-152237-format1"  # written by vgtui before records.jsonl
FORMAT2 = FIXTURES / "20261129-152238-format2"
GIVE_UP_SECONDS = 120


def vgtui(*args: str, timeout: float = GIVE_UP_SECONDS) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*VGTUI, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=timeout
    )


def numbers(run) -> list[tuple]:
    return [
        (r.iteration, r.setup, r.train_accuracy, r.test_accuracy, r.train_loss, r.grad_norms)
        for r in run.records
    ]


def folder_state(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_both_formats_read_back_to_the_same_records():
    old, new = read_run(FORMAT1), read_run(FORMAT2)
    assert (old.format, new.format) == (1, 2)
    assert numbers(old) == numbers(new)  # same seed, same numbers, whichever file holds them
    for run in (old, new):
        assert run.status == RunStatus.DONE and run.iterations_done == 20
        assert run.config.setup_names == ("relu-he", "sigmoid-gauss")
        assert [s.setup for s in run.summaries] == ["relu-he", "sigmoid-gauss"]
        summary = json.loads((run.path / "summary.json").read_text())
        best = {s["setup"]: s["best_test_accuracy"] for s in summary["setups"]}
        assert best == {s.setup: s.best_test_accuracy for s in run.summaries}


def test_the_status_says_how_many_setups_diverged():
    run = read_run(FORMAT2)
    last = dataclasses.replace(run.records[-1], status=SetupStatus.DIVERGED)
    diverged = dataclasses.replace(run, records=(*run.records[:-1], last))
    assert (run.status_text, diverged.status_text) == ("done", "done, 1 diverged")


def test_runs_lists_newest_first_in_80_columns(tmp_path):
    before = folder_state(FIXTURES)
    result = vgtui("runs", str(FIXTURES))
    assert result.returncode == 0, result.stderr
    *lines, hint = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    # names work bare under runs/ only (issue 19.17): elsewhere the listing says how to open one
    path = f"{FIXTURES / 'NAME'}"
    assert hint == f"to open one: vgtui show {path if len(path) <= 56 else 'DIR/NAME'}"
    names = [line.split()[0] for line in lines[1:] if not line.startswith(" ")]
    assert names == [FORMAT2.name, FORMAT1.name]
    assert "20/20" in result.stdout and "done" in result.stdout and "relu-he" in result.stdout
    listed = [
        json.loads(line)
        for line in vgtui("runs", str(FIXTURES), "--json").stdout.split("\n")
        if line
    ]
    assert [r["run"] for r in listed] == names
    assert (
        listed[0]["best_test_accuracy"]["relu-he"]
        == read_run(FORMAT2).summaries[0].best_test_accuracy
    )
    assert folder_state(FIXTURES) == before  # reading never writes


def test_show_prints_each_runs_summary():
    result = vgtui("show", str(FORMAT1), str(FORMAT2), "--no-ui")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Run done: 20/20 iterations") == 2
    assert FORMAT1.name in result.stdout and FORMAT2.name in result.stdout


def test_export_writes_one_tidy_table(tmp_path):
    result = vgtui("export", str(FORMAT1), str(FORMAT2))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    columns = {"run", "label", "learning_rate", "seed", "setup", "iteration", "metric", "value"}
    assert columns <= set(rows[0])
    per_record = 4 + 3  # accuracies, loss, seconds, three gradient norms
    assert len(rows) == 2 * len(read_run(FORMAT1).records) * per_record
    test = {(r["run"], r["setup"]): float(r["value"]) for r in rows
            if r["metric"] == "test_accuracy" and r["iteration"] == "20"}  # fmt: skip
    assert test[(FORMAT2.name, "relu-he")] == read_run(FORMAT2).records[-2].test_accuracy

    out = tmp_path / "all.jsonl"
    assert vgtui("export", str(FORMAT2), "--format", "json", "-o", str(out)).returncode == 0
    objects = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(objects) == len(read_run(FORMAT2).records) * per_record
    assert {o["metric"] for o in objects} >= {"test_accuracy", "grad_norm_3"}


def broken_copy(tmp_path: Path, name: str, change) -> Path:
    folder = tmp_path / name
    shutil.copytree(FORMAT2, folder)
    change(folder)
    return folder


def writes(name: str, text: str):
    return lambda folder: (folder / name).write_text(text)


BAD_FOLDERS = [
    (writes("config.json", '{"config": {"iter'), "config.json", "not valid JSON"),
    (lambda folder: (folder / "config.json").unlink(), "config.json", "missing"),
    (writes("config.json", '{"config": {"x": 1}}'), "config.json", "not a vgtui run config"),
    (writes("records.jsonl", '{"iteration": 10}\n'), "records.jsonl", "line 1"),
    (writes("summary.json", "[]"), "summary.json", "not a vgtui run summary"),
]


@pytest.mark.parametrize(("change", "file", "message"), BAD_FOLDERS)
def test_a_bad_run_folder_is_one_line_naming_the_file(tmp_path, change, file, message):
    folder = broken_copy(tmp_path, "bad", change)
    before = folder_state(folder)
    result = vgtui("show", str(folder), "--no-ui")
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and file in errors[0] and message in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert folder_state(folder) == before


def test_a_foreign_csv_in_an_old_folder_is_named(tmp_path):
    def foreign(folder: Path) -> None:
        (folder / "records.jsonl").unlink()
        (folder / "metrics.csv").write_text("step,loss\n1,0.5\n")

    with pytest.raises(RunFolderError, match=r"metrics.csv \(line 2 is not a vgtui metrics row"):
        read_run(broken_copy(tmp_path, "foreign", foreign))


def test_a_listing_skips_what_is_not_a_run_and_reports_what_is_broken(tmp_path):
    shutil.copytree(FORMAT1, tmp_path / FORMAT1.name)
    (tmp_path / "notes").mkdir()  # not a run: no config.json
    (tmp_path / ".config.json.abc.tmp").write_text("{")  # left by a killed atomic write
    broken_copy(tmp_path, "20990101-000000-custom", lambda f: (f / "config.json").write_text("{"))
    assert [p.name for p in find_runs(tmp_path)] == ["20990101-000000-custom", FORMAT1.name]
    result = vgtui("runs", str(tmp_path))
    assert result.returncode == 1
    assert FORMAT1.name in result.stdout  # the readable one is still listed
    assert result.stderr.count("error") == 1 and "20990101-000000-custom" in result.stderr


def test_folder_names_are_parsed_in_one_place():
    name = "20261129-151215-dlfs-init-2"
    assert FolderName.parse(name) == FolderName("20261129-151215", "dlfs-init", 2)
    assert str(FolderName.parse(name)) == name
    assert FolderName.parse("20261129-151215-custom") == FolderName("20261129-151215", "custom")
    assert FolderName.parse("notes") is None and FolderName.parse("20261129-custom") is None


def test_runs_of_the_same_second_are_listed_newest_first(tmp_path):
    now = datetime(2026, 11, 29, 15, 12, 15)
    made = [new_run_dir(tmp_path, "custom", now) for _ in range(10)]
    later = new_run_dir(tmp_path, "custom", datetime(2026, 11, 29, 15, 12, 16))
    for folder in [*made, later]:
        shutil.copy(FORMAT2 / "config.json", folder)
    assert made[1].name == "20261129-151215-custom-2" and made[9].name.endswith("-custom-10")
    assert find_runs(tmp_path) == [later, *reversed(made)]  # -10 is newer than -2


def test_a_half_written_last_line_is_left_for_later(tmp_path):
    def half(folder: Path) -> None:
        (folder / "summary.json").unlink()
        with (folder / "records.jsonl").open("a") as handle:
            handle.write('{"iteration": 30, "setup": "relu-he", "train_acc')

    run = read_run(broken_copy(tmp_path, "half", half))
    assert run.iterations_done == 20 and len(run.records) == len(read_run(FORMAT2).records)
    assert run.status == RunStatus.DIED  # no summary and its writer is long gone


def test_following_a_run_parses_each_record_once(tmp_path):
    folder = tmp_path / FORMAT2.name
    shutil.copytree(FORMAT2, folder)
    (folder / "summary.json").unlink()
    records_file = folder / "records.jsonl"
    lines = records_file.read_bytes().splitlines(keepends=True)
    records_file.write_bytes(b"".join(lines[:3]) + lines[3][:10])  # the writer is mid-line
    follower = RunFollower(folder)
    first = follower.read()
    assert len(first.records) == 3
    with records_file.open("ab") as handle:
        handle.write(lines[3][10:] + b"".join(lines[4:]))
    second = follower.read()
    assert numbers(second) == numbers(read_run(FORMAT2))
    assert all(a is b for a, b in zip(first.records, second.records, strict=False))  # kept
    assert follower.lines.bytes_read == records_file.stat().st_size  # every byte read once
    assert follower.read().records == second.records


def test_a_replaced_records_file_is_read_again_from_its_start(tmp_path):
    folder = tmp_path / FORMAT2.name
    shutil.copytree(FORMAT2, folder)
    follower = RunFollower(folder)
    records_file = folder / "records.jsonl"
    whole = len(follower.read().records)
    (tmp_path / "new").write_bytes(records_file.read_bytes().splitlines(keepends=True)[0])
    (tmp_path / "new").replace(records_file)
    assert whole > 1 and len(follower.read().records) == 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize(
    ("fixture", "name"),
    [
        (FORMAT2, "records.jsonl"),
        (FORMAT2, "config.json"),
        (FORMAT2, "summary.json"),
        (FORMAT1, "metrics.csv"),
    ],
)
def test_a_fifo_in_a_run_folder_is_an_error_not_a_hang(tmp_path, fixture, name):
    folder = tmp_path / fixture.name
    shutil.copytree(fixture, folder)
    (folder / name).unlink()
    os.mkfifo(folder / name)
    with pytest.raises(RunFolderError, match=rf"{name} \(cannot read: not a regular file"):
        read_run(folder)


def start_writer(out: Path, iterations: int) -> tuple[subprocess.Popen, Path]:
    writer = subprocess.Popen(
        [*VGTUI, "--no-ui", "--iters", str(iterations), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while not list(out.glob("*/records.jsonl")) or not any(
        p.stat().st_size for p in out.glob("*/records.jsonl")
    ):
        assert time.monotonic() < deadline and writer.poll() is None
        time.sleep(0.02)
    return writer, next(out.iterdir())


def test_follow_a_run_while_a_headless_writer_writes_it(tmp_path):
    writer, folder = start_writer(tmp_path / "runs", iterations=1500)
    assert read_run(folder).status == RunPhase.RUNNING
    follower = subprocess.run(
        [*VGTUI, "show", str(folder), "--follow", "--no-ui"],
        capture_output=True, text=True, timeout=GIVE_UP_SECONDS,
    )  # fmt: skip
    assert writer.wait(GIVE_UP_SECONDS) == 0
    assert follower.returncode == 0, follower.stderr
    progress = [line for line in follower.stdout.splitlines() if line.split("/")[0].isdigit()]
    iterations = [int(line.split("/")[0]) for line in progress]
    assert iterations == sorted(iterations) and iterations[-1] == 1500
    assert len(iterations) == 150  # every evaluation point once, none lost, none twice
    assert "Run done: 1500/1500" in follower.stdout


def test_follow_says_when_the_writer_died(tmp_path):
    writer, folder = start_writer(tmp_path / "runs", iterations=1_000_000)
    follower = subprocess.Popen(
        [*VGTUI, "show", str(folder), "--follow", "--no-ui"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(1.0)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    stdout, stderr = follower.communicate(timeout=GIVE_UP_SECONDS)
    assert follower.returncode == 1
    assert "stopped without finishing" in stderr and "Traceback" not in stderr
    assert "Run died" in stdout
