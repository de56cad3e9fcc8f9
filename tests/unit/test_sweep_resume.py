"""A resumed sweep folder never loses a finished result (issue 23, items 1 and 2): every whole
line is kept, only a partial last line is cut and only when the first new line is written,
any other damage refuses the resume with the file left as it is; a task is finished when each
of the sweep's sigma_w^2 has a done line, however many copies there are. Real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vgtui.core.config import ConfigError
from vgtui.core.sweep.folder import CELLS_FILE, SweepFolder, read_cells
from vgtui.core.sweep.spec import SweepSpec, Task

SPEC = SweepSpec(weight_variances=(1.0, 2.0), depths=(2, 4), seeds=2, width=8, iterations=10)
TASKS = [Task("tanh", 2, 0), Task("tanh", 2, 1), Task("tanh", 4, 0)]


def result(task: Task, accuracy: float, note: str = "") -> dict:
    rows = [
        {"weight_variance": w, "setup": f"tanh-var:{w:g}", "setup_status": "learned",
         "train_accuracy": accuracy, "test_accuracy": accuracy + 0.01 * task.seed,
         "diagnosis": [], "evidence": [note]}
        for w in SPEC.weight_variances
    ]  # fmt: skip
    return {"results": rows, "seconds": 1.0, "host": "here", "pid": 1}


def written(tmp_path: Path, note: str = "") -> Path:
    """A folder with three finished tasks (8 lines: 6 seed lines, 2 cell lines)."""
    folder = SweepFolder.create(tmp_path, SPEC)
    for task in TASKS:
        folder.add_task(task, result(task, 0.9, note), None)
    folder.close()
    return folder.path


def whole_lines(path: Path) -> list[bytes]:
    return (path / CELLS_FILE).read_bytes().split(b"\n")[:-1]


def replace_line(path: Path, number: int, text: bytes) -> bytes:
    lines = whole_lines(path)
    lines[number - 1] = text
    data = b"\n".join(lines) + b"\n"
    (path / CELLS_FILE).write_bytes(data)
    return data


@pytest.mark.parametrize(
    "damage",
    [b"{garbage", b'{"kind": "seed", "depth": ' + b"9" * 5000 + b"}", b"\xff\xfe not utf-8"],
    ids=["not-json", "4300-digit-integer", "not-utf8"],
)
def test_a_damaged_line_in_the_middle_refuses_the_resume_and_changes_nothing(tmp_path, damage):
    path = written(tmp_path)
    before = replace_line(path, 4, damage)
    with pytest.raises(ConfigError, match=f"damaged sweep folder: .*{CELLS_FILE} line 4"):
        SweepFolder.open(path)
    assert (path / CELLS_FILE).read_bytes() == before


def test_a_raw_line_or_paragraph_separator_inside_a_line_keeps_every_line(tmp_path):
    """str.splitlines would split at U+2028 and U+0085: lines are split at b"\\n" only."""
    path = written(tmp_path, note="a\u2028b\x85c\u2029d")
    data = (path / CELLS_FILE).read_bytes()
    raw = data.replace(b"\\u2028", "\u2028".encode()).replace(b"\\u0085", "\x85".encode())
    assert "\u2028".encode() in raw
    (path / CELLS_FILE).write_bytes(raw)
    folder = SweepFolder.open(path)
    folder.complete_cells()
    folder.add_task(Task("tanh", 4, 1), result(Task("tanh", 4, 1), 0.5), None)
    folder.close()
    assert (path / CELLS_FILE).read_bytes().startswith(raw)
    assert len(read_cells(path)) == 8 + 4
    assert len(SweepFolder.open(path).finished_tasks()) == 4


def test_crlf_lines_and_a_partial_last_line_lose_nothing_over_many_resumes(tmp_path):
    path = written(tmp_path)
    crlf = b"".join(line + b"\r\n" for line in whole_lines(path))
    (path / CELLS_FILE).write_bytes(crlf + b'{"kind": "seed", "activ')
    for _ in range(3):
        folder = SweepFolder.open(path)
        assert folder.finished_tasks() == set(TASKS)
        assert len(folder.lines.seeds) == 4 and len(folder.cells()) == 2
        folder.complete_cells()
        folder.close()
    folder = SweepFolder.open(path)
    folder.add_task(Task("tanh", 4, 1), result(Task("tanh", 4, 1), 0.5), None)
    folder.close()
    data = (path / CELLS_FILE).read_bytes()
    assert data.startswith(crlf) and b"activ\n" not in data and data.endswith(b"\n")
    assert SweepFolder.open(path).finished_tasks() == {*TASKS, Task("tanh", 4, 1)}


def test_a_partial_last_line_stays_until_a_line_is_written(tmp_path):
    path = written(tmp_path)
    partial = (path / CELLS_FILE).read_bytes() + b'{"kind": "cell", "dep'
    (path / CELLS_FILE).write_bytes(partial)
    folder = SweepFolder.open(path)
    folder.complete_cells()  # every cell line is there: nothing to write
    folder.close()
    assert (path / CELLS_FILE).read_bytes() == partial


def test_copies_of_one_seed_line_do_not_finish_a_task(tmp_path):
    """Five copies of one sigma_w^2's line, and lines of sigma_w^2 outside the sweep, are
    not the sweep's two sigma_w^2: the task stays to do."""
    folder = SweepFolder.create(tmp_path, SPEC)
    path, task = folder.path, Task("tanh", 2, 0)
    folder.add_task(task, result(task, 0.9), None)
    first = whole_lines(path)[0]
    folder.close()
    foreign = [json.dumps({**json.loads(first), "weight_variance": w}).encode() for w in (5, 6)]
    (path / CELLS_FILE).write_bytes(b"\n".join([first] * 5 + foreign) + b"\n")
    folder = SweepFolder.open(path)
    assert folder.finished_tasks() == set()


