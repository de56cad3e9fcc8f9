"""``vgtui probe``: the activation-histogram experiment of Deep Learning from Scratch, ch. 6:
inputs through a deep net at initialisation, each layer's activations as numbers and a
histogram (drawn in the app when there is a terminal)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict

import numpy as np

from vgtui.cli.common import (
    EXIT_DATA_ERROR,
    EXIT_OK,
    argument_type,
    bounded_int,
    command_parser,
    guard_output,
    say,
    write_stdout,
)
from vgtui.core.config import RUN_OPTIONS, parse_setups
from vgtui.core.data import DataError, load_dataset
from vgtui.core.histogram import bars
from vgtui.core.probe import LayerActivations, probe, probe_inputs
from vgtui.core.store.run_folder import json_safe

(SETUPS_OPTION,) = (option for option in RUN_OPTIONS if option.key == "setups")
PROBE_SETUPS = "sigmoid-gauss:1,sigmoid-gauss,sigmoid-xavier,relu-xavier,relu-he"


@guard_output
def main(argv: Sequence[str]) -> int:
    parser = command_parser(
        "probe",
        "Inputs through LAYERS layers of WIDTH units at initialisation, no training; each "
        "layer's activation mean, std, saturated or zero fraction and histogram.",
    )
    add = parser.add_argument
    add("--setups", type=argument_type(SETUPS_OPTION), default=parse_setups(PROBE_SETUPS),
        metavar="LIST",
        help=f"setups, ACTIVATION-INIT[+bn][+res] (default {PROBE_SETUPS})")  # fmt: skip
    add("--layers", type=argument_type(bounded_int("layers", 1, 1000)), default=5, metavar="N",
        help="hidden layers (default 5)")  # fmt: skip
    add("--width", type=argument_type(bounded_int("width", 1, 10_000)), default=100, metavar="N",
        help="units per layer (default 100)")  # fmt: skip
    add("--inputs", choices=("randn", "mnist"), default="randn",
        help="standard-normal inputs, as in the book, or MNIST test images")  # fmt: skip
    add("--count", type=argument_type(bounded_int("count", 1, 10_000)), default=1000, metavar="N",
        help="inputs (default 1000)")  # fmt: skip
    add("--seed", type=argument_type(bounded_int("seed", 0, 2**63 - 1)), default=0, metavar="N",
        help="random seed (default 0)")  # fmt: skip
    add("--json", action="store_true", help="one JSON object per setup and layer")
    add("--no-ui", action="store_true",
        help="print numbers in a terminal too (default there: draw the histograms)")  # fmt: skip
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    data = None
    if args.inputs == "mnist":
        try:
            data = load_dataset()
        except DataError as error:
            say(f"vgtui: error: {error}")
            return EXIT_DATA_ERROR
    inputs = probe_inputs(args.inputs, args.count, args.width, rng, data)
    with np.errstate(over="ignore", invalid="ignore"):
        results = probe(inputs, args.setups, args.layers, args.width, args.seed)
    if args.json:
        write_stdout("".join(
            json.dumps(json_safe({"setup": r.setup, **asdict(layer)})) + "\n"
            for r in results for layer in r.layers
        ))  # fmt: skip
        return EXIT_OK
    lines = [
        f"{args.count} {args.inputs} inputs through {args.layers} x {args.width} units, "
        "at initialisation"
    ]
    streams = (sys.stdin, sys.stdout)
    if not args.no_ui and all(s is not None and s.isatty() for s in streams):
        from vgtui.ui.probe_view import ProbeApp  # the UI only when there is a terminal

        ProbeApp(results, lines[0]).run()
        return EXIT_OK
    for result in results:
        lines.append(f"{result.setup}")
        for layer in result.layers:
            lines.append("  " + probe_line(layer))
    write_stdout("\n".join(lines) + "\n")
    return EXIT_OK


def probe_line(layer: LayerActivations) -> str:
    """``L1  mean 0.50  std 0.46  saturated 64%  |histogram|  0..1``, in 80 columns: the bars
    and the range of the Activations tab (vgtui.core.histogram)."""
    if layer.saturated == layer.saturated:  # bounded activation
        share = f"saturated {100 * layer.saturated:3.0f}%"
    else:
        share = f"zero {100 * layer.zero:3.0f}%"  # (room for the log scale's range)
    scale = layer.histogram_scale
    (histogram,) = bars(layer.counts, 1, 1, scale.top(layer.counts))
    return (
        f"L{layer.layer:<3} mean {layer.mean:6.3f}  std {layer.std:6.3f}  {share}  "
        f"|{histogram}| {scale.text}"
    )
