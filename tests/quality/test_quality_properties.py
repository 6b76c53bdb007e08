"""Properties every aggregator must have, checked on generated data (hypothesis)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import synthetic
from labelvault.quality import (
    GLAD,
    MACE,
    DawidSkene,
    MajorityVote,
    OneCoinDawidSkene,
    Wawa,
    WeightedMajorityVote,
)
from labelvault.quality._base import CategoricalAggregator

MODELS: dict[str, Callable[[], CategoricalAggregator]] = {
    "mv": MajorityVote,
    "wmv": WeightedMajorityVote,
    "wawa": Wawa,
    "ds": DawidSkene,
    "one_coin": OneCoinDawidSkene,
    "glad": GLAD,
    "mace": lambda: MACE(n_restarts=1),
}

answers = st.builds(
    lambda seed, n_tasks, n_workers, k, per_task: synthetic(
        seed, n_tasks=n_tasks, n_workers=n_workers, n_classes=k, per_task=per_task
    ),
    seed=st.integers(0, 10_000),
    n_tasks=st.integers(5, 60),
    n_workers=st.integers(3, 12),
    k=st.integers(2, 4),
    per_task=st.integers(1, 3),
)


@settings(max_examples=15, deadline=None)
@given(data=answers, name=st.sampled_from(sorted(MODELS)), seed=st.integers(0, 1000))
def test_permuting_codes_permutes_the_output(data: dict, name: str, seed: int) -> None:
    t, w, y, k = data["tasks"], data["workers"], data["labels"], int(data["n_classes"])
    n_t, n_w = int(t.max()) + 1, int(w.max()) + 1
    rng = np.random.default_rng(seed)
    pt, pw, py = rng.permutation(n_t), rng.permutation(n_w), rng.permutation(k)
    rows = rng.permutation(t.size)  # row order must not matter either
    if name in ("wawa", "wmv"):
        # Their weights come from hard labels, so the lowest-code tie rule feeds back
        # into the fit: only task, worker and row order are free to move.
        py = np.arange(k)
    sizes = {"n_classes": k, "n_tasks": n_t, "n_workers": n_w}
    base = MODELS[name]().fit(t, w, y, **sizes)
    moved = MODELS[name]().fit(pt[t][rows], pw[w][rows], py[y][rows], **sizes)
    # Task i becomes pt[i] and class c becomes py[c].
    assert np.allclose(moved.probas_[pt][:, py], base.probas_, atol=1e-6)
    top = np.sort(base.probas_, axis=1)
    clear = top[:, -1] - top[:, -2] > 1e-6
    assert np.array_equal(py[base.labels_[clear]], moved.labels_[pt[clear]])
    assert np.allclose(moved.skills_[pw], base.skills_, atol=1e-6, equal_nan=True)


@settings(max_examples=25, deadline=None)
@given(data=answers, copies=st.integers(2, 4))
def test_duplicating_every_answer_does_not_change_majority_vote(data: dict, copies: int) -> None:
    t, w, y = data["tasks"], data["workers"], data["labels"]
    once = MajorityVote().fit(t, w, y)
    many = MajorityVote().fit(np.tile(t, copies), np.tile(w, copies), np.tile(y, copies))
    assert np.array_equal(once.labels_, many.labels_)
    assert np.allclose(once.probas_, many.probas_)
    assert np.array_equal(once.tied_, many.tied_)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_tasks=st.integers(20, 80),
    k=st.integers(2, 4),
    n_others=st.integers(3, 5),
    name=st.sampled_from(sorted(MODELS)),
)
def test_a_perfect_worker_is_recovered(
    seed: int, n_tasks: int, k: int, n_others: int, name: str
) -> None:
    # Worker 0 answers every task correctly. The others answer every task too and make
    # independent mistakes, at most one of them per task. (Recovery is not a property of
    # maximum likelihood when co-workers are random or collude: a perfect worker among
    # random ones is indistinguishable from a random one among perfect ones.)
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n_tasks)
    tasks = np.tile(np.arange(n_tasks), n_others + 1)
    workers = np.repeat(np.arange(n_others + 1), n_tasks)
    culprit = rng.integers(1, n_others + 1, n_tasks)
    erring = (rng.random(n_tasks) < 0.5)[tasks] & (workers == culprit[tasks])
    wrong = (truth[tasks] + rng.integers(1, k, tasks.size)) % k
    labels = np.where(erring, wrong, truth[tasks])
    model = MODELS[name]().fit(tasks, workers, labels, n_classes=k)
    assert np.array_equal(model.labels_, truth)
    assert model.skills_[0] == pytest.approx(max(model.skills_))


@settings(max_examples=20, deadline=None)
@given(data=answers, name=st.sampled_from(sorted(MODELS)))
def test_a_single_worker_is_followed(data: dict, name: str) -> None:
    t, y, k = data["tasks"], data["labels"], int(data["n_classes"])
    first = np.unique(t, return_index=True)[1]
    model = MODELS[name]().fit(t[first], np.zeros(first.size, dtype=int), y[first], n_classes=k)
    assert np.array_equal(model.labels_[t[first]], y[first])


@settings(max_examples=15, deadline=None)
@given(data=answers, name=st.sampled_from(sorted(MODELS)))
def test_outputs_are_well_formed_and_deterministic(data: dict, name: str) -> None:
    t, w, y, k = data["tasks"], data["workers"], data["labels"], int(data["n_classes"])
    first = MODELS[name]().fit(t, w, y, n_classes=k, n_tasks=int(t.max()) + 3)
    second = MODELS[name]().fit(t, w, y, n_classes=k, n_tasks=int(t.max()) + 3)
    assert np.array_equal(first.probas_, second.probas_)
    assert first.probas_.shape == (int(t.max()) + 3, k)
    assert np.allclose(first.probas_.sum(axis=1), 1.0)
    assert (first.labels_[-2:] == -1).all()  # tasks with no answers
    answered = np.unique(t)
    assert ((first.labels_[answered] >= 0) & (first.labels_[answered] < k)).all()
    skills = first.skills_[np.unique(w)]
    assert ((skills >= 0) & (skills <= 1 + 1e-12)).all()
