"""Issue 19's command-line items, run as real subprocesses: help, run names, permissions, output
that fits 80 columns, and how a run ends."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

VGTUI = [sys.executable, "-m", "vgtui"]
SMALL = ("--iters", "20", "--eval-every", "10", "--hidden", "8", "--probe-size", "20")


def run_cli(*args: str, env: dict | None = None, timeout: float = 120, **kwargs):
    return subprocess.run(
        [*VGTUI, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        **kwargs,
    )


def test_run_files_are_created_as_the_umask_says(tmp_path):
    """Under umask 022 every file of a run folder is 0644 (they were 0600, but records.jsonl):
    a student shares a run folder with the teacher."""
    out = tmp_path / "runs"
    result = subprocess.run(
        ["sh", "-c", 'umask 022 && exec "$@"', "sh", *VGTUI, "--no-ui", *SMALL, "--out", str(out)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    (folder,) = out.iterdir()
    files = sorted(path for path in folder.iterdir() if path.is_file())
    assert {path.name for path in files} >= {"config.json", "metrics.csv", "summary.json"}
    modes = {path.name: oct(stat.S_IMODE(path.stat().st_mode)) for path in files}
    assert set(modes.values()) == {"0o644"}, modes


def test_a_setup_diverged_before_its_first_evaluation_has_no_best(tmp_path):
    """summary.json has null for both best_iteration and best_test_accuracy (it had 0 and
    null): there is no best iteration without a best accuracy."""
    out = tmp_path / "runs"
    args = ("--iters", "30", "--lr", "10", "--setups", "relu-gauss:100,sigmoid-gauss")
    result = run_cli("--no-ui", *args, "--out", str(out))
    assert result.returncode == 0, result.stderr
    (folder,) = out.iterdir()
    setups = {s["setup"]: s for s in json.loads((folder / "summary.json").read_text())["setups"]}
    diverged = setups["relu-gauss:100"]
    assert diverged["status"] == "diverged"
    assert diverged["best_test_accuracy"] is None and diverged["best_iteration"] is None
    learning = setups["sigmoid-gauss"]
    assert learning["best_iteration"] > 0 and learning["best_test_accuracy"] is not None
    listed = run_cli("runs", str(out))  # it was 'damaged run folder: summary.json (...
    assert listed.returncode == 0 and not listed.stderr, listed.stderr  # best_iteration ...)'
    assert "1 diverged" in listed.stdout
    assert len(folder.name) > 60 and folder.name in listed.stdout  # whole: it was cut at 60


def test_a_closed_pipe_ends_the_table_at_what_was_recorded(tmp_path):
    """``vgtui --no-ui --json --iters 50 | head -c 1500``: the header above the table counts
    the iterations recorded (the trainer may be far ahead of the records the pipe dropped)."""
    command = (
        f"{sys.executable} -m vgtui --no-ui --json --iters 50 --out {tmp_path / 'runs'} "
        "| head -c 1500 >/dev/null; exit ${PIPESTATUS[0]}"
    )
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
    assert result.returncode == 141, result.stderr
    header = next(line for line in result.stderr.splitlines() if line.startswith("Run "))
    done = int(header.split(": ", 1)[1].split("/", 1)[0])
    rows = [line.split() for line in result.stderr.splitlines() if "-gauss " in line[:16]]
    rows += [line.split() for line in result.stderr.splitlines() if line.startswith("relu-he ")]
    assert rows and all(row[1] == "ok" for row in rows)
    assert done == max(int(row[2]) for row in rows)


def test_help_lists_every_command_on_a_line_of_its_own_in_80_columns():
    """``vgtui --help`` and ``vgtui help``: one line per command of the registry, whole, and
    no line wider than the terminal; ``vgtui help NAME`` is ``vgtui NAME --help``."""
    from vgtui.cli.main import COMMANDS

    help_text = run_cli("--help", env={"COLUMNS": "80"}).stdout
    assert run_cli("help", env={"COLUMNS": "80"}).stdout == help_text
    lines = help_text.splitlines()
    assert max(map(len, lines)) <= 80
    for name, command in COMMANDS.items():
        assert f"  vgtui {name:<8}{command.brief}" in lines
    assert "leaky-relu" in help_text  # never cut at its hyphen
    show = run_cli("help", "show")
    assert show.returncode == 0 and show.stdout.startswith("usage: vgtui show")


def test_names_that_vgtui_runs_lists_open_in_show_and_export(tmp_path):
    """``vgtui show NAME`` and ``vgtui export NAME`` with the name ``vgtui runs`` prints, from
    the folder that holds runs/ (it took runs/NAME)."""
    assert run_cli("--no-ui", *SMALL, cwd=tmp_path).returncode == 0
    listed = run_cli("runs", "--json", cwd=tmp_path)
    name = json.loads(listed.stdout.splitlines()[0])["run"]
    shown = run_cli("show", "--no-ui", name, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert f"runs/{name}" in shown.stdout
    exported = run_cli("export", name, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.splitlines()[1].startswith(f"{name},")
    missing = run_cli("show", "--no-ui", "no-such-run", cwd=tmp_path)
    assert missing.returncode == 1 and "no-such-run" in missing.stderr


def test_runs_are_named_listed_and_exported_by_what_differs(tmp_path):
    """An --lr 0.5 run and a --notebook-grad run: folders named by what they are (both were
    ``...-custom``), ``vgtui runs`` shows their differing settings in 80 columns, and export
    carries each run's label (never a preset's name alone) and its settings as columns."""
    runs = tmp_path / "runs"
    for flag in (("--lr", "0.5"), ("--notebook-grad",)):
        assert run_cli("--no-ui", *SMALL, *flag, "--out", str(runs)).returncode == 0
    names = sorted(path.name for path in runs.iterdir())
    assert {n.split("-", 2)[2] for n in names} == {
        "notebook-iters20-lr0.5-hidden8",
        "notebook-iters20-hidden8-notebook-grad",
    }
    listed = run_cli("runs", str(runs), env={"COLUMNS": "80"}).stdout
    assert max(map(len, listed.splitlines())) <= 80
    assert "settings:  lr 0.5  gradient exact" in listed
    assert "settings:  lr 0.1  gradient notebook" in listed
    exported = run_cli("export", *(str(runs / name) for name in names)).stdout
    rows = list(csv.DictReader(io.StringIO(exported)))
    by_label = {(row["label"], row["learning_rate"], row["notebook_grad"]) for row in rows}
    assert by_label == {
        ("lr0.5,exact-grad", "0.5", "exact"),
        ("lr0.1,notebook-grad", "0.1", "notebook"),
    }


def test_pace_is_an_option_of_the_command_line_as_of_the_sidebar():
    """--pace reads as the sidebar's field does (full, or iterations per second > 0)."""
    help_text = run_cli("--help", env={"COLUMNS": "100"}).stdout
    assert "--pace RATE" in help_text
    bad = run_cli("--no-ui", "--pace", "fast")
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == [
        "vgtui: error: argument --pace: pace must be iterations per second, or full "
        "(see vgtui --help)"
    ]


