"""Shared fixtures for the quality-engine tests: shared datasets and synthetic answers."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labelvault.quality import Encoded, encode

REPO = Path(__file__).resolve().parents[2]


def datasets_dir() -> Path:
    """LABELVAULT_DATASETS, else the shared datasets next to the repository."""
    return Path(os.environ.get("LABELVAULT_DATASETS", REPO.parent / "shared" / "datasets"))


@dataclass(frozen=True)
class Dataset:
    name: str
    frame: pd.DataFrame
    encoded: Encoded
    gold: np.ndarray  # (n_tasks,) label code, -1 where unknown

    @property
    def codes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.encoded.tasks, self.encoded.workers, self.encoded.labels

    def accuracy(self, predicted: np.ndarray) -> float:
        known = self.gold >= 0
        return float((np.asarray(predicted)[known] == self.gold[known]).mean())


@cache
def load_dataset(name: str) -> Dataset:
    folder = datasets_dir() / name
    if not (folder / "labels.csv").exists():
        pytest.skip(f"shared dataset {name} not found under {datasets_dir()}")
    frame = pd.read_csv(folder / "labels.csv", dtype=str)
    gold = pd.read_csv(folder / "gold.csv", dtype=str)
    labels = sorted(set(frame["label"]) | set(gold["label"]))
    encoded = encode(frame, label_order=labels)
    return Dataset(name, frame, encoded, encoded.gold(gold["task"], gold["label"]))


def synthetic(
    seed: int,
    n_tasks: int = 400,
    n_workers: int = 40,
    n_classes: int = 3,
    per_task: int = 5,
    spammers: float = 0.15,
    adversaries: float = 0.05,
) -> dict[str, np.ndarray]:
    """Answers drawn from the Dawid-Skene model, with spammers and adversarial workers."""
    rng = np.random.default_rng(seed)
    truth = rng.choice(n_classes, size=n_tasks, p=rng.dirichlet(np.full(n_classes, 4.0)))
    accuracy = rng.uniform(0.5, 0.95, size=n_workers)
    confusion = np.empty((n_workers, n_classes, n_classes))
    for k in range(n_classes):
        noise = rng.dirichlet(np.ones(n_classes), size=n_workers)
        noise[:, k] = 0.0
        noise /= noise.sum(axis=1, keepdims=True)
        confusion[:, k, :] = noise * (1 - accuracy)[:, None]
        confusion[:, k, k] = accuracy
    kind = rng.random(n_workers)
    is_spammer = kind < spammers
    is_adversary = (kind >= spammers) & (kind < spammers + adversaries)
    favourite = rng.dirichlet(np.full(n_classes, 0.3), size=int(is_spammer.sum()))
    confusion[is_spammer] = favourite[:, None, :]
    confusion[is_adversary] = np.roll(np.eye(n_classes), 1, axis=1) * 0.9 + 0.1 / n_classes
    tasks = np.repeat(np.arange(n_tasks), per_task)
    workers = np.concatenate(
        [rng.choice(n_workers, size=per_task, replace=False) for _ in range(n_tasks)]
    )
    cumulative = np.cumsum(confusion[workers, truth[tasks]], axis=1)
    labels = np.minimum((rng.random(tasks.size)[:, None] > cumulative).sum(axis=1), n_classes - 1)
    return {
        "tasks": tasks,
        "workers": workers,
        "labels": labels,
        "truth": truth,
        "spammers": np.flatnonzero(is_spammer),
        "adversaries": np.flatnonzero(is_adversary),
        "n_classes": np.array(n_classes),
    }


def crowdkit_frame(tasks: np.ndarray, workers: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"task": tasks, "worker": workers, "label": labels})


def crowdkit_labels(model: object, n_tasks: int) -> np.ndarray:
    series = model.labels_  # type: ignore[attr-defined]
    return series.reindex(np.arange(n_tasks)).fillna(-1).astype(int).to_numpy()


def pytest_configure(config: pytest.Config) -> None:
    # crowd-kit is an oracle here, not our code; it emits pandas deprecation warnings by
    # the thousand, which would drown any warning of our own.
    config.addinivalue_line("filterwarnings", "ignore::Warning:crowdkit")
