"""Input checking and edge cases shared by every categorical model."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from labelvault.errors import InvalidInput
from labelvault.quality import (
    GLAD,
    MACE,
    AutoAggregator,
    DawidSkene,
    MajorityVote,
    OneCoinDawidSkene,
    Wawa,
    WeightedMajorityVote,
)

MODELS = [
    MajorityVote,
    WeightedMajorityVote,
    Wawa,
    DawidSkene,
    OneCoinDawidSkene,
    GLAD,
    lambda: MACE(n_restarts=2),
    AutoAggregator,
]


@pytest.mark.parametrize("make", MODELS)
def test_empty_input_is_rejected_with_a_hint(make: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        make().fit([], [], [])  # type: ignore[operator]
    assert "empty" in caught.value.detail
    assert caught.value.hint


@pytest.mark.parametrize("make", MODELS)
def test_mismatched_lengths_are_rejected(make: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        make().fit([0, 1], [0, 1, 2], [0, 1])  # type: ignore[operator]
    assert "different lengths" in caught.value.detail
    assert "workers=3" in caught.value.detail


@pytest.mark.parametrize(
    ("tasks", "workers", "labels", "message"),
    [
        ([0, -1], [0, 1], [0, 1], "negative code"),
        ([0, 1], [0, 1], [0.5, 1], "non-integer"),
        ([0, 1], [0, 1], [0, np.nan], "non-integer or missing"),
        (["a", "b"], [0, 1], [0, 1], "integer codes"),
        ([[0, 1]], [[0, 1]], [[0, 1]], "1-D"),
    ],
)
def test_bad_codes_are_rejected(tasks: list, workers: list, labels: list, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        DawidSkene().fit(tasks, workers, labels)
    assert message in caught.value.detail
    assert "encode" in (caught.value.hint or "") or "Pass one" in (caught.value.hint or "")


def test_sizes_smaller_than_the_data_are_rejected() -> None:
    with pytest.raises(InvalidInput, match="n_classes=2"):
        MajorityVote().fit([0, 1], [0, 0], [0, 2], n_classes=2)


@pytest.mark.parametrize("make", MODELS)
def test_single_answer_tasks_lone_workers_and_unused_classes(make: object) -> None:
    tasks = np.array([0, 0, 0, 1, 2, 2, 3])
    workers = np.array([0, 1, 2, 0, 1, 3, 4])
    labels = np.array([1, 1, 0, 2, 1, 1, 0])
    sizes = {"n_classes": 5, "n_tasks": 6, "n_workers": 7}
    model = make().fit(tasks, workers, labels, **sizes)  # type: ignore[operator]
    assert model.probas_.shape == (6, 5)
    assert np.allclose(model.probas_.sum(axis=1), 1.0)
    assert list(model.labels_[4:]) == [-1, -1]  # tasks 4 and 5 have no answers
    assert model.labels_[0] == 1 and model.labels_[2] == 1
    assert 0 <= model.labels_[1] < 5 and 0 <= model.labels_[3] < 5
    if isinstance(model, MajorityVote):
        # One answer each: followed. (A confusion-matrix model may instead fall back to
        # the class prior: a worker with a single answer can always be explained as
        # "answers this whatever the truth".)
        assert model.labels_[1] == 2 and model.labels_[3] == 0
    assert np.isnan(model.skills_[5:]).all()  # workers without answers
    assert not np.isnan(model.skills_[:5]).any()


def test_majority_vote_tie_rules_are_explicit() -> None:
    # Task 0 ties between worker 0 (says 2) and worker 1 (says 1). On the untied tasks
    # worker 0 sides with the majority and worker 1 does not; class 1 wins more tasks.
    tasks = [0, 0, 1, 1, 1, 2, 2, 3, 3]
    workers = [0, 1, 0, 2, 1, 2, 3, 2, 3]
    labels = [2, 1, 2, 2, 0, 1, 1, 1, 1]
    voters = MajorityVote().fit(tasks, workers, labels)
    assert voters.labels_[0] == 2 and voters.tied_.tolist() == [True, False, False, False]
    assert voters.probas_[0].tolist() == [0.0, 0.5, 0.5]
    assert MajorityVote(tie_break="prior").fit(tasks, workers, labels).labels_[0] == 1
    assert MajorityVote(tie_break="lowest").fit(tasks, workers, labels).labels_[0] == 1
    assert MajorityVote(tie_break="frequent").fit(tasks, workers, labels).labels_[0] == 1
    assert MajorityVote(tie_break=[2, 1, 0]).fit(tasks, workers, labels).labels_[0] == 2
    with pytest.raises(InvalidInput, match="exactly once"):
        MajorityVote(tie_break=[0, 0, 1]).fit(tasks, workers, labels)
    with pytest.raises(InvalidInput, match="Unknown tie_break"):
        MajorityVote(tie_break="coin").fit(tasks, workers, labels)  # type: ignore[arg-type]


def test_weighted_majority_vote_with_given_weights() -> None:
    tasks, workers, labels = [0, 0, 0], [0, 1, 2], [1, 0, 0]
    assert MajorityVote().fit(tasks, workers, labels).labels_[0] == 0
    trusted = WeightedMajorityVote().fit(tasks, workers, labels, worker_weights=[5.0, 1.0, 1.0])
    assert trusted.labels_[0] == 1
    assert trusted.probas_[0, 1] == pytest.approx(5 / 7)
    with pytest.raises(InvalidInput, match="one entry per worker"):
        WeightedMajorityVote().fit(tasks, workers, labels, worker_weights=[1.0])


def test_dawid_skene_uses_gold_and_custom_init() -> None:
    tasks, workers, labels = [0, 0, 1, 1], [0, 1, 0, 1], [0, 1, 1, 0]
    pinned = DawidSkene().fit(tasks, workers, labels, gold={0: 1})
    assert pinned.labels_[0] == 1 and pinned.probas_[0, 1] == 1.0
    start = np.array([[0.9, 0.1], [0.2, 0.8]])
    assert DawidSkene(init=start).fit(tasks, workers, labels).n_iter_ >= 1
    with pytest.raises(InvalidInput, match="init must be"):
        DawidSkene(init=np.ones((3, 3))).fit(tasks, workers, labels)
    with pytest.raises(InvalidInput, match="gold contains label code"):
        DawidSkene().fit(tasks, workers, labels, gold=np.array([5, -1]))


def test_importing_the_package_does_not_import_pandas() -> None:
    code = "import sys, labelvault.quality; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