def test_show_follow_lines_fit_80_columns_and_break_between_setups(tmp_path):
    """``vgtui show --follow --no-ui`` printed 81-85 character lines: they wrap to the
    terminal's width between setups, never inside a name or a number."""
    out = tmp_path / "runs"
    args = ("--setups", "sigmoid-gauss,relu-gauss,sigmoid-xavier,relu-he,tanh-xavier")
    assert run_cli("--no-ui", *SMALL, *args, "--out", str(out)).returncode == 0
    (folder,) = out.iterdir()
    result = run_cli("show", "--follow", "--no-ui", str(folder), env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # (a path is one word: the pytest folder's is longer than 80 characters)
    assert max(len(line) for line in lines if not line.startswith("Results: /")) <= 80
    progress = "\n".join(line for line in lines if line[:1].isdigit() or line.startswith("   "))
    for name in ("sigmoid-gauss", "relu-gauss", "sigmoid-xavier", "relu-he", "tanh-xavier"):
        assert len(re.findall(rf"{name} \d+\.\d%", progress)) == 2, progress


def test_sweep_progress_lines_wrap_between_words():
    """The sweep's progress lines (stderr) wrapped mid-word at 80 columns."""
    from vgtui.cli.common import fitted

    line = (
        "vgtui: sweep runs/20261130-071500-sweep: 12 of 12 tasks to run (6 cells x 2 "
        "seed(s); a task is one activation, depth and seed with all 9 sigma_w^2)"
    )
    lines = fitted(line, 80).splitlines()
    assert len(lines) == 2 and max(map(len, lines)) <= 80
    assert " ".join(" ".join(lines).split()) == line
    assert "runs/20261130-071500-sweep:" in lines[0]


FIXTURE_RUN = Path(__file__).parents[1] / "fixtures" / "run_folders" / "20261129-152238-format2"


def test_exported_svgs_fit_each_dot_to_its_cell_in_a_font_with_braille(tmp_path):
    """export --svg: the font stack names fonts with braille (DejaVu Sans Mono has none: every
    dot was a box), and each dot is its own element squeezed to its cell (dots ran past the
    chart's frame in a wider fallback font)."""
    result = run_cli("export", str(FIXTURE_RUN), "--svg", str(tmp_path))
    assert result.returncode == 0, result.stderr
    svg = (tmp_path / f"{FIXTURE_RUN.name}-accuracy.svg").read_text(encoding="utf-8")
    assert '"Noto Sans Symbols 2"' in svg and '"DejaVu Sans"' in svg and "monospace" in svg
    dots = re.findall(r"<text[^>]*>[\u2800-\u28ff]</text>", svg)
    assert len(dots) > 20
    widths = {re.search(r'textLength="([\d.]+)"', dot).group(1) for dot in dots}
    assert len(widths) == 1 and all('lengthAdjust="spacingAndGlyphs"' in dot for dot in dots)


def test_make_screenshots_without_rsvg_convert_says_what_to_install():
    script = Path(__file__).parents[2] / "assets" / "make_screenshots.py"
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": "/nonexistent"},
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "librsvg2-bin" in result.stderr, result.stderr