def test_the_cli_changes_nothing_before_the_scheduler_answers(tmp_path, capsys):
    """The issue's repro: a damaged line 4 and an unreachable scheduler; then a partial last
    line and an unreachable scheduler: the file is byte for byte what it was."""
    from vgtui.cli.sweep import main as sweep_main

    path = written(tmp_path)
    before = replace_line(path, 4, b"{garbage")
    assert sweep_main(["--resume", str(path), "--scheduler", "tcp://127.0.0.1:1",
                       "--connect-timeout", "0.2"]) == 1
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1 and "line 4" in errors[0] and "nothing was changed" in errors[0]
    assert (path / CELLS_FILE).read_bytes() == before

    path = written(tmp_path / "second")
    before = (path / CELLS_FILE).read_bytes() + b'{"kind": "se'
    (path / CELLS_FILE).write_bytes(before)
    assert sweep_main(["--resume", str(path), "--scheduler", "tcp://127.0.0.1:1",
                       "--connect-timeout", "0.2"]) == 1
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1 and "scheduler" in errors[0]
    assert (path / CELLS_FILE).read_bytes() == before


def test_one_writer_at_a_time_and_the_lock_dies_with_its_holder(tmp_path):
    """Two resumes of one folder would both run every missing task: the second is refused;
    a holder killed with SIGKILL leaves no lock behind."""
    path = written(tmp_path)
    first = SweepFolder.open(path)
    with pytest.raises(ConfigError, match="another vgtui sweep is writing it"):
        SweepFolder.open(path)
    first.close()
    SweepFolder.open(path).close()

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(ConfigError, match="another vgtui sweep"):
            SweepFolder.open(path)
        command = [sys.executable, "-m", "vgtui", "sweep", "--resume", str(path)]
        refused = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert refused.returncode == 1 and "Traceback" not in refused.stderr
        assert refused.stderr.splitlines() == [
            f"vgtui: error: {path}: another vgtui sweep is writing it"
        ]
    finally:
        holder.kill()
        holder.wait()
    SweepFolder.open(path).close()


HOLD = """
import sys, time
from vgtui.core.sweep.folder import SweepFolder
folder = SweepFolder.open(sys.argv[1])
print("holding", flush=True)
time.sleep(120)
"""
