"""What tells runs apart: the settings of a configuration as short words (``lr0.5``, ``seed3``,
``notebook-grad``), for run folder names, run lists, comparison labels and exported columns.

One table, :data:`TRAITS`, in the order of the command line's flags: each says how a setting is
written in a name (no spaces, no ``/``, never a ``-`` before a number: a folder's ``-2`` counts
folders started in the same second) and how it is written as a value (``0.5``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vgtui.core.config import PRESETS, RunConfig

NAME_LIMIT = 60
"""A run folder's description is cut to this many characters (the setups go first)."""


@dataclass(frozen=True)
class Trait:
    """One setting that can tell runs apart."""

    key: str
    """The RunConfig field, and the column it is exported as."""
    label: str
    """How a list names it (``lr``)."""
    value: Callable[[RunConfig], str]
    """The setting as a value (``0.5``)."""
    word: Callable[[RunConfig], str]
    """The setting as a word of a name (``lr0.5``)."""


def _setups_word(config: RunConfig) -> str:
    words = "+".join(name.replace(":", "=") for name in config.setup_names)
    return words if len(words) <= 40 else f"{len(config.setups)}setups"


TRAITS: tuple[Trait, ...] = (
    Trait("iterations", "iters", lambda c: str(c.iterations), lambda c: f"iters{c.iterations}"),
    Trait("batch_size", "batch", lambda c: str(c.batch_size), lambda c: f"batch{c.batch_size}"),
    Trait(
        "learning_rate", "lr", lambda c: f"{c.learning_rate:g}", lambda c: f"lr{c.learning_rate:g}"
    ),
    Trait(
        "hidden",
        "hidden",
        lambda c: ",".join(map(str, c.hidden)),
        lambda c: "hidden" + "x".join(map(str, c.hidden)),
    ),
    Trait("eval_every", "eval", lambda c: str(c.eval_every), lambda c: f"eval{c.eval_every}"),
    Trait("seed", "seed", lambda c: str(c.seed), lambda c: f"seed{c.seed}"),
    Trait("setups", "setups", lambda c: ",".join(c.setup_names), _setups_word),
    Trait(
        "bias_variance",
        "bias var",
        lambda c: f"{c.bias_variance:g}",
        lambda c: f"biasvar{c.bias_variance:g}",
    ),
    Trait("seeds", "seeds", lambda c: str(c.seeds), lambda c: f"seeds{c.seeds}"),
    Trait(
        "same_batches",
        "batches",
        lambda c: "same" if c.same_batches and c.seeds > 1 else "own",
        lambda c: "same-batches" if c.same_batches and c.seeds > 1 else "own-batches",
    ),
    Trait(
        "notebook_grad",
        "gradient",
        lambda c: "notebook" if c.notebook_grad else "exact",
        lambda c: "notebook-grad" if c.notebook_grad else "exact-grad",
    ),
)
"""Every setting that makes a run different (the probe size only measures more or less)."""


def traits(config: RunConfig) -> dict[str, str]:
    """Each trait's value for ``config``, by key."""
    return {trait.key: trait.value(config) for trait in TRAITS}


def differing(configs: Sequence[RunConfig]) -> list[Trait]:
    """The traits whose values are not the same for all ``configs``."""
    values = [traits(config) for config in configs]
    return [t for t in TRAITS if len({v[t.key] for v in values}) > 1]


def _changes(config: RunConfig, base: RunConfig) -> list[Trait]:
    return [t for t in TRAITS if t.value(config) != t.value(base)]


def folder_description(config: RunConfig) -> str:
    """What a run folder is named after: its preset (``notebook``), else the preset it is
    closest to followed by what differs (``notebook-lr0.5``, ``notebook-notebook-grad``); a
    seed other than 0 is named too (``notebook-seed3``)."""
    nearest = min(PRESETS, key=lambda name: len(_changes(config, PRESETS[name].config)))
    base = PRESETS[nearest].config
    changed = [t for t in _changes(config, base) if t.key != "seed"]
    if config.seed != 0:
        changed.append(next(t for t in TRAITS if t.key == "seed"))
    words = [nearest, *(t.word(config) for t in changed)]
    name = "-".join(words)
    return name if len(name) <= NAME_LIMIT else name[:NAME_LIMIT].rstrip("-+")


def labels(configs: Sequence[RunConfig]) -> list[str]:
    """Words that tell ``configs`` apart (``lr0.1``, ``lr0.5``), joined by ``,`` when several
    settings differ; empty strings when nothing does."""
    changed = differing(configs)
    return [",".join(t.word(config) for t in changed) for config in configs]
