"""A hostile or damaged sweep folder given to ``vgtui sweep --resume`` (issue 22 item 4, issue
23 items 16 and 17): every case is one error line, escaped and of bounded length, exit 1, the
folder unchanged, no Dask started; the Sweep tab's follower skips such lines without a crash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vgtui.cli.sweep import main as sweep_main
from vgtui.core.sweep.folder import CELLS_FILE, SWEEP_FILE, SweepFolder, SweepReader
from vgtui.core.sweep.spec import SweepSpec, Task

SPEC = SweepSpec(weight_variances=(1.0, 2.0), depths=(2,), seeds=1, width=8, iterations=10)
SEED = {"kind": "seed", "activation": "tanh", "depth": 2, "weight_variance": 1.0, "seed": 0,
        "status": "done", "test_accuracy": 0.5, "train_accuracy": 0.5}  # fmt: skip
DEEP = 100_000


def folder_with(tmp_path: Path, cells: bytes | None = None, sweep: bytes | None = None) -> Path:
    folder = SweepFolder.create(tmp_path, SPEC)
    folder.close()
    if cells is not None:
        (folder.path / CELLS_FILE).write_bytes(cells)
    if sweep is not None:
        (folder.path / SWEEP_FILE).write_bytes(sweep)
    return folder.path


def sweep_json(**changes) -> bytes:
    document = {"format": 1, "kind": "sweep", "sweep": {**SPEC.to_dict(), **changes}}
    return json.dumps(document).encode()


def line(**changes) -> bytes:
    return json.dumps({**SEED, **changes}).encode() + b"\n"


HOSTILE_CELLS = {
    "a list": b"[1, 2]\n",
    "a number": b"3\n",
    "null": b"null\n",
    "a string": b'"seed"\n',
    "no keys": b"{}\n",
    "no seed": line(seed=None),
    "no depth": json.dumps({k: v for k, v in SEED.items() if k != "depth"}).encode() + b"\n",
    "an unhashable seed": line(seed=[1]),
    "an unhashable activation": line(activation={"a": 1}),
    "a boolean depth": line(depth=True),
    "an unknown variant": line(variant="\x1b[2Jpwn"),
    "a variant in the activation": line(activation="tanh+bn"),
    "deep nesting": b"[" * DEEP + b"]" * DEEP + b"\n",
    "deep nesting in an object": b'{"kind": ' + b"[" * DEEP + b"]" * DEEP + b"}\n",
    "accuracy a string": line(test_accuracy="x"),
    "accuracy infinity": line().replace(b'"test_accuracy": 0.5', b'"test_accuracy": Infinity'),
    "accuracy NaN": line().replace(b'"test_accuracy": 0.5', b'"test_accuracy": NaN'),
    "accuracy 1e308": line(test_accuracy=1e308),
    "per-seed accuracies not a list": line(kind="cell", per_seed_test_accuracy="x"),
    "diagnosis of numbers": line(diagnosis=[1, 2]),
    "a 5000-digit seed": line().replace(b'"seed": 0', b'"seed": ' + b"7" * 5000),
    "not UTF-8": b'{"kind": "\xff"}\n',
    "a control character line": b"\x1b]52;c;aGk=\x07\n",
}

HOSTILE_SPECS = {
    "format 99": json.dumps({"format": 99, "sweep": SPEC.to_dict()}).encode(),
    "no format": json.dumps({"sweep": SPEC.to_dict()}).encode(),
    "format true": json.dumps({"format": True, "sweep": SPEC.to_dict()}).encode(),
    "not an object": b"[]",
    "sweep a list": json.dumps({"format": 1, "sweep": []}).encode(),
    "seeds 10^7": sweep_json(seeds=10**7),
    "width 10^9": sweep_json(width=10**9),
    "iterations 10^30": sweep_json(iterations=10**30),
    "eval_every 10^30": sweep_json(eval_every=10**30),
    "more memory than there is": sweep_json(width=10_000, depths=[500]),
    "100,000 weight variances": sweep_json(weight_variances=[1 + k for k in range(100_000)]),
    "activations a string": sweep_json(activations="tanh"),
    "activations of lists": sweep_json(activations=[[1]]),
    "an unknown activation with escapes": sweep_json(activations=["\x1b[2J\x1b]0;pwned\x07"]),
    "a weight variance of 400 digits": sweep_json(weight_variances=[10**400]),
    "depths as text": sweep_json(depths=["2"]),
    "a duplicated activation": sweep_json(activations=["tanh", "tanh"]),
    "an unknown variant": sweep_json(variants=["bn", "\x1b[2Jpwn"]),
    "variants a string": sweep_json(variants="bn"),
    "deep nesting": b"[" * DEEP + b"]" * DEEP,
    "a truncated file": sweep_json()[:40],
    "empty": b"",
}


def assert_one_escaped_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vgtui: error: "), captured.err
    assert len(lines[0]) < 700
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in lines[0]), lines[0]
    return lines[0]


@pytest.mark.parametrize("damage", list(HOSTILE_CELLS), ids=list(HOSTILE_CELLS))
def test_a_hostile_cells_line_is_one_line_and_exit_1(damage, tmp_path, capsys):
    cells = line() + HOSTILE_CELLS[damage] + line(weight_variance=2.0)
    path = folder_with(tmp_path, cells=cells)
    assert sweep_main(["--resume", str(path)]) == 1
    error = assert_one_escaped_line(capsys)
    assert f"damaged sweep folder: {path}" in error and "line 2" in error
    assert (path / CELLS_FILE).read_bytes() == cells
    reader = SweepReader(path)  # the tab's follower: the good lines, no crash
    assert [parsed["weight_variance"] for parsed in reader.read()[0]] == [1.0, 2.0]


@pytest.mark.parametrize("damage", list(HOSTILE_SPECS), ids=list(HOSTILE_SPECS))
def test_a_hostile_sweep_json_is_one_line_and_exit_1(damage, tmp_path, capsys):
    path = folder_with(tmp_path, sweep=HOSTILE_SPECS[damage])
    assert sweep_main(["--resume", str(path)]) == 1
    assert str(path) in assert_one_escaped_line(capsys)
    assert (path / SWEEP_FILE).read_bytes() == HOSTILE_SPECS[damage]


@pytest.mark.parametrize("key", ["iterations", "eval_every"])
def test_10_to_the_30_iterations_in_sweep_json_are_refused_by_name(key, tmp_path, capsys):
    """There was no upper bound: such a sweep.json resumed and would have run forever."""
    path = folder_with(tmp_path, sweep=HOSTILE_SPECS[f"{key} 10^30"])
    assert sweep_main(["--resume", str(path)]) == 1
    assert "must be at most 100,000,000, got about 10^30" in assert_one_escaped_line(capsys)


def test_format_99_is_refused_by_name(tmp_path, capsys):
    path = folder_with(tmp_path, sweep=HOSTILE_SPECS["format 99"])
    assert sweep_main(["--resume", str(path)]) == 1
    assert "sweep.json is format 99; this vgtui reads 1" in assert_one_escaped_line(capsys)


@pytest.mark.parametrize("name", [CELLS_FILE, SWEEP_FILE])
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_link_to_a_device_is_refused(name, device, tmp_path, capsys):
    path = folder_with(tmp_path)
    (path / name).unlink()
    (path / name).symlink_to(device)
    assert sweep_main(["--resume", str(path)]) == 1
    assert "not a regular file" in assert_one_escaped_line(capsys)


@pytest.mark.parametrize("name", [CELLS_FILE, SWEEP_FILE, ".lock"])
def test_a_fifo_is_refused_never_waited_on(name, tmp_path):
    """A real process, with a bound: an open() that waited for a writer would hang it."""
    path = folder_with(tmp_path)
    (path / name).unlink()
    os.mkfifo(path / name)
    result = subprocess.run(
        [sys.executable, "-m", "vgtui", "sweep", "--resume", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    (error,) = result.stderr.splitlines()
    assert "not a regular file" in error


def test_a_writers_own_lines_pass_its_own_check(tmp_path):
    """What the writer appends, its reader takes back whole (no false damage)."""
    folder = SweepFolder.create(tmp_path, SPEC)
    result = {
        "results": [
            {"weight_variance": w, "setup": "x", "setup_status": "diverged", "train_accuracy": None,
             "test_accuracy": None, "diagnosis": ["exploding"], "evidence": ["x\u2028y"]}
            for w in SPEC.weight_variances
        ],
        "seconds": 0.5, "host": "h\x1b", "pid": 1,
    }  # fmt: skip
    folder.add_task(Task("tanh", 2, 0), result, None)
    folder.close()
    reopened = SweepFolder.open(folder.path)
    assert reopened.finished_tasks() == {Task("tanh", 2, 0)}
    assert len(reopened.cells()) == 2


def test_the_memory_estimate_refuses_a_huge_spec_in_a_line_that_ends_with_why(tmp_path, capsys):
    """sweep.json and the flags alike, before any worker starts; 500 layers of 10,000 units
    are '10000x500' in the line, not 3,000 characters that hide the reason."""
    path = folder_with(tmp_path, sweep=HOSTILE_SPECS["more memory than there is"])
    assert sweep_main(["--resume", str(path)]) == 1
    error = assert_one_escaped_line(capsys)
    assert "hidden sizes 10000x500 with 2 setups need about" in error
    assert error.endswith("is available)")
    with pytest.raises(SystemExit) as usage:
        sweep_main(["--width", "10000", "--depths", "500", "--out", str(tmp_path)])
    assert usage.value.code == 2
    error = assert_one_escaped_line(capsys)
    assert "hidden sizes 10000x500 with 9 setups need about" in error
    assert error.endswith("is available (see vgtui --help)")
