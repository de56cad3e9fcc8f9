"""Time and peak memory of reading many or large saved runs (issue 23 items 9-11), each a real
``vgtui`` subprocess:

- ``vgtui runs DIR`` over N synthetic run folders (finished default-configuration runs of
  --lines records each, written here);
- ``vgtui show RUN --no-ui`` of a run whose dataset name is 3 MB (textwrap was quadratic);
- ``vgtui show RUN --no-ui`` of a format-1 run whose metrics.csv has --csv-rows short rows.

    PYTHONPATH=. python bench/runs_listing.py --runs 500 5000
    PYTHONPATH=OTHER python bench/runs_listing.py ...    # another checkout, for a before figure
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vgtui.core.config import RunConfig

GIVE_UP_SECONDS = 600
MEMORY_CAP_BYTES = 4 * 2**30
"""Address space a measured command may take (beyond it, a MemoryError): the machine is shared."""


def cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP_BYTES, MEMORY_CAP_BYTES))


def vgtui(*argv: str) -> tuple[float, float, int | None]:
    """Seconds, peak memory (MB) and exit status of ``vgtui ARGV`` (None: it gave up)."""
    start = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "vgtui", *argv], cwd=tempfile.gettempdir(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               stdin=subprocess.DEVNULL, preexec_fn=cap_memory)  # fmt: skip
    deadline = start + GIVE_UP_SECONDS
    while (done := os.wait4(process.pid, os.WNOHANG))[0] == 0:
        if time.monotonic() > deadline:
            process.kill()
            done = os.wait4(process.pid, 0)
            return time.monotonic() - start, done[2].ru_maxrss / 1024, None
        time.sleep(0.01)
    process.returncode = 0  # reaped here
    return time.monotonic() - start, done[2].ru_maxrss / 1024, os.waitstatus_to_exitcode(done[1])


def record(iteration: int, setup: str, layers: int) -> str:
    row = {"iteration": iteration, "setup": setup, "train_accuracy": 0.5, "test_accuracy": 0.4,
           "train_loss": 1.5, "seconds": 0.01 * iteration, "status": "ok",
           **{f"grad_norm_{k}": 0.1 * k for k in range(1, layers + 1)}}  # fmt: skip
    return json.dumps(row) + "\n"


def write_runs(root: Path, count: int, lines: int) -> None:
    """``count`` finished runs of the default configuration, ``lines`` records each."""
    config = RunConfig()
    head = json.dumps({"format": 2, "config": config.to_dict(), "dataset": "mnist",
                       "started": "2026-11-29T15:22:38",
                       "writer": {"pid": 999_999, "host": socket.gethostname()}})  # fmt: skip
    names, layers = config.setup_names, len(config.hidden) + 1
    records = "".join(
        record(config.eval_every * (1 + n // len(names)), names[n % len(names)], layers)
        for n in range(lines)
    )
    setups = [{"setup": name, "status": "ok", "iterations": 2000, "final_test_accuracy": 0.9,
               "best_test_accuracy": 0.9, "best_iteration": 2000, "final_train_accuracy": 0.9,
               "final_train_loss": 0.3, "seconds": 10.0, "grad_ratio": 0.5,
               "evaluations": 201} for name in names]  # fmt: skip
    summary = json.dumps({"status": "done", "iterations_done": 2000, "wall_seconds": 10.0,
                          "setups": setups})  # fmt: skip
    for number in range(count):
        folder = root / f"20261129-{number // 60 % 24:02d}{number % 60:02d}00-custom-{number + 2}"
        folder.mkdir(parents=True)
        (folder / "config.json").write_text(head)
        (folder / "records.jsonl").write_text(records)
        (folder / "summary.json").write_text(summary)


def long_name_run(root: Path, characters: int) -> Path:
    write_runs(root, 1, 8)
    folder = next(root.iterdir())
    document = json.loads((folder / "config.json").read_text())
    document["dataset"] = "x" * characters
    (folder / "config.json").write_text(json.dumps(document))
    return folder


def csv_run(root: Path, rows: int) -> Path:
    """A format-1 run (no records.jsonl) whose metrics.csv has ``rows`` short rows."""
    write_runs(root, 1, 8)
    folder = next(root.iterdir())
    (folder / "records.jsonl").unlink()
    with (folder / "metrics.csv").open("w") as handle:
        handle.write("iteration,setup\n")
        block = "1,a\n" * 100_000
        for _ in range(rows // 100_000):
            handle.write(block)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, nargs="*", default=[500, 5000])
    parser.add_argument("--lines", type=int, default=804, help="records per run (default 804)")
    parser.add_argument("--name", type=int, default=3_000_000, help="long name's characters")
    parser.add_argument("--csv-rows", type=int, default=25_000_000)
    args = parser.parse_args()
    print(f"vgtui from {os.environ.get('PYTHONPATH', '(installed)')}")
    with tempfile.TemporaryDirectory() as scratch:
        for count in args.runs:
            root = Path(scratch) / f"runs{count}"
            write_runs(root, count, args.lines)
            seconds, memory, status = vgtui("runs", str(root))
            print(f"vgtui runs: {count} runs of {args.lines} records: {seconds:.1f} s, "
                  f"peak {memory:.0f} MB, exit {status}")  # fmt: skip
        folder = long_name_run(Path(scratch) / "long", args.name)
        seconds, memory, status = vgtui("show", str(folder), "--no-ui")
        print(f"vgtui show, a {args.name}-character dataset name: {seconds:.1f} s, "
              f"peak {memory:.0f} MB, exit {status}")  # fmt: skip
        folder = csv_run(Path(scratch) / "csv", args.csv_rows)
        seconds, memory, status = vgtui("show", str(folder), "--no-ui")
        print(f"vgtui show, format-1 metrics.csv of {args.csv_rows} rows: {seconds:.1f} s, "
              f"peak {memory:.0f} MB, exit {status}")  # fmt: skip


if __name__ == "__main__":
    main()
