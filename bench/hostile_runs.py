"""Counts, for issue 22: every hostile run folder of tests/hostile_runs.py through the seven
commands on saved runs, and every escape family through them, each a real ``vgtui``
subprocess. Prints the inputs tried, the tracebacks, the hangs (over 20 s), the exit statuses
outside 0/1/2/130 and the outputs that let a control character through.

    PYTHONPATH=. python bench/hostile_runs.py            # this checkout
    PYTHONPATH=OTHER python bench/hostile_runs.py        # another (e.g. before a change)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.hostile_runs import COMMANDS, DAMAGE, ESCAPES, escaped_folder, hostile_folder  # noqa: E402

HANG_SECONDS = 20
RAW_CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")


def run(argv: list[str]) -> tuple[str, int | None, bytes]:
    """``vgtui ARGV`` from the vgtui on PYTHONPATH (run outside this checkout)."""
    try:
        done = subprocess.run([sys.executable, "-m", "vgtui", *argv], capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=HANG_SECONDS,
                              cwd=tempfile.gettempdir())  # fmt: skip
    except subprocess.TimeoutExpired:
        return "hang", None, b""
    output = done.stdout + done.stderr
    if b"Traceback" in done.stderr:
        return "traceback", done.returncode, output
    if done.returncode not in (0, 1, 2, 130):
        return "bad status", done.returncode, output
    return "ok", done.returncode, output


def main() -> None:
    tally: dict[str, int] = {}
    tried = injected = 0
    with tempfile.TemporaryDirectory() as scratch:
        for number, damage in enumerate(DAMAGE):
            root = Path(scratch) / f"d{number}"
            run_folder = hostile_folder(root / "runs", damage)
            for command, argv in COMMANDS.items():
                outcome, status, _ = run(argv(run_folder, root))
                tried += 1
                tally[outcome] = tally.get(outcome, 0) + 1
                if outcome != "ok":
                    print(f"{outcome:>10}  {damage:<32} {command}  (status {status})")
        for number, family in enumerate(ESCAPES):
            root = Path(scratch) / f"e{number}"
            run_folder = escaped_folder(root / "runs", family)
            for command, argv in COMMANDS.items():
                outcome, status, output = run(argv(run_folder, root))
                tried += 1
                tally[outcome] = tally.get(outcome, 0) + 1
                if RAW_CONTROL.search(output):
                    injected += 1
                    print(f"  injected  {family:<32} {command}")
                if outcome != "ok":
                    print(f"{outcome:>10}  escape {family:<25} {command}  (status {status})")
    print(f"inputs tried: {tried} ({len(DAMAGE)} damaged folders and {len(ESCAPES)} escape "
          f"families x {len(COMMANDS)} commands)")  # fmt: skip
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))
    print(f"outputs with a raw control character: {injected}")
    print(f"vgtui from: {os.environ.get('PYTHONPATH', '(installed)')}")


if __name__ == "__main__":
    main()
