"""Hostile command-line text and hostile data files, through the real ``vgtui`` command
(issue #9): one line on stderr naming the problem, the documented exit status, no traceback."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

VGTUI = [sys.executable, "-m", "vgtui"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*VGTUI, *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def assert_one_line(result: subprocess.CompletedProcess, status: int, *needles: str) -> str:
    assert result.returncode == status, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("vgtui: error: ")
    assert "Traceback" not in result.stderr and "_arg" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("flag", "text", "message"),
    [
        ("--hidden", "²", "hidden sizes must be positive integers"),
        ("--hidden", "40,٣", "hidden sizes must be positive integers"),
        ("--hidden", "9" * 5000, "hidden sizes must be positive integers"),
        ("--iters", "²", "iterations must be a whole number"),
        ("--iters", "٣", "iterations must be a whole number"),
        ("--seed", "1_000", "seed must be a whole number"),
        ("--lr", "²", "learning rate must be a number"),
        ("--lr", "1_0", "learning rate must be a number"),
        ("--lr", "nan", "learning rate"),
        ("--setups", "²", "setup"),
        ("--setups", "relu-gauss:٣", "gauss sigma must be a number"),
        ("--setups", "relu-he,\u202egauss-he", "setup"),
    ],
    ids=lambda value: value if len(value) < 20 else f"{value[:3]}...({len(value)} chars)",
)
def test_hostile_option_text_is_one_line_and_exit_2(tmp_path, flag, text, message):
    result = run_cli("--no-ui", "--out", str(tmp_path / "runs"), flag, text)
    line = assert_one_line(result, 2, f"argument {flag}: ", message)
    assert "invalid" not in line  # argparse's fallback, which hides why
    assert len(line) < 300
    assert not (tmp_path / "runs").exists()


class _Touch:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickle_that_runs_code_is_refused_in_one_line(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "mnist.pkl"
    path.write_bytes(pickle.dumps({"train_img": _Touch(marker)}))
    result = run_cli("--no-ui", "--data-pkl", str(path), "--out", str(tmp_path / "runs"))
    assert_one_line(result, 1, f"{path}: refuses to load pickled ", ".system")
    assert not marker.exists()


def test_malformed_pickle_is_one_line(tmp_path):
    path = tmp_path / "mnist.pkl"
    path.write_bytes(pickle.dumps({"train_img": [[1, 2], [3]]}))
    result = run_cli("--no-ui", "--data-pkl", str(path), "--out", str(tmp_path / "runs"))
    assert_one_line(result, 1, str(path))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda path: path.mkdir(), "is a directory"),
        (lambda path: os.mkfifo(path), "is not a regular file"),
        (lambda path: path.symlink_to(path.name), "symlink loop"),
    ],
    ids=["directory", "fifo", "symlink-loop"],
)
def test_odd_data_dir_entries_are_one_line(tmp_path, write_dataset, make, message):
    folder = write_dataset(tmp_path / "set")
    entry = folder / "train-labels-idx1-ubyte.gz"
    entry.unlink()
    make(entry)
    result = run_cli("--no-ui", "--data-dir", str(folder), "--out", str(tmp_path / "runs"))
    assert_one_line(result, 1, f"{entry}: {message}")


def test_corrupt_deflate_is_one_line(tmp_path, write_dataset):
    folder = write_dataset(tmp_path / "set")
    entry = folder / "t10k-images-idx3-ubyte.gz"
    packed = bytearray(entry.read_bytes())
    packed[10] |= 0b110  # deflate block type 3: invalid
    entry.write_bytes(bytes(packed))
    result = run_cli("--no-ui", "--data-dir", str(folder), "--out", str(tmp_path / "runs"))
    assert_one_line(result, 1, f"{entry}: cannot read")
