"""``vgtui sweep --variants plain,bn,res`` (issue 20 item 8): a real tiny sweep on an embedded
LocalCluster draws one grid per lane, the mean-field overlay and the agreement on plain lanes
only; a folder written before variants (no ``variants`` in sweep.json, no ``variant`` in its
lines) still reads as plain and resumes without rerunning its tasks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.sweeptools import TINY
from vgtui.cli.sweep import main as sweep_main
from vgtui.core.sweep.folder import SweepFolder, read_cells
from vgtui.core.sweep.spec import SweepSpec, Task
from vgtui.core.sweep.task import run_task


def test_a_variant_sweep_draws_a_grid_per_lane_and_theory_on_plain_only(tmp_path, capsys):
    out = tmp_path / "runs"
    code = sweep_main([*TINY, "--depths", "2,4", "--variants", "plain,bn,res", "--workers", "2",
                       "--out", str(out)])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    (folder,) = out.glob("*-sweep")
    assert json.loads((folder / "sweep.json").read_text())["sweep"]["variants"] == [
        "plain", "bn", "res"
    ]  # fmt: skip
    lines = read_cells(folder)
    cells = [line for line in lines if line["kind"] == "cell"]
    assert len(cells) == 3 * 2 * 3  # variants x depths x sigma_w^2
    for cell in cells:
        assert ("agrees" in cell) == (cell["variant"] == "plain")
        assert ("predicted_trains" in cell) == (cell["variant"] == "plain")
        assert "trains" in cell and cell["test_accuracy"] is not None
    seeds = {line["worker"] for line in lines if line["kind"] == "seed"}
    assert seeds  # trained by the cluster's workers
    stdout = captured.out
    assert all(len(line) <= 80 for line in stdout.splitlines())
    for lane in ("tanh", "tanh+bn", "tanh+res"):
        assert f"\n{lane}: test accuracy after 30 iterations" in "\n" + stdout
    assert stdout.count("no mean-field prediction drawn") == 2
    assert sum(line.startswith("6xi_c") for line in stdout.splitlines()) == 1  # plain's limits
    assert stdout.count("v critical sigma_w^2") == 1
    assert "Agreement with theory: " in stdout and "/6 cells" in stdout  # plain cells only
    assert "(plain lanes only)" in " ".join(stdout.split())
    assert "tanh+bn depth 4 seed 0" in captured.err


def test_an_unknown_variant_is_one_line_and_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        sweep_main(["--variants", "bn,batchnorm", "--out", str(tmp_path / "runs")])
    assert exit_.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "unknown variant 'batchnorm': the variants are plain, bn, res, bn+res" in line
    assert not (tmp_path / "runs").exists()


def test_the_bn_lane_trains_networks_with_batch_normalization():
    """The worker builds the variant's setups: +bn and +res in the setup names it trains."""
    spec = SweepSpec(weight_variances=(1.0,), depths=(2,), width=8, iterations=10,
                     eval_every=5, variants=("bn", "bn+res"))  # fmt: skip
    for variant in spec.variants:
        (result,) = run_task(spec.to_dict(), Task("tanh", 2, 0, variant))["results"]
        assert result["setup"] == f"tanh-var:1+{variant}"


def old_folder(tmp_path: Path) -> tuple[Path, SweepSpec]:
    """A folder as vgtui wrote it before variants: no variants key, lines without variant."""
    spec = SweepSpec(weight_variances=(1.0, 2.0), depths=(2, 3), width=8, iterations=10,
                     eval_every=5)  # fmt: skip
    folder = SweepFolder.create(tmp_path, spec)
    done = Task("tanh", 3, 0)
    folder.add_task(done, run_task(spec.to_dict(), done), None)
    folder.close()
    document = json.loads((folder.path / "sweep.json").read_text())
    del document["sweep"]["variants"]
    (folder.path / "sweep.json").write_text(json.dumps(document))
    cells = folder.path / "cells.jsonl"
    old = [{k: v for k, v in line.items() if k != "variant"} for line in read_cells(folder.path)]
    cells.write_text("".join(json.dumps(line) + "\n" for line in old))
    return folder.path, spec


def test_a_folder_from_before_variants_reads_as_plain_and_resumes(tmp_path, capsys):
    path, spec = old_folder(tmp_path)
    assert "variant" not in (path / "cells.jsonl").read_text()
    reopened = SweepFolder.open(path)
    assert reopened.spec.variants == ("plain",)
    assert reopened.finished_tasks() == {Task("tanh", 3, 0)}
    assert {key for key in reopened.cells()} == {("tanh", 3, 1.0), ("tanh", 3, 2.0)}
    reopened.close()
    assert sweep_main(["--resume", str(path), "--workers", "1"]) == 0
    captured = capsys.readouterr()
    assert "1 of 2 tasks to run" in " ".join(captured.err.split())
    lines = read_cells(path)
    assert sum(line["kind"] == "seed" and line["depth"] == 3 for line in lines) == 2  # not rerun
    final = SweepFolder.open(path)
    assert set(final.cells()) == {("tanh", d, w) for d in (2, 3) for w in (1.0, 2.0)}
    final.close()
    assert "Agreement with theory: " in captured.out and "/4 cells" in captured.out
    assert "no mean-field prediction" not in captured.out
