"""The sweep folder's one writer and one reader: sweep.json whole from the start, whole lines
of cells.jsonl only, a partial last line cut by a resuming writer, and the grid model's theory
taken from vgtui.core.theory (no copy)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vgtui.core.config import ConfigError
from vgtui.core.sweep.folder import (
    CELLS_FILE,
    LOCK_FILE,
    SWEEP_FILE,
    SweepFolder,
    SweepReader,
    newest_sweep,
    read_cells,
)
from vgtui.core.sweep.grid import theory
from vgtui.core.sweep.spec import SweepSpec, Task
from vgtui.core.theory import MeanField, mean_field

SPEC = SweepSpec(weight_variances=(1.0, 2.0), depths=(2, 4), seeds=2, width=8, iterations=10)


def result(task: Task, accuracy: float) -> dict:
    """A finished task's results as run_task returns them (the fields the folder reads)."""
    rows = [
        {
            "weight_variance": w,
            "setup": f"{task.activation}-var:{w:g}",
            "setup_status": "ok",
            "train_accuracy": accuracy,
            "test_accuracy": accuracy + 0.01 * task.seed,
            "diagnosis": [],
        }
        for w in SPEC.weight_variances
    ]
    return {"results": rows, "seconds": 1.0, "host": "here", "pid": 1}


def test_a_new_folder_has_its_whole_sweep_json_and_nothing_else(tmp_path):
    folder = SweepFolder.create(tmp_path, SPEC)
    folder.close()
    assert sorted(p.name for p in folder.path.iterdir()) == [LOCK_FILE, CELLS_FILE, SWEEP_FILE]
    assert newest_sweep(tmp_path) == folder.path
    assert SweepReader(folder.path).read_spec() == SPEC
    assert json.loads((folder.path / SWEEP_FILE).read_text())["sweep"] == SPEC.to_dict()


def test_the_reader_takes_only_whole_appended_lines(tmp_path):
    folder = SweepFolder.create(tmp_path, SPEC)
    reader = SweepReader(folder.path)
    assert reader.read() == ([], False)
    folder.add_task(Task("tanh", 4, 0), result(Task("tanh", 4, 0), 0.5), None)
    lines, reset = reader.read()
    assert [line["kind"] for line in lines] == ["seed", "seed"] and not reset
    folder.add_task(Task("tanh", 4, 1), result(Task("tanh", 4, 1), 0.5), None)
    folder.close()
    lines, _ = reader.read()  # the second seed's lines, then the cell lines
    assert [line["kind"] for line in lines] == ["seed", "seed", "cell", "cell"]
    with open(folder.path / CELLS_FILE, "a") as cells:
        cells.write('{"kind": "seed", "activ')  # a writer caught mid-line
    assert reader.read() == ([], False)
    assert len(read_cells(folder.path)) == 6


def test_a_resumed_folder_cuts_a_partial_last_line_and_keeps_the_rest(tmp_path):
    folder = SweepFolder.create(tmp_path, SPEC)
    for seed in (0, 1):
        folder.add_task(Task("tanh", 2, seed), result(Task("tanh", 2, seed), 0.9), None)
    folder.close()
    whole = (folder.path / CELLS_FILE).read_bytes()
    with open(folder.path / CELLS_FILE, "ab") as cells:
        cells.write(b'{"kind": "seed", "depth": 4')
    resumed = SweepFolder.open(folder.path)
    assert (folder.path / CELLS_FILE).read_bytes() == whole + b'{"kind": "seed", "depth": 4'
    resumed.complete_cells()  # nothing to add: cut when the first line is written
    resumed.add_task(Task("tanh", 4, 0), result(Task("tanh", 4, 0), 0.5), None)
    assert (folder.path / CELLS_FILE).read_bytes().startswith(whole + b'{"kind": "seed", "act')
    assert resumed.finished_tasks() >= {Task("tanh", 2, 0), Task("tanh", 2, 1)}
    cell = resumed.cells()[("tanh", 2, 2.0)]
    assert cell["per_seed_test_accuracy"] == [0.9, 0.91]
    assert cell["seeds_done"] == 2 and cell["agrees"] is True


def test_a_folder_without_sweep_json_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="not a sweep folder"):
        SweepFolder.open(tmp_path)
    (tmp_path / SWEEP_FILE).write_text("{")
    with pytest.raises(ConfigError, match="damaged sweep folder"):
        SweepFolder.open(tmp_path)


def test_the_cells_theory_is_core_theorys_mean_field():
    model = theory("tanh", 1.5, 0.05)
    assert isinstance(model, MeanField)
    assert model == mean_field("tanh", 1.5, 0.05)


def test_read_cells_of_a_missing_file_is_empty(tmp_path):
    assert read_cells(Path(tmp_path)) == []


def test_the_reader_reads_a_replaced_cells_file_from_its_start(tmp_path):
    folder = SweepFolder.create(tmp_path, SPEC)
    folder.add_task(Task("tanh", 4, 0), result(Task("tanh", 4, 0), 0.5), None)
    folder.close()
    reader = SweepReader(folder.path)
    first, _ = reader.read()
    cells = folder.path / CELLS_FILE
    replacement = tmp_path / "replacement"
    replacement.write_bytes(cells.read_bytes() * 2)  # longer: only its inode tells
    replacement.replace(cells)
    lines, reset = reader.read()
    assert reset and lines == first * 2
