"""Properties of ``vgtui sweep`` on random input (issue 22, "What to build"): random damage to
cells.jsonl and sweep.json given to ``--resume``, and random argv, never end in a traceback,
always in exit status 0, 1, 2 or 130, never hang; a refused resume leaves cells.jsonl as it
was and a resume that goes on keeps every whole line. In-process calls of the command's main
with its streams captured; each example fails fast at the scheduler address (``garbage``), so
no Dask cluster starts. Bounded to run in seconds."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vgtui.cli.sweep import main as sweep_main
from vgtui.core.sweep.folder import CELLS_FILE, SWEEP_FILE, SweepFolder
from vgtui.core.sweep.spec import SweepSpec, Task

SPEC = SweepSpec(weight_variances=(1.0, 2.0), depths=(2, 4), seeds=1, width=8, iterations=10)
STATUSES = {0, 1, 2, 130}
BOUNDED = settings(
    max_examples=100,
    deadline=timedelta(seconds=20),  # a guard against a hang, not a measurement
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)


def result(task: Task) -> dict:
    rows = [
        {"weight_variance": w, "setup": "x", "setup_status": "learned", "train_accuracy": 0.7,
         "test_accuracy": 0.7, "diagnosis": ["healthy"]}
        for w in SPEC.weight_variances
    ]  # fmt: skip
    return {"results": rows, "seconds": 1.0, "host": "here", "pid": 1}


def write_folder(root: Path) -> Path:
    """Two of the sweep's two tasks done, so that a resume has one task left to do."""
    folder = SweepFolder.create(root, SPEC)
    folder.add_task(Task("tanh", 4, 0), result(Task("tanh", 4, 0)), None)
    folder.close()
    return folder.path


def call(argv: list[str]) -> tuple[int, str]:
    """``vgtui sweep ARGV`` in this process: its exit status and its stderr."""
    stderr, stdout = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
        try:
            status = sweep_main(argv)
        except SystemExit as exit:  # argparse: --help, a usage error
            status = exit.code if isinstance(exit.code, int) else 1
    return status, stderr.getvalue()


def assert_clean(status: int, stderr: str) -> None:
    assert status in STATUSES, (status, stderr)
    assert "Traceback" not in stderr, stderr
    for line in stderr.splitlines():
        assert line.startswith(("vgtui: ", "usage: vgtui sweep")), stderr
    assert not any(ord(ch) < 32 and ch != "\n" for ch in stderr), stderr


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12,
)  # fmt: skip
KEYS = ["kind", "activation", "depth", "weight_variance", "seed", "status", "test_accuracy",
        "format", "sweep", "seeds", "width", "depths", "weight_variances"]  # fmt: skip


@st.composite
def damage(draw, data: bytes) -> bytes:
    """``data`` with one to three random changes: cut, bytes inserted, a byte flipped, a line
    replaced by random JSON or a key's value by a random one, a line repeated."""
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["cut", "insert", "flip", "line", "value", "repeat"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "cut":
            data = data[:at]
        elif kind == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=12)) + data[at:]
        elif kind == "flip" and data:
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
        elif kind == "line":
            lines = data.split(b"\n")
            lines[at % len(lines)] = json.dumps(draw(JSON)).encode()
            data = b"\n".join(lines)
        elif kind == "value":
            key = draw(st.sampled_from(KEYS)).encode()
            value = json.dumps(draw(JSON)).encode()
            data = data.replace(b'"' + key + b'": ', b'"' + key + b'": ' + value + b', "_": ', 1)
        elif kind == "repeat":
            lines = data.split(b"\n")
            data = b"\n".join([*lines, lines[at % len(lines)]])
    return data


@BOUNDED
@given(st.data(), st.sampled_from([CELLS_FILE, SWEEP_FILE]))
def test_resume_of_a_randomly_damaged_folder_is_clean(data, name):
    with tempfile.TemporaryDirectory() as root:
        path = write_folder(Path(root))
        file = path / name
        damaged = data.draw(damage(file.read_bytes()), label="damaged")
        file.write_bytes(damaged)
        cells_before = (path / CELLS_FILE).read_bytes()
        status, stderr = call(["--resume", str(path), "--scheduler", "garbage"])
        assert_clean(status, stderr)
        cells_after = (path / CELLS_FILE).read_bytes()
        whole = cells_before[: cells_before.rfind(b"\n") + 1]
        assert cells_after.startswith(whole)  # no whole line is ever lost
        if status == 1 and "damaged" in stderr:
            assert cells_after == cells_before  # refused: nothing changed


FLAGS = ["--preset", "--activations", "--weight-var", "--bias-var", "--depths", "--width",
         "--seeds", "--iters", "--lr", "--batch-size", "--eval-every", "--threshold",
         "--data-dir", "--out", "--resume", "--workers", "--scheduler", "-h", "--"]  # fmt: skip
VALUES = st.sampled_from(["quick", "schoenholz", "tanh,relu", "1:4:3", "0", "-1", "1e308", "nan",
                          "2,3", "x", "", "10000", "1:2", "\x1b[2J", "a\nb", "9" * 400,
                          "tcp://127.0.0.1:1", "inproc://x"]) | st.text(max_size=12)  # fmt: skip


@BOUNDED
@given(st.lists(st.sampled_from(FLAGS) | VALUES, max_size=8))
def test_random_argv_is_clean(argv):
    """Whatever the arguments, the scheduler at the end is ``garbage``: a sweep that would run
    stops there, in one line, before any folder or cluster."""
    with tempfile.TemporaryDirectory() as root:
        status, stderr = call([*argv, "--out", root, "--scheduler", "garbage"])
        assert_clean(status, stderr)
        assert not list(Path(root).glob("*-sweep"))


@settings(BOUNDED, max_examples=5)
@given(st.data(), st.sampled_from([CELLS_FILE, SWEEP_FILE]))
def test_resume_of_a_randomly_damaged_folder_is_clean_as_a_real_process(data, name):
    """The same through ``python -m vgtui``, the signal latch and the interpreter's exit."""
    with tempfile.TemporaryDirectory() as root:
        path = write_folder(Path(root))
        file = path / name
        file.write_bytes(data.draw(damage(file.read_bytes()), label="damaged"))
        command = [sys.executable, "-m", "vgtui", "sweep", "--resume", str(path),
                   "--scheduler", "garbage"]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert_clean(result.returncode, result.stderr)
