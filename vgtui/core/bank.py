"""A bank of MLPs trained in lockstep: one network per setup, all the same shape.

Layout, chosen for speed (the setups see the same inputs):

* internally the setups are ordered by activation ("slots"), so each activation runs once per
  layer over a contiguous block of setups instead of once per setup;
* the first layer of every setup is one matrix ``first_weights`` of shape
  (inputs, setups * hidden[0]), so the input batch is multiplied once for all setups. Its bias
  is stored as one extra row below it (``first_layer``, shape (inputs + 1, setups * hidden[0]))
  and inputs carry a trailing column of ones, so the bias add and the bias gradient come out
  of the same matrix product;
* deeper layers are stacked per slot, ``weights[l]`` of shape (setups, n_in, n_out), and run
  as one batched ``matmul``;
* all parameters live in one flat array and all gradients in another, so the SGD update is two
  vector operations;
* inputs may leave out pixel columns that are zero in every row (``forward_active``,
  ``backward_active``, and the inference blocks): exact, those products are zero;
* inference-only snapshots (``evaluation_snapshot``) run sigmoid layers as a bare tanh with
  the affine parts folded into the weights; :mod:`vgtui.core.inference` folds and runs them.

Forward: u = a @ W + b, a' = f(u) on hidden layers, softmax on the last layer.
Backward (softmax + cross-entropy): d_logits = (p - onehot) / batch;
dW = a.T @ d, db = sum(d), d_prev = (d @ W.T) * f'(u_prev).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from vgtui.core.activations import NOTEBOOK_QUIRK_ACTIVATIONS, get_activation
from vgtui.core.bank_layout import Parameters, TrainingBuffers, runs, slots, stacked
from vgtui.core.bank_norm import BatchNorms
from vgtui.core.bank_stats import TINY_SQUARES, layer_statistics
from vgtui.core.config import SetupSpec
from vgtui.core.inference import InferenceParameters, inference_snapshot, residual_layers
from vgtui.core.init import initial_parameters
from vgtui.core.optimizers import OptimizerGroup


class NetworkBank:
    """The parameters, forward and backward pass of one MLP per setup."""

    def __init__(
        self,
        layer_sizes: Sequence[int],
        setups: Sequence[SetupSpec],
        rng: np.random.Generator,
        dtype: type = np.float32,
        notebook_grad: bool = False,
        bias_variance: float = 0.0,
        replicas: Sequence[int] | None = None,
        replica_seed: int = 0,
    ) -> None:
        """The initial parameters come from ``rng``, ``bias_variance``, ``replicas`` and
        ``replica_seed`` (:func:`~vgtui.core.init.initial_parameters`)."""
        if len(layer_sizes) < 3:
            raise ValueError("need an input layer, at least one hidden layer and an output layer")
        self.layer_sizes = tuple(int(n) for n in layer_sizes)
        self.setups = tuple(setups)
        self.dtype = np.dtype(dtype)
        self.notebook_grad = notebook_grad
        self.width = width = self.layer_sizes[1]
        activations = [get_activation(s.activation) for s in self.setups]
        self.slot_order, self.groups = slots(activations, width, self.setups)
        slot_setups = [self.setups[s] for s in self.slot_order]
        self.plain = all(spec.plain for spec in self.setups)
        """No setup has a remedy: the original pass and update, bit for bit."""
        self.bn_runs = runs([spec.batch_norm for spec in slot_setups])
        self.res_runs = [
            (group.activation, run)
            for group in self.groups
            for run in runs([spec.residual for spec in slot_setups], group.slots)
        ]
        self.shortcut = [*residual_layers(self.layer_sizes), False]
        """Per weight layer: whether it is a hidden layer whose input and output widths match
        (its +res setups add their input to its output); never the first, whose input is the
        image."""
        self.slot_residual = tuple(spec.residual for spec in slot_setups)
        self.slot_of = np.argsort(self.slot_order)
        self._forwards = tuple(g.activation.forward for g in self.groups)
        self.slot_activations = tuple(activations[s].name for s in self.slot_order)

        count, n_in = len(self.setups), self.layer_sizes[0]
        self._shapes: list[tuple[int, ...]] = [(n_in + 1, count * width)]
        for fan_in, fan_out in zip(self.layer_sizes[1:], self.layer_sizes[2:], strict=False):
            self._shapes += [(count, fan_in, fan_out), (count, fan_out)]
        if self.bn_runs:
            self._shapes += [(count, n) for n in self.layer_sizes[1:-1] for _ in "gb"]
        size = sum(math.prod(shape) for shape in self._shapes)
        self.params = self._views(np.zeros(size, dtype=self.dtype))
        grads = self._views(np.zeros(size, dtype=self.dtype))
        self._params, self._grads = self.params.flat, grads.flat
        self._update = np.empty_like(self._params)
        ends = np.cumsum([math.prod(shape) for shape in self._shapes])
        self._layer_spans = [slice(0, int(ends[0]))] + [
            slice(int(ends[2 * layer - 2]), int(ends[2 * layer]))
            for layer in range(1, self.num_layers)
        ]
        """Per weight layer: its weights and biases in the flat arrays."""
        self.first_layer = self.params.first_layer
        self.first_weights = self.first_layer[:n_in]
        self.first_bias = self.first_layer[n_in]
        self.first_layer_grad = grads.first_layer
        self.first_weights_grad = self.first_layer_grad[:n_in]
        self.first_bias_grad = self.first_layer_grad[n_in]
        self.weights, self.biases = self.params.weights, self.params.biases
        self.weights_grad, self.biases_grad = grads.weights, grads.biases
        self.gammas_grad, self.betas_grad = grads.gammas, grads.betas
        self._grad_views = grads
        self.norms = BatchNorms(self.bn_runs, self.params, grads, width, self.dtype)
        self._optimizers: list[OptimizerGroup] | None = None
        # the parameters before the last update (with a remedy: layer_statistics' ratio)
        self._before = self._params[:0] if self.plain else self._params.copy()
        self._weights_t = [w.transpose(0, 2, 1) for w in self.weights]

        initial = initial_parameters(
            self.layer_sizes, self.setups, rng, bias_variance, replicas, replica_seed
        )
        with np.errstate(over="ignore"):  # infinite weights: the setup diverges, shown as such
            for setup, layer, weights, biases in initial:
                self.weight(setup, layer)[...] = weights
                if biases is not None:
                    self.bias(setup, layer)[...] = biases
        self.frozen = np.zeros(count, dtype=bool)  # indexed by slot
        self._buffers: dict[int, TrainingBuffers] = {}

    def _views(self, flat: np.ndarray) -> Parameters:
        """The parameter layout over a flat array."""
        views, offset = [], 0
        for shape in self._shapes:
            size = math.prod(shape)
            views.append(flat[offset : offset + size].reshape(shape))
            offset += size
        unused = np.empty((0, 0, 0), dtype=flat.dtype)
        dense, norms = views[: 2 * self.num_layers - 1], views[2 * self.num_layers - 1 :]
        return Parameters(
            flat,
            dense[0],
            [unused, *dense[1::2]],
            [unused, *dense[2::2]],
            norms[0::2],
            norms[1::2],
        )

    def evaluation_snapshot(self) -> InferenceParameters:
        """A copy of the current parameters for inference only: batch normalization with its
        running averages folded into the weights before it, sigmoid into tanh."""
        params = self.params
        first_layer, weights, biases = params.first_layer, params.weights, params.biases
        if self.bn_runs:
            first_layer, weights, biases = self.norms.folded()
        return inference_snapshot(
            self.layer_sizes,
            self.slot_activations,
            first_layer,
            weights,
            biases,
            self.slot_residual,
        )

    # -- shape helpers -------------------------------------------------------------------------

    @property
    def num_layers(self) -> int:
        """Number of weight layers (hidden layers + output layer)."""
        return len(self.layer_sizes) - 1

    @property
    def num_setups(self) -> int:
        return len(self.setups)

    def _cols(self, setup: int) -> slice:
        slot = int(self.slot_of[setup])
        return slice(slot * self.width, (slot + 1) * self.width)

    def weight(self, setup: int, layer: int) -> np.ndarray:
        """Writable view of one setup's weight matrix; ``layer`` 0 is the input layer."""
        if layer == 0:
            return self.first_weights[:, self._cols(setup)]
        return self.weights[layer][self.slot_of[setup]]

    def bias(self, setup: int, layer: int) -> np.ndarray:
        if layer == 0:
            return self.first_bias[self._cols(setup)]
        return self.biases[layer][self.slot_of[setup]]

    def weight_grad(self, setup: int, layer: int) -> np.ndarray:
        """The last computed gradient of one setup's weight matrix."""
        if layer == 0:
            return self.first_weights_grad[:, self._cols(setup)]
        return self.weights_grad[layer][self.slot_of[setup]]

    def bias_grad(self, setup: int, layer: int) -> np.ndarray:
        if layer == 0:
            return self.first_bias_grad[self._cols(setup)]
        return self.biases_grad[layer][self.slot_of[setup]]

    def grad_norms(self, setup: int) -> tuple[float, ...]:
        """L2 norm of each layer's weight gradient for one setup, input layer first; a norm
        whose float32 squares underflow is taken in float64 (30 ReLU layers of N(0, 0.01^2)
        weights: about 1e-40, not 0)."""
        norms = []
        for layer in range(self.num_layers):
            grad = self.weight_grad(setup, layer)
            norm = float(np.linalg.norm(grad))
            if norm * norm < TINY_SQUARES:
                norm = float(np.linalg.norm(grad.astype(np.float64)))
            norms.append(norm)
        return tuple(norms)

    def layer_statistics(self, buffers: TrainingBuffers, learning_rate: float) -> np.ndarray:
        """Per setup (in setup order) and weight layer, from the last backward pass: see
        :func:`~vgtui.core.bank_stats.layer_statistics`; with +bn setups, four more columns
        (see :meth:`BatchNorms.statistics`)."""
        moved = None if self.plain else self._views(self._params - self._before)
        stats = layer_statistics(self.params, self._grad_views, buffers, learning_rate, moved)
        if self.bn_runs:
            stats = np.concatenate([stats, self.norms.statistics(self.num_layers)], axis=2)
        return stats[self.slot_of]

    def is_frozen(self, setup: int) -> bool:
        """Whether a setup has been frozen (after divergence)."""
        return bool(self.frozen[self.slot_of[setup]])

    def buffers(self, rows: int) -> TrainingBuffers:
        """The work arrays for batches of ``rows`` rows (allocated on first use)."""
        buffers = self._buffers.get(rows)
        if buffers is None:
            count, dtype, width = self.num_setups, self.dtype, self.width
            first_pre = np.empty((rows, count * width), dtype=dtype)
            first_post = np.empty_like(first_pre)
            pre = [np.empty(0, dtype=dtype)]
            post = [np.empty(0, dtype=dtype)]
            back = [np.empty(0, dtype=dtype)]
            widths = set(self.layer_sizes[1:-1])
            # back-propagated errors are dead once multiplied by f'(u): two arrays per width,
            # in turns (a +res layer adds the one of the layer after it)
            turns = {n: [np.empty((count, rows, n), dtype=dtype) for _ in "ab"] for n in widths}
            for layer in range(1, self.num_layers):
                n = self.layer_sizes[layer + 1]
                pre.append(np.empty((count, rows, n), dtype=dtype))
                post.append(np.empty((count, rows, n), dtype=dtype))
                back.append(turns[self.layer_sizes[layer]][layer % 2])
            buffers = TrainingBuffers(
                first_pre=first_pre,
                first_post=first_post,
                first_post_stacked=stacked(first_post, count, width),
                first_delta_stacked=stacked(first_pre, count, width),
                pre=pre,
                post=post,
                back=back,
                row_max=np.empty((count, rows, 1), dtype=dtype),
                row_sum=np.empty((count, rows, 1), dtype=dtype),
                ones_rows=np.ones((1, rows), dtype=dtype),
                ones_classes=np.ones((self.layer_sizes[-1], 1), dtype=dtype),
                active_inputs=np.empty((rows, self.layer_sizes[0] + 1), dtype=dtype),
                active_layer=np.empty_like(self.first_layer),
                active_grad=np.empty_like(self.first_layer),
                normalized=[np.empty_like(first_pre), *pre[1:-1]] if self.bn_runs else [],
                batch_var={},
            )
            if self.bn_runs:
                buffers.normalized[1:] = [np.empty_like(p) for p in pre[1:-1]]
            self._buffers[rows] = buffers
        return buffers

    # -- forward and backward ------------------------------------------------------------------
    def forward_active(
        self, buffers: TrainingBuffers, inputs: np.ndarray, rows: np.ndarray, train: bool = False
    ) -> np.ndarray:
        """Logits per slot of ``inputs`` that hold only some input columns and the ones column,
        ``rows`` being the matching rows of :attr:`first_layer` (the last one its bias row).
        The columns left out must be zero in every input row: the result is then that of the
        full inputs. Batch norm uses the batch's statistics; ``train``: the step's pass, which
        moves the running averages."""
        first_rows = buffers.active_layer[: rows.size]
        np.take(self.first_layer, rows, axis=0, out=first_rows)
        np.matmul(inputs, first_rows, out=buffers.first_pre)
        if self.bn_runs:
            self.norms.forward(buffers, 0, train)
        params, forwards = self.params, self._forwards
        first_pre, first_post = buffers.first_pre, buffers.first_post
        for group, forward in zip(self.groups, forwards, strict=True):
            forward(first_pre[:, group.cols], first_post[:, group.cols])
        previous = buffers.first_post_stacked
        last = self.num_layers - 1
        for layer in range(1, last):
            pre, post = buffers.pre[layer], buffers.post[layer]
            np.matmul(previous, params.weights[layer], out=pre)
            pre += params.biases[layer][:, None, :]
            if self.bn_runs:
                self.norms.forward(buffers, layer, train)
            for group, forward in zip(self.groups, forwards, strict=True):
                forward(pre[group.slots], post[group.slots])
            if self.res_runs and self.shortcut[layer]:
                for _, run in self.res_runs:
                    post[run] += previous[run]
            previous = post
        self.norms.started = self.norms.started or train
        logits = buffers.pre[last]
        np.matmul(previous, params.weights[last], out=logits)
        logits += params.biases[last][:, None, :]
        return logits

    def train_step(
        self,
        buffers: TrainingBuffers,
        inputs: np.ndarray,
        rows: np.ndarray,
        labels: np.ndarray,
        learning_rate: float,
    ) -> np.ndarray:
        """:meth:`backward_active`, then :meth:`apply_gradients`: the losses per slot. Plain
        SGD updates each layer as soon as its gradient is complete, while it and the layer's
        parameters are in cache (the same operations on the same values: the same bits; a
        separate update streams a deep net's parameters and gradients through memory again)."""
        if not self.plain:
            losses = self.backward_active(buffers, inputs, rows, labels)
            self.apply_gradients(learning_rate)
            return losses
        return self.backward_active(buffers, inputs, rows, labels, self.dtype.type(learning_rate))

    def backward_active(
        self,
        buffers: TrainingBuffers,
        inputs: np.ndarray,
        rows: np.ndarray,
        labels: np.ndarray,
        sgd_rate: np.floating | None = None,
    ) -> np.ndarray:
        """Forward and backward pass of ``inputs`` as in :meth:`forward_active`: fills the
        gradient arrays (the first layer's is exactly zero in the rows left out) and returns
        the losses per slot; with an ``sgd_rate`` (plain banks only), also the SGD update."""
        logits = self.forward_active(buffers, inputs, rows, train=True)
        losses = self._backpropagate(buffers, labels, logits, sgd_rate)
        grad = buffers.active_grad[: rows.size]
        np.matmul(inputs.T, buffers.first_pre, out=grad)
        self.first_layer_grad.fill(0.0)
        self.first_layer_grad[rows] = grad
        if sgd_rate is not None:
            self._sgd(0, sgd_rate)
        return losses

    def _sgd(self, layer: int, rate: np.floating) -> None:
        """Plain SGD of one weight layer (its weights and biases: one span of the flat
        arrays), as :meth:`apply_gradients` does it for all (the update in a reused scratch)."""
        span = self._layer_spans[layer]
        update = self._update[: span.stop - span.start]
        np.multiply(self._grads[span], rate, out=update)
        np.subtract(self._params[span], update, out=self._params[span])

    def _backpropagate(
        self,
        buffers: TrainingBuffers,
        labels: np.ndarray,
        logits: np.ndarray,
        sgd_rate: np.floating | None = None,
    ) -> np.ndarray:
        """Softmax cross-entropy losses per slot; gradients of layers 2..L and the layer-1
        deltas (left in ``buffers.first_pre``) of every slot."""
        rows = logits.shape[1]
        # Softmax and cross-entropy, computed stably; logits become d_logits in place.
        every_row = np.arange(rows)
        row_max, row_sum = buffers.row_max, buffers.row_sum
        # Maxima and sums over the few classes: pairwise maxima and a product with ones beat
        # NumPy's reductions along a short last axis several times over.
        largest = row_max[:, :, 0]
        np.copyto(largest, logits[:, :, 0])
        for k in range(1, logits.shape[2]):
            np.maximum(largest, logits[:, :, k], out=largest)
        logits -= row_max
        true_logit = logits[:, every_row, labels]
        np.exp(logits, out=logits)
        np.matmul(logits, buffers.ones_classes, out=row_sum)
        with np.errstate(invalid="ignore", divide="ignore"):
            losses = (np.log(row_sum[:, :, 0]) - true_logit).mean(axis=1, dtype=np.float64)
        row_sum *= rows
        logits /= row_sum
        delta = logits
        delta[:, every_row, labels] -= 1.0 / rows
        if self.frozen.any():
            delta[self.frozen] = 0.0
        for layer in range(self.num_layers - 1, 0, -1):
            if layer == 1:
                previous = buffers.first_post_stacked
                target = buffers.first_delta_stacked
            else:
                previous = buffers.post[layer - 1]
                target = buffers.pre[layer - 1]
            np.matmul(previous.transpose(0, 2, 1), delta, out=self.weights_grad[layer])
            np.matmul(buffers.ones_rows, delta, out=self.biases_grad[layer][:, None, :])
            back = buffers.back[layer]
            np.matmul(delta, self._weights_t[layer], out=back)
            if sgd_rate is not None:  # the layer's gradient is complete, its weights used
                self._sgd(layer, sgd_rate)
            if self.res_runs and self.shortcut[layer]:  # the shortcut's share: dL/d(output)
                for _, run in self.res_runs:
                    back[run] += buffers.back[layer + 1][run]
            # pre-activations of the shortcut's setups, whose output is not f(u) alone
            saved = (
                [(act, run, buffers.pre[layer - 1][run].copy()) for act, run in self.res_runs]
                if self.res_runs and self.shortcut[layer - 1]
                else []
            )
            # f'(u) from the activation's output; the notebook quirk evaluates f' at the output.
            for group in self.groups:
                activation = group.activation
                quirk = self.notebook_grad and activation.name in NOTEBOOK_QUIRK_ACTIVATIONS
                grad = activation.grad_at if quirk else activation.grad_from_output
                if layer == 1:
                    grad(buffers.first_post[:, group.cols], buffers.first_pre[:, group.cols])
                else:
                    grad(buffers.post[layer - 1][group.slots], buffers.pre[layer - 1][group.slots])
            for activation, run, pre in saved:
                activation.grad_at(pre, buffers.pre[layer - 1][run])
            np.multiply(target, back, out=target)
            if self.bn_runs:
                self.norms.backward(buffers, layer - 1)
            delta = target
        return losses

    # -- batch normalization -------------------------------------------------------------------
    def apply_gradients(self, learning_rate: float) -> None:
        """Update every setup from the last computed gradients: by its optimizer at its
        learning rate (``learning_rate``, the run's, unless it names its own)."""
        if self.plain:  # plain SGD, as ever
            np.multiply(self._grads, self.dtype.type(learning_rate), out=self._update)
            np.subtract(self._params, self._update, out=self._params)
            return
        if self._optimizers is None:
            self._optimizers = self._optimizer_groups(learning_rate)
        np.copyto(self._before, self._params)  # for the update's own size (layer_statistics)
        for group in self._optimizers:
            group.step()

    def _optimizer_groups(self, learning_rate: float) -> list[OptimizerGroup]:
        """One optimizer per (optimizer, learning rate) among the setups, over the blocks of
        the parameter arrays its slots own (the whole flat array if there is one)."""
        kinds: dict[tuple[str, float], list[int]] = {}
        for slot, setup in enumerate(self.slot_order):
            spec = self.setups[setup]
            kinds.setdefault((spec.optimizer, spec.rate(learning_rate)), []).append(slot)
        owner = self._views(np.empty(self._params.size, dtype=np.intp))
        slots = np.arange(self.num_setups)
        owner.first_layer.reshape(-1, self.num_setups, self.width)[...] = slots[None, :, None]
        for array in [*owner.weights[1:], *owner.biases[1:], *owner.gammas, *owner.betas]:
            array.reshape(self.num_setups, -1)[...] = slots[:, None]
        groups = []
        for (name, rate), members in kinds.items():
            if len(kinds) == 1:
                arrays = [self._params], [self._grads], [owner.flat]
            else:
                mine = runs(np.isin(slots, members))
                layouts = (self.params, self._grad_views, owner)
                arrays = tuple(self._slot_views(layout, mine) for layout in layouts)
            groups.append(OptimizerGroup(name, rate, *arrays, dtype=self.dtype))
        return groups

    def _slot_views(self, arrays: Parameters, slot_runs: list[slice]) -> list[np.ndarray]:
        """The blocks of ``arrays`` (a flat layout's views) that runs of slots own: their
        layer-1 columns, their part of every stacked array (each view's first axis: rows of
        layer 1, or the slots)."""
        views = []
        for run in slot_runs:
            views.append(arrays.first_layer[:, run.start * self.width : run.stop * self.width])
            stacks = (*arrays.weights[1:], *arrays.biases[1:], *arrays.gammas, *arrays.betas)
            views += [stack[run] for stack in stacks]
        return views

    def freeze(self, setup: int) -> None:
        """Stop training one setup (after divergence): zero its parameters so it stays finite
        (and its optimizer's state, so it stays there)."""
        slot = self.slot_of[setup]
        self.frozen[slot] = True
        for layer in range(self.num_layers):
            self.weight(setup, layer)[...] = 0.0
            self.bias(setup, layer)[...] = 0.0
        self.norms.forget(slot)
        for group in self._optimizers or []:
            group.forget(slot)
