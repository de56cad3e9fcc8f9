"""The command line, run as real subprocesses."""

from __future__ import annotations

import csv
import json
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vgtui.cli.main import COMMANDS
from vgtui.core.vocabulary import ACTIVATION_NAMES, INIT_NAMES, init_forms

VGTUI = [sys.executable, "-m", "vgtui"]


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120):
    return subprocess.run(
        [*VGTUI, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )


def only_run_dir(out: Path) -> Path:
    runs = list(out.iterdir())
    assert len(runs) == 1, runs
    return runs[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lr", "0"], "learning rate"),
        (["--lr", "-0.5"], "learning rate"),
        (["--batch-size", "0"], "batch size"),
        (["--batch-size", "70000"], "larger than the training set"),
        (["--hidden", "40,,20"], "hidden sizes"),
        (["--hidden", "forty"], "hidden sizes"),
        (["--setups", "mish-he"], "unknown activation"),
        (["--setups", "relu-bogus"], "unknown init"),
        (["--eval-every", "0"], "eval interval"),
        (["--iters", "-3"], "iterations"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_arguments_fail_in_one_line_before_any_work(tmp_path, args, message):
    result = run_cli("--no-ui", "--out", str(tmp_path / "runs"), *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()


def test_a_config_that_cannot_run_is_one_line_without_the_headless_notice(tmp_path):
    """With no terminal, the batch the training set cannot fill is still the only line: the
    'running headless' notice comes once the run is built."""
    result = run_cli("--batch-size", "70000", "--out", str(tmp_path / "runs"))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "vgtui: error: batch size 70000 is larger than the training set (60000) "
        "(see vgtui --help)"
    ]
    assert not (tmp_path / "runs").exists()


def test_bad_data_fails_in_one_line(tmp_path, write_dataset):
    folder = write_dataset(tmp_path / "set")
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8bbroken")
    result = run_cli("--no-ui", "--data-dir", str(folder), "--out", str(tmp_path / "runs"))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "train-labels-idx1-ubyte.gz" in lines[0], result.stderr
    missing = run_cli("--no-ui", "--data-pkl", str(tmp_path / "nope.pkl"))
    assert missing.returncode == 1 and "nope.pkl: missing file" in missing.stderr


def test_headless_run_writes_a_run_folder(tmp_path):
    out = tmp_path / "runs"
    result = run_cli(
        "--no-ui", "--iters", "20", "--eval-every", "10", "--seed", "3", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    run_dir = only_run_dir(out)
    assert run_dir.name.endswith("-notebook-iters20-seed3")
    config = json.loads((run_dir / "config.json").read_text())
    assert config["config"]["seed"] == 3 and config["config"]["iterations"] == 20
    assert set(config["versions"]) == {"vgtui", "python", "numpy"}
    with (run_dir / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 8
    assert {r["setup"] for r in rows} == {
        "sigmoid-gauss",
        "relu-gauss",
        "sigmoid-xavier",
        "relu-he",
    }
    assert {"grad_norm_1", "grad_norm_2", "grad_norm_3"} <= set(rows[0])
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "done" and summary["iterations_done"] == 20
    final_test = {s["setup"]: s["final_test_accuracy"] for s in summary["setups"]}
    last_rows = {r["setup"]: float(r["test_accuracy"]) for r in rows if r["iteration"] == "20"}
    assert final_test == last_rows
    # Summary table on stdout, progress on stderr, no leftover temporary files.
    assert "1st/last" in result.stdout and "relu-he" in result.stdout
    assert str(run_dir) in result.stdout
    assert "20/20" in result.stderr
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "activations.csv",
        "config.json",
        "layers.csv",
        "metrics.csv",
        "records.jsonl",
        "summary.json",
    ]


def test_runs_never_overwrite(tmp_path):
    out = tmp_path / "runs"
    for _ in range(2):
        assert run_cli("--no-ui", "--iters", "1", "--out", str(out)).returncode == 0
    assert len(list(out.iterdir())) == 2


def test_json_lines_on_stdout(tmp_path):
    result = run_cli(
        "--no-ui",
        "--json",
        "--iters",
        "20",
        "--setups",
        "relu-he,tanh-xavier",
        "--out",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["iteration"], r["setup"]) for r in records] == [
        (10, "relu-he"),
        (10, "tanh-xavier"),
        (20, "relu-he"),
        (20, "tanh-xavier"),
    ]
    assert all(0 <= r["test_accuracy"] <= 1 for r in records)
    assert "1st/last" in result.stderr  # the table moves to stderr


def test_closed_json_reader_stops_quietly(tmp_path):
    process = subprocess.Popen(
        [*VGTUI, "--no-ui", "--json", "--iters", "1000000", "--out", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert process.stdout.readline()
        process.stdout.close()  # like `vgtui --json | head -1`
        stderr = process.stderr.read().decode()
        process.wait(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 141
    assert "Traceback" not in stderr and "Run interrupted" in stderr
    summary = json.loads((only_run_dir(tmp_path) / "summary.json").read_text())
    assert summary["status"] == "interrupted"


def test_unwritable_output_folder_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run_cli("--no-ui", "--iters", "1", "--out", str(blocker / "runs"))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "run folder" in result.stderr


def test_other_mnist_format_folder(tmp_path, write_dataset):
    folder = write_dataset(tmp_path / "set", train=120, test=40, compress=False)
    result = run_cli(
        "--no-ui", "--data-dir", str(folder), "--iters", "10", "--out", str(tmp_path / "runs")
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((only_run_dir(tmp_path / "runs") / "summary.json").read_text())
    assert summary["dataset"] == "set"


def test_ctrl_c_saves_records_and_exits_130(tmp_path):
    out = tmp_path / "runs"
    process = subprocess.Popen(
        [*VGTUI, "--no-ui", "--json", "--iters", "1000000", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        first = process.stdout.readline()
        assert json.loads(first)["iteration"] == 10
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "Run interrupted" in stderr and "Traceback" not in stderr
    summary = json.loads((only_run_dir(out) / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert summary["iterations_done"] >= 10
    saved = len((only_run_dir(out) / "metrics.csv").read_text().splitlines()) - 1
    streamed = 1 + len(stdout.splitlines())
    # Every record streamed is saved; Ctrl-C may land between saving and streaming a batch.
    assert saved % 4 == 0 and streamed <= saved <= streamed + 4


def test_without_terminal_falls_back_to_headless(tmp_path):
    result = run_cli("--iters", "10", "--out", str(tmp_path))
    assert result.returncode == 0
    assert "no terminal" in result.stderr
    assert "1st/last" in result.stdout


def _run_with_tty_stderr(args: list[str], env: dict) -> str:
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [*VGTUI, *args],
        stdout=subprocess.DEVNULL,
        stderr=follower,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    os.close(follower)
    chunks = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            data = os.read(leader, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    process.wait(timeout=30)
    os.close(leader)
    assert process.returncode == 0
    return b"".join(chunks).decode()


def test_live_progress_bar_on_a_terminal_and_no_color(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"TERM": "xterm"}
    args = ["--no-ui", "--iters", "30", "--out", str(tmp_path)]
    colored = _run_with_tty_stderr(args, env)
    assert "\r[" in colored and "30/30" in colored
    assert "\x1b[32m" in colored
    plain = _run_with_tty_stderr(args, env | {"NO_COLOR": "1"})
    assert "\r[" in plain and "\x1b[32m" not in plain


def test_help_and_version():
    help_text = run_cli("--help").stdout
    for option in (
        "--no-ui",
        "--iters",
        "--batch-size",
        "--lr",
        "--hidden",
        "--eval-every",
        "--seed",
        "--setups",
        "--data-dir",
        "--data-pkl",
        "--out",
        "--json",
        "--notebook-grad",
    ):
        assert option in help_text
    assert "trust" in help_text
    assert run_cli("--version").stdout.startswith("vgtui ")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_registered_command_answers_its_help(name):
    """Dispatch and help come from the one registry: ``vgtui NAME --help`` reaches the
    command's own parser, which starts with the registry's line about it."""
    result = run_cli(name, "--help", env=os.environ | {"COLUMNS": "1000"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: vgtui {name}"), result.stdout
    assert COMMANDS[name].about in result.stdout


def test_a_word_that_names_no_command_goes_to_training(tmp_path):
    """Any other first word is the train command's: an unknown one is its usage error, and
    ``vgtui --help`` names every command of the registry."""
    result = run_cli("bogus", "--no-ui", "--out", str(tmp_path / "runs"))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "vgtui: error: unrecognized arguments: bogus (see vgtui --help)"
    ]
    assert not (tmp_path / "runs").exists()
    help_text = run_cli("--help", env=os.environ | {"COLUMNS": "1000"}).stdout
    assert all(f"vgtui {name}" in help_text for name in COMMANDS), help_text


def test_help_names_every_activation_and_init():
    """The lists in ``vgtui --help`` come from the core's tables (the hand-written ones
    missed softsign, silu, var, lecun, uniform, glorot and orthogonal)."""
    help_text = " ".join(run_cli("--help", env=os.environ | {"COLUMNS": "1000"}).stdout.split())
    epilog = help_text[help_text.index("Setups are") :]
    activations = epilog[epilog.index("Activations: ") :].split(".")[0]
    inits = epilog[epilog.index("Inits: ") :]
    assert all(f" {name}," in activations + "," for name in ACTIVATION_NAMES), activations
    assert all(f" {form}" in inits for form in init_forms()), inits
    assert [form.split(":")[0].strip("[") for form in init_forms()] == list(INIT_NAMES)


def test_the_summary_table_names_a_stalled_setup_as_the_strip_does(tmp_path):
    """The table's status column and summary.json's "state" say "stalled" for a setup still
    at chance after five evaluations, as the app's strip does; a learning one is "ok"."""
    result = run_cli(
        "--no-ui", "--iters", "60", "--setups", "sigmoid-gauss,relu-he", "--out", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    names = ("sigmoid-gauss", "relu-he")
    rows = {w[0]: w[1] for w in map(str.split, result.stdout.splitlines()) if w and w[0] in names}
    assert rows["sigmoid-gauss"] == "stalled" and rows["relu-he"] == "ok", result.stdout
    summary = json.loads((only_run_dir(tmp_path) / "summary.json").read_text())
    states = {s["setup"]: (s["status"], s["state"]) for s in summary["setups"]}
    assert states == {"sigmoid-gauss": ("ok", "stalled"), "relu-he": ("ok", "ok")}


def test_layers_csv_carries_the_batch_norm_statistics_of_the_records(tmp_path):
    """Issue 20 item 7: a +bn layer's gamma, beta, running mean and running std in layers.csv,
    the numbers records.jsonl holds; empty for the output layer and the setup without +bn."""
    out = tmp_path / "runs"
    setups = "sigmoid-gauss,sigmoid-gauss+bn+res"
    result = run_cli("--no-ui", "--iters", "20", "--eval-every", "10", "--hidden", "30,20,20",
                     "--setups", setups, "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    run_dir = only_run_dir(out)
    lines = (run_dir / "records.jsonl").read_text().splitlines()
    records = {(r["iteration"], r["setup"]): r for r in map(json.loads, lines)}
    with (run_dir / "layers.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    fields = ("gamma", "beta", "running_mean", "running_std")
    assert list(rows[0])[-4:] == list(fields)
    assert len(rows) == len(records) * 4
    checked = 0
    for row in rows:
        layer = records[int(row["iteration"]), row["setup"]]["layers"][int(row["layer"]) - 1]
        assert float(row["delta_std"]) == layer["delta_std"]
        if row["setup"] == "sigmoid-gauss+bn+res" and row["layer"] != "4":
            assert all(float(row[key]) == layer[key] for key in fields)  # every digit
            checked += 1
        else:
            assert all(row[key] == "" for key in fields) and "gamma" not in layer
    assert checked == 2 * 3  # two evaluation points, three hidden layers
    assert {float(r["gamma"]) for r in rows if r["gamma"]} != {1.0}  # it learned: not the init
