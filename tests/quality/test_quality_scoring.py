"""Annotator scores: spammers and adversaries are flagged with a readable reason."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import load_dataset, synthetic
from labelvault.errors import InvalidInput
from labelvault.quality import MajorityVote, score_annotators


def _crowd(seed: int = 1) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    n_tasks, k = 300, 3
    truth = rng.integers(0, k, n_tasks)
    rows = []
    for worker in range(8):
        answered = rng.random(n_tasks) < 0.5
        for task in np.flatnonzero(answered):
            if worker < 5:  # careful workers, 85% right
                label = truth[task] if rng.random() < 0.85 else rng.integers(0, k)
            elif worker == 5:  # always the first option
                label = 0
            elif worker == 6:  # random clicking
                label = rng.integers(0, k)
            else:  # shifts every answer by one class
                label = (truth[task] + 1) % k
            rows.append((task, worker, label))
    rows.append((0, 8, truth[0]))  # a newcomer with one answer
    tasks, workers, labels = (np.array(c) for c in zip(*rows, strict=True))
    return tasks, workers, labels, truth


def test_spammers_adversaries_and_good_workers_are_told_apart() -> None:
    tasks, workers, labels, truth = _crowd()
    gold = np.where(np.arange(truth.size) < 40, truth, -1)
    report = score_annotators(tasks, workers, labels, gold=gold, label_names=["cat", "dog", "bird"])
    for worker in range(5):
        assert report.flags[worker] == []
        assert report.explanations[worker].startswith("No problem found")
        assert report.informativeness[worker] > 0.6
    assert "likely_spammer" in report.flags[5]
    assert "answered 'cat' on 100%" in report.explanations[5]
    assert "likely_spammer" in report.flags[6]
    assert "random" in report.explanations[6]
    assert "adversarial" in report.flags[7]
    assert "answers 'dog' when the consensus is 'cat'" in report.explanations[7] or (
        "when the consensus is" in report.explanations[7]
    )
    assert report.flags[8] == ["too_few_answers"]
    assert sorted(report.spammers.tolist()) == [5, 6, 7]
    # Gold accuracy is counted exactly.
    answered_gold = (workers == 0) & (gold[tasks] >= 0)
    expected = np.mean(labels[answered_gold] == truth[tasks[answered_gold]])
    assert report.gold_accuracy[0] == pytest.approx(expected)
    assert report.n_gold[0] == answered_gold.sum()


def test_records_are_json_ready_and_use_worker_names() -> None:
    tasks, workers, labels, _ = _crowd()
    names = [f"w{i}" for i in range(9)]
    report = score_annotators(tasks, workers, labels, worker_names=names, model=MajorityVote())
    records = report.to_records()
    json.dumps(records)
    assert records[3]["worker"] == "w3" and records[3]["gold_accuracy"] is None
    assert set(records[0]) >= {"estimated_accuracy", "consensus_agreement", "flags", "explanation"}


def test_spammers_in_synthetic_dawid_skene_data_are_found() -> None:
    data = synthetic(7, n_tasks=600, n_workers=30, per_task=5, spammers=0.2, adversaries=0.1)
    report = score_annotators(data["tasks"], data["workers"], data["labels"])
    flagged = set(report.spammers.tolist())
    bad = set(data["spammers"].tolist()) | set(data["adversaries"].tolist())
    assert bad <= flagged
    assert len(flagged - bad) <= 1


def test_a_model_fitted_on_other_data_is_rejected() -> None:
    other = MajorityVote().fit([0, 1], [0, 0], [0, 1])
    with pytest.raises(InvalidInput, match="different data"):
        score_annotators([0, 1, 2], [0, 0, 1], [0, 1, 1], model=other)


def test_scores_on_a_real_dataset() -> None:
    data = load_dataset("zheng_dog")
    report = score_annotators(*data.codes, gold=data.gold, label_names=data.encoded.label_values)
    has_gold = report.n_gold >= 20
    correlation = np.corrcoef(report.gold_accuracy[has_gold], report.estimated_accuracy[has_gold])
    assert correlation[0, 1] > 0.8  # the model's estimate tracks the real accuracy
    gap = np.abs(report.gold_accuracy[has_gold] - report.estimated_accuracy[has_gold])
    assert gap.mean() < 0.1
    assert len(report.explanations) == data.encoded.n_workers
