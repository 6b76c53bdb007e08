"""Pick the best truth-inference model for a dataset.

With enough gold (known true labels), the candidate with the best accuracy on gold wins.
Without gold, each candidate is fitted on the answers minus a random held-out share and
scored by how well it predicts the held-out answers (mean log-likelihood per answer):
a model that understands the workers predicts what they will say. The winner is then
refitted on all answers. Deterministic for a given seed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Self

import numpy as np

from labelvault.errors import InvalidInput

from ._arrays import Answers, IntArray, check_answers, check_gold, rng_for
from ._base import CategoricalAggregator
from .dawid_skene import DawidSkene, OneCoinDawidSkene
from .glad import GLAD
from .mace import MACE
from .majority_vote import MajorityVote, WeightedMajorityVote
from .wawa import Wawa

_ROBUST = 0.01

CANDIDATES: dict[str, Callable[[], CategoricalAggregator]] = {
    "mv": MajorityVote,
    "wmv": WeightedMajorityVote,
    "wawa": Wawa,
    "ds": DawidSkene,
    "one_coin_ds": OneCoinDawidSkene,
    "glad": GLAD,
    "mace": lambda: MACE(n_restarts=1),
}


class AutoAggregator(CategoricalAggregator):
    """Fits several models and keeps the best one.

    Parameters: ``candidates`` (names from ``CANDIDATES``), ``holdout`` share of answers
    held out when there is no gold, ``min_gold`` gold tasks needed to select on gold,
    ``seed``. With too few answers to hold any out (every task or worker has a single
    answer) the first candidate is kept and ``criterion_`` says "too_little_data".

    Fitted attributes: everything of the chosen model (``labels_``, ``probas_``,
    ``skills_``) plus ``best_`` (its name), ``model_`` (the fitted model), ``scores_``
    (name -> gold accuracy or held-out log-likelihood per answer) and ``criterion_``
    ("gold_accuracy", "heldout_log_likelihood" or "too_little_data").
    """

    best_: str
    model_: CategoricalAggregator
    scores_: dict[str, float]
    criterion_: str

    def __init__(
        self,
        candidates: Sequence[str] = ("mv", "wawa", "ds", "one_coin_ds", "glad", "mace"),
        holdout: float = 0.1,
        min_gold: int = 20,
        seed: int | None = 0,
    ) -> None:
        self.candidates = tuple(candidates)
        self.holdout = holdout
        self.min_gold = min_gold
        self.seed = seed

    def fit(
        self,
        tasks: Any,
        workers: Any,
        labels: Any,
        *,
        gold: Any = None,
        n_classes: int | None = None,
        n_tasks: int | None = None,
        n_workers: int | None = None,
    ) -> Self:
        """Fit every candidate, choose by ``gold`` if given (and big enough) else held out."""
        unknown = [name for name in self.candidates if name not in CANDIDATES]
        if unknown or not self.candidates:
            raise InvalidInput(
                f"Unknown candidate model(s): {unknown or 'none given'}.",
                hint=f"Choose among {', '.join(CANDIDATES)}.",
            )
        if not 0 < self.holdout < 1:
            raise InvalidInput(
                f"holdout must be between 0 and 1, got {self.holdout}.",
                hint="Use e.g. holdout=0.1 (10% of answers held out).",
            )
        data = check_answers(
            tasks, workers, labels, n_tasks=n_tasks, n_workers=n_workers, n_classes=n_classes
        )
        gold_codes = None if gold is None else check_gold(gold, data.n_tasks, data.n_classes)
        answered = data.task_counts() > 0
        usable_gold = 0 if gold_codes is None else int(((gold_codes >= 0) & answered).sum())
        if gold_codes is not None and usable_gold >= self.min_gold:
            self.criterion_ = "gold_accuracy"
            fitted = {name: self._fit_one(name, data) for name in self.candidates}
            known = (gold_codes >= 0) & answered
            self.scores_ = {
                name: float((model.labels_[known] == gold_codes[known]).mean())
                for name, model in fitted.items()
            }
            self.best_ = _best(self.scores_, self.candidates)
            self.model_ = fitted[self.best_]
        else:
            self.criterion_ = "heldout_log_likelihood"
            self.scores_ = self._heldout_scores(data)
            if not self.scores_:
                # Nothing can be held out (every task or worker has a single answer):
                # too little data to compare models, so keep the first (simplest) one.
                self.criterion_ = "too_little_data"
            self.best_ = _best(self.scores_, self.candidates)
            self.model_ = self._fit_one(self.best_, data)
        self.n_tasks_ = data.n_tasks
        self.n_workers_ = data.n_workers
        self.n_classes_ = data.n_classes
        self.labels_ = self.model_.labels_
        self.probas_ = self.model_.probas_
        self.skills_ = self.model_.skills_
        return self

    def _fit(self, data: Answers) -> None:
        self.fit(data.tasks, data.workers, data.labels, **_sizes(data))

    @staticmethod
    def _fit_one(name: str, data: Answers) -> CategoricalAggregator:
        model = CANDIDATES[name]()
        model._fit(data)
        return model

    def _heldout_scores(self, data: Answers) -> dict[str, float]:
        train, test = _split(data, self.holdout, rng_for(self.seed))
        if test.size == 0:
            return {}
        train_data = Answers(
            data.tasks[train],
            data.workers[train],
            data.labels[train],
            data.n_tasks,
            data.n_workers,
            data.n_classes,
        )
        t, w, y = data.tasks[test], data.workers[test], data.labels[test]
        scores = {}
        for name in self.candidates:
            model = self._fit_one(name, train_data)
            likelihood = model._answer_likelihoods(t, w, y)
            predictive = (model.probas_[t] * likelihood).sum(axis=1)
            # A 1% share of uniform guessing bounds the cost of one surprising answer,
            # so a model is not ruled out by a near-zero probability fitted on few answers.
            predictive = (1 - _ROBUST) * predictive + _ROBUST / data.n_classes
            scores[name] = float(np.log(predictive).mean())
        return scores


def auto_aggregate(
    tasks: Any,
    workers: Any,
    labels: Any,
    *,
    gold: Any = None,
    candidates: Sequence[str] = ("mv", "wawa", "ds", "one_coin_ds", "glad", "mace"),
    seed: int | None = 0,
    **sizes: Any,
) -> AutoAggregator:
    """Shortcut for ``AutoAggregator(candidates, seed=seed).fit(...)``."""
    return AutoAggregator(candidates, seed=seed).fit(tasks, workers, labels, gold=gold, **sizes)


def _best(scores: dict[str, float], order: Sequence[str]) -> str:
    """Highest score; on equal scores the candidate listed first (simpler) wins."""
    if not scores:
        return order[0]
    top = max(scores.values())
    return next(name for name in order if scores[name] == top)


def _sizes(data: Answers) -> dict[str, int]:
    return {"n_tasks": data.n_tasks, "n_workers": data.n_workers, "n_classes": data.n_classes}


def _split(data: Answers, share: float, rng: np.random.Generator) -> tuple[IntArray, IntArray]:
    """Random held-out answers, keeping every task and worker in the training part."""
    held = rng.random(data.n_answers) < share
    task_left = np.bincount(data.tasks[~held], minlength=data.n_tasks)
    worker_left = np.bincount(data.workers[~held], minlength=data.n_workers)
    held &= (task_left[data.tasks] > 0) & (worker_left[data.workers] > 0)
    return np.flatnonzero(~held), np.flatnonzero(held)
