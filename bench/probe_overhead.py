"""What recording the probe's activation statistics costs the full default run.

    python bench/probe_overhead.py --pairs 12          # table
    python bench/probe_overhead.py --pairs 12 --json

PAIRS full default headless runs without (probe size 0) and with the default probe, interleaved
(so a slower moment of a shared machine hits both), each in a fresh process run by
bench/speed.py's vgtui worker; best and median of each, and their ratios. (Until 30 Nov 2026
this was ``bench/speed.py --probe-overhead PAIRS``.)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from speed import run_worker  # noqa: E402

from vgtui.core.config import RunConfig  # noqa: E402


def probe_overhead(pairs: int, quiet_wait: float, as_json: bool) -> int:
    """Run the pairs and print their times and the overhead."""
    times: dict[str, list[float]] = {"without": [], "with": []}
    for _ in range(pairs):
        for name, size in (("without", 0), ("with", RunConfig.probe_size)):
            result = run_worker(
                "vgtui", "--repeats", "1", "--probe-size", str(size), quiet_wait=quiet_wait
            )
            if "error" in result:
                print(f"vgtui failed: {result['error']}", file=sys.stderr)
                return 1
            times[name] += result["seconds"]
    best = {name: min(values) for name, values in times.items()}
    median = {name: statistics.median(values) for name, values in times.items()}
    report = {
        "seconds": times,
        "best": best,
        "median": median,
        "overhead_best": best["with"] / best["without"] - 1,
        "overhead_median": median["with"] / median["without"] - 1,
        # each pair ran back to back: the median of their ratios shrugs off a slow moment
        "overhead_paired": statistics.median(
            w / o for w, o in zip(times["with"], times["without"], strict=True)
        )
        - 1,
    }
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        print(f"probe of {RunConfig.probe_size} images, {pairs} interleaved pairs of full runs")
        for name in times:
            print(f"  {name:8} best {best[name]:.3f} s  median {median[name]:.3f} s")
        print(
            f"  overhead: {100 * report['overhead_best']:+.1f}% (best), "
            f"{100 * report['overhead_median']:+.1f}% (median), "
            f"{100 * report['overhead_paired']:+.1f}% (median of the pairs); target at most +5%"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=12, help="pairs of full runs (12)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=30.0,
        help="before each run wait up to this many seconds for other processes to go quiet "
        "(0: do not wait)",
    )
    args = parser.parse_args(argv)
    return probe_overhead(args.pairs, args.quiet_wait, args.json)


if __name__ == "__main__":
    sys.exit(main())
