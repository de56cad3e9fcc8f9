"""The memory estimate counts what the engine's own constants say is alive at once."""

from __future__ import annotations

from vgtui.core.budget import PARAMETER_COPIES, estimated_bytes, parameter_count
from vgtui.core.config import RunConfig
from vgtui.core.evaluation.interface import MAX_LANES, evaluation_lanes
from vgtui.core.evaluation.shared import RING_ENTRIES
from vgtui.core.trainer import MAX_PENDING_EVALUATIONS


def test_the_estimate_counts_the_lanes_this_machine_evaluates_with():
    config = RunConfig(hidden=(1000, 1000))
    assert estimated_bytes(config) == estimated_bytes(config, lanes=evaluation_lanes())
    # Every further lane (up to MAX_LANES on a larger machine) needs its own work arrays.
    sizes = [estimated_bytes(config, lanes=lanes) for lanes in range(1, MAX_LANES + 1)]
    assert sizes == sorted(set(sizes))
    assert evaluation_lanes(cores=64) == MAX_LANES and evaluation_lanes(cores=1) == 1


def test_parameter_copies_follow_the_ring_and_the_pending_evaluations():
    # The bank's parameters, gradients and update, each snapshot in the ring, each pending one.
    assert PARAMETER_COPIES == 3 + RING_ENTRIES + MAX_PENDING_EVALUATIONS
    small, large = RunConfig(hidden=(10,)), RunConfig(hidden=(20,))
    grown = parameter_count(large) - parameter_count(small)
    extra_training = estimated_bytes(large, lanes=1) - estimated_bytes(small, lanes=1)
    assert extra_training >= 4 * PARAMETER_COPIES * grown  # float32 copies of every parameter


def test_the_estimate_covers_the_optimizers_state_and_batch_norm():
    """What a bank of Adam and batch-norm setups holds beyond a plain one's (the optimizers'
    state and work arrays, gamma and beta, running averages) is in the estimate."""
    import numpy as np

    from vgtui.core.bank import NetworkBank
    from vgtui.core.config import parse_setups

    plain = RunConfig(setups=parse_setups("relu-he,tanh-xavier"), hidden=(100, 100))
    remedies = RunConfig(setups=parse_setups("relu-he@adam:0.001,tanh-xavier+bn@momentum"),
                         hidden=(100, 100))  # fmt: skip
    bank = NetworkBank((784, 100, 100, 10), remedies.setups, np.random.default_rng(0))
    bank.apply_gradients(0.1)
    held = sum(a.nbytes for g in bank._optimizers  # noqa: SLF001
               for a in [*g.optimizer.state, g.optimizer._work, g._params, g._grads])  # fmt: skip
    held += sum(a.nbytes for a in [*bank.norms.running_mean, *bank.norms.running_var,
                                   *bank.params.gammas, *bank.params.betas])  # fmt: skip
    assert held > 2 * 4 * parameter_count(plain)  # Adam's two arrays and more
    assert estimated_bytes(remedies, lanes=1) - estimated_bytes(plain, lanes=1) >= held
    assert estimated_bytes(plain, lanes=1) == estimated_bytes(
        RunConfig(setups=parse_setups("relu-he,tanh-xavier@sgd"), hidden=(100, 100)), lanes=1
    )


def test_the_long_run_estimate_counts_how_busy_the_machine_is():
    """--hidden 30000 was announced as about 33 minutes and ran for about 83 on the shared
    machine (issue 19.13): the estimate is the idle one times how much the processes already
    running slow the run down."""
    from vgtui.core.budget import busy_factor, estimated_seconds, long_run_warning

    config = RunConfig(hidden=(30000,))
    idle = estimated_seconds(config)
    assert long_run_warning(config, busy=1.0) == (
        f"this run will take about {idle / 60:.0f} minutes (an estimate from its size)"
    )
    busy = long_run_warning(config, busy=2.5)
    assert busy is not None and f"{idle * 2.5 / 3600:.1f} hours on this machine as busy" in busy
    assert f"({idle / 60:.0f} minutes idle" in busy
    assert busy_factor(lanes=2, load=0.0) == 1.0  # an idle machine
    assert busy_factor(lanes=2, load=20.0) > busy_factor(lanes=2, load=5.0) > 1.0
