"""Property (issue 22, what to build): random damage to a run's records.jsonl, summary.json
and config.json, and random argv for runs, show and export, never give a traceback or a hang,
and the exit status is always 0, 1, 2 or 130. In-process calls with captured streams, bounded
to seconds; a few real subprocesses check the same of the command itself."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hostile_runs import call, write_run

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
STATUSES = {0, 1, 2, 130}
TOKENS = [b"Infinity", b"-Infinity", b"NaN", b"1e999", b"9" * 40, b"[" * 200, b"{", b"}",
          b"\x1b]52;c;eA==\x07", b"\x9b2J", b"\xff\xfe", b"null", b'"x"', b"\n",
          b"[/]"]  # fmt: skip
FILES = ["records.jsonl", "summary.json", "config.json"]
COMMANDS = [
    ["runs", "{root}"],
    ["runs", "{root}", "--json"],
    ["show", "{run}", "--no-ui"],
    ["show", "{run}", "--follow", "--no-ui"],
    ["export", "{run}"],
    ["export", "{run}", "--format", "json", "-o", "{out}", "--force"],
]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return write_run(tmp_path_factory.mktemp("pristine") / "20261129-152238-custom", lines=4)


@st.composite
def damaged(draw, data: bytes) -> bytes:
    """``data`` with bytes overwritten, tokens inserted, spans deleted or the end cut."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["set", "token", "delete", "truncate"]))
        at = draw(st.integers(0, max(len(out) - 1, 0)))
        if action == "set" and out:
            out[at] = draw(st.integers(0, 255))
        elif action == "token":
            out[at:at] = draw(st.sampled_from(TOKENS))
        elif action == "delete":
            del out[at : at + draw(st.integers(1, 16))]
        else:
            del out[at:]
    return bytes(out)


def fresh(pristine: Path, scratch: Path) -> Path:
    shutil.rmtree(scratch, ignore_errors=True)
    run = scratch / "runs" / pristine.name
    shutil.copytree(pristine, run)
    return run


@FUZZ
@given(data=st.data(), name=st.sampled_from(FILES), command=st.sampled_from(COMMANDS))
def test_random_damage_never_a_traceback_or_hang(pristine, tmp_path, capsys, data, name, command):
    run = fresh(pristine, tmp_path / "case")
    (run / name).write_bytes(data.draw(damaged((pristine / name).read_bytes())))
    argv = [a.format(root=run.parent, run=run, out=tmp_path / "case" / "out") for a in command]
    status, out, err = call(argv, capsys)
    assert status in STATUSES, (argv, err)
    assert "Traceback" not in err
    if status == 1:
        assert err.count("vgtui: error") >= 1


WORDS = ["--json", "--no-ui", "--follow", "--format", "csv", "json", "xml", "-o", "--force",
         "--replay", "--speed", "0", "-1", "nan", "--help", "", "\x1b[2J", "--", "-"]  # fmt: skip


@FUZZ
@given(
    command=st.sampled_from(["runs", "show", "export"]),
    words=st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=8)), max_size=6),
)
def test_random_argv_never_a_traceback_or_hang(pristine, tmp_path, capsys, command, words):
    run = fresh(pristine, tmp_path / "case")
    argv = [command, *(str(run) if w == "-" else w for w in words)]
    if "--replay" in argv or "-o" in argv:
        return  # the app needs a terminal; -o writes where the words say
    status, out, err = call(argv, capsys)
    assert status in STATUSES, (argv, err)
    assert "Traceback" not in err


@pytest.mark.parametrize("name", FILES)
def test_the_command_itself_on_a_damaged_file(pristine, tmp_path, name):
    run = fresh(pristine, tmp_path / "case")
    (run / name).write_bytes(b"[" * 100_000 + b"\x1b]52;c;eA==\x07Infinity")
    for argv in (["runs", str(run.parent)], ["show", str(run), "--no-ui"], ["export", str(run)]):
        done = subprocess.run([sys.executable, "-m", "vgtui", *argv], capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=60)  # fmt: skip
        assert done.returncode in STATUSES and b"Traceback" not in done.stderr
        assert b"\x1b" not in done.stdout + done.stderr
