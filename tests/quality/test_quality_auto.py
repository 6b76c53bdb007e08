"""Pick-the-best mode: by gold accuracy when gold exists, else by held-out likelihood."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import load_dataset, synthetic
from labelvault.errors import InvalidInput
from labelvault.quality import AutoAggregator, DawidSkene, MajorityVote, auto_aggregate


def test_gold_decides_when_there_is_enough() -> None:
    data = load_dataset("zheng_sentiment")
    auto = auto_aggregate(*data.codes, gold=data.gold)
    assert auto.criterion_ == "gold_accuracy"
    assert auto.scores_[auto.best_] == max(auto.scores_.values())
    assert data.accuracy(auto.labels_) == pytest.approx(auto.scores_[auto.best_])
    assert data.accuracy(auto.labels_) > data.accuracy(MajorityVote().fit(*data.codes).labels_)


def test_heldout_likelihood_prefers_a_worker_model_on_heterogeneous_workers() -> None:
    d = synthetic(3, n_tasks=500, n_workers=25, per_task=5, spammers=0.3)
    auto = AutoAggregator(candidates=("mv", "ds"), seed=1).fit(
        d["tasks"], d["workers"], d["labels"]
    )
    assert auto.criterion_ == "heldout_log_likelihood"
    assert auto.best_ == "ds"
    assert auto.scores_["ds"] > auto.scores_["mv"]
    expected = DawidSkene().fit(d["tasks"], d["workers"], d["labels"])
    assert np.array_equal(auto.labels_, expected.labels_)


def test_selection_is_deterministic_for_a_seed() -> None:
    d = synthetic(4, n_tasks=200, n_workers=15)
    first = auto_aggregate(d["tasks"], d["workers"], d["labels"], seed=5)
    second = auto_aggregate(d["tasks"], d["workers"], d["labels"], seed=5)
    assert first.scores_ == second.scores_ and first.best_ == second.best_


def test_little_gold_falls_back_to_heldout_and_bad_options_are_rejected() -> None:
    d = synthetic(5, n_tasks=200, n_workers=15)
    gold = np.full(200, -1)
    gold[:5] = d["truth"][:5]
    auto = auto_aggregate(d["tasks"], d["workers"], d["labels"], gold=gold)
    assert auto.criterion_ == "heldout_log_likelihood"
    with pytest.raises(InvalidInput, match="Unknown candidate"):
        AutoAggregator(candidates=("magic",)).fit([0], [0], [0])
    with pytest.raises(InvalidInput, match="holdout"):
        AutoAggregator(holdout=1.5).fit([0], [0], [0])
