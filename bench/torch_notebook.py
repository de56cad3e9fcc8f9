"""The notebook's experiment in idiomatic PyTorch (CPU, float32), one setup after another."""

from __future__ import annotations

import math

import numpy as np

SETUPS = [("sigmoid", "gauss"), ("relu", "gauss"), ("sigmoid", "xavier"), ("relu", "he")]


def run_torch(
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    threads: int,
    seed: int = 0,
    iterations: int = 2000,
    batch_size: int = 100,
    learning_rate: float = 0.1,
    eval_every: int = 10,
) -> dict[str, dict[str, list[float]]]:
    """Train the four setups with torch.nn and torch.optim.SGD; return accuracy curves."""
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    x_train = torch.from_numpy(train_images).float().div_(255.0)
    t_train = torch.from_numpy(train_labels.astype(np.int64))
    x_test = torch.from_numpy(test_images).float().div_(255.0)
    t_test = torch.from_numpy(test_labels.astype(np.int64))
    rng = np.random.default_rng(seed)
    results = {}
    for activation, init in SETUPS:
        act = nn.Sigmoid if activation == "sigmoid" else nn.ReLU
        model = nn.Sequential(
            nn.Linear(784, 40), act(), nn.Linear(40, 20), act(), nn.Linear(20, 10)
        )
        with torch.no_grad():
            for layer in model:
                if isinstance(layer, nn.Linear):
                    n_in = layer.in_features
                    scale = {"gauss": 0.01, "xavier": 1 / math.sqrt(n_in)}.get(
                        init, math.sqrt(2 / n_in)
                    )
                    layer.weight.normal_(0.0, scale)
                    layer.bias.zero_()
        optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
        loss_fn = nn.CrossEntropyLoss()
        train_acc, test_acc = [], []
        for i in range(1, iterations + 1):
            batch = torch.from_numpy(rng.integers(0, x_train.shape[0], batch_size))
            x_batch, t_batch = x_train[batch], t_train[batch]
            optimizer.zero_grad()
            loss = loss_fn(model(x_batch), t_batch)
            loss.backward()
            optimizer.step()
            if i % eval_every == 0:
                with torch.inference_mode():
                    train_acc.append(float((model(x_batch).argmax(1) == t_batch).float().mean()))
                    test_acc.append(float((model(x_test).argmax(1) == t_test).float().mean()))
        results[f"{activation}-{init}"] = {"train_acc": train_acc, "test_acc": test_acc}
    return results
