"""The sweep folder's writer under write errors (issue 23, items 4 and 5): a folder deleted
mid-sweep, a file size limit (as a full disk) mid-sweep and at creation. Every failure is an
error naming the file, cells.jsonl still ends with whole lines, and a resume finishes it."""

from __future__ import annotations

import contextlib
import resource
import shutil

import pytest

from vgtui.core.store.run_folder import RunWriteError
from vgtui.core.sweep.folder import CELLS_FILE, SweepFolder, read_all_lines
from vgtui.core.sweep.spec import SweepSpec, Task

SPEC = SweepSpec(weight_variances=(1.0, 2.0), depths=(2, 4), seeds=1, width=8, iterations=10)


def result(task: Task) -> dict:
    rows = [
        {"weight_variance": w, "setup": f"tanh-var:{w:g}", "setup_status": "learned",
         "train_accuracy": 0.9, "test_accuracy": 0.9, "diagnosis": ["healthy"]}
        for w in SPEC.weight_variances
    ]  # fmt: skip
    return {"results": rows, "seconds": 1.0, "host": "here", "pid": 1}


@contextlib.contextmanager
def file_size_limit(size: int):
    """``ulimit -f``: no file of this process grows past ``size`` bytes (Python ignores
    SIGXFSZ, so a write past it fails with EFBIG, as on a full disk)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def test_a_folder_deleted_mid_sweep_stops_the_writer(tmp_path):
    """Lines appended to an unlinked file are lost: the next write says so."""
    folder = SweepFolder.create(tmp_path, SPEC)
    folder.add_task(Task("tanh", 4, 0), result(Task("tanh", 4, 0)), None)
    shutil.rmtree(folder.path)
    with pytest.raises(RunWriteError, match="cells.jsonl: the sweep folder was deleted"):
        folder.add_task(Task("tanh", 2, 0), result(Task("tanh", 2, 0)), None)
    folder.close()


def test_a_folder_moved_mid_sweep_stops_the_writer(tmp_path):
    folder = SweepFolder.create(tmp_path, SPEC)
    folder.add_task(Task("tanh", 4, 0), result(Task("tanh", 4, 0)), None)
    folder.path.rename(tmp_path / "elsewhere")
    with pytest.raises(RunWriteError, match="deleted or moved"):
        folder.add_task(Task("tanh", 2, 0), result(Task("tanh", 2, 0)), None)
    folder.close()


def test_a_write_that_does_not_fit_leaves_whole_lines_and_a_resume_finishes(tmp_path):
    folder = SweepFolder.create(tmp_path, SPEC)
    folder.add_task(Task("tanh", 4, 0), result(Task("tanh", 4, 0)), None)
    size = (folder.path / CELLS_FILE).stat().st_size
    with file_size_limit(size + 100), pytest.raises(RunWriteError, match="too large"):
        folder.add_task(Task("tanh", 2, 0), result(Task("tanh", 2, 0)), None)
    folder.close()
    data = (folder.path / CELLS_FILE).read_bytes()
    assert len(data) == size and data.endswith(b"\n")  # the part that fit is taken back
    resumed = SweepFolder.open(folder.path)
    assert resumed.finished_tasks() == {Task("tanh", 4, 0)}
    resumed.add_task(Task("tanh", 2, 0), result(Task("tanh", 2, 0)), None)
    resumed.close()
    lines, end = read_all_lines(folder.path)
    assert end == (folder.path / CELLS_FILE).stat().st_size
    assert len(lines) == 2 * (2 + 2)  # per task: 2 seed lines, 2 cell lines


def test_a_folder_that_cannot_be_created_whole_leaves_nothing(tmp_path):
    """A full disk at creation: no folder with an empty sweep.json is left behind."""
    out = tmp_path / "runs"
    out.mkdir()
    with file_size_limit(64), pytest.raises(OSError):
        SweepFolder.create(out, SPEC)
    assert list(out.iterdir()) == []
