"""Majority vote, plain and weighted.

Tie rule (deterministic, the same for every run and every order of the input, and it
does not depend on how labels were coded): when two or more classes get the same
(weighted) number of votes on a task, the class whose voters have the better track
record wins - each worker's track record being how often they side with the majority on
the tasks *without* a tie (``tie_break="voters"``, the default). If that is equal too,
the class that wins more untied tasks overall wins, then the lower class code.

Other rules: ``"prior"`` (skip the track record), ``"lowest"`` (lowest class code; with
``encode(..., label_order=...)`` list the class that should win ties first),
``"frequent"`` (the class most frequent among all answers), or a sequence of class codes
in order of preference. Whatever the rule, tied tasks are flagged in ``tied_`` and their
posterior shows the tie (e.g. 0.5 / 0.5), so they read as low confidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Self

import numpy as np

from labelvault.errors import InvalidInput

from ._arrays import Answers, FloatArray, IntArray, argmax_rows, check_answers, row_max, row_sum
from ._base import CategoricalAggregator


def class_preference(data: Answers, weights: FloatArray | None = None) -> IntArray:
    """Classes ordered by overall (weighted) frequency, most frequent first; ties by code."""
    totals = np.bincount(data.labels, weights=weights, minlength=data.n_classes)
    return np.lexsort((np.arange(data.n_classes), -totals)).astype(np.int64)


def one_coin_likelihoods(accuracy: FloatArray, labels: IntArray, n_classes: int) -> FloatArray:
    """P(answer | true class) when a worker is right with prob. `accuracy`, else uniform."""
    acc = np.clip(accuracy, 1e-6, 1 - 1e-6)
    wrong = (1.0 - acc) / max(n_classes - 1, 1)
    out = np.repeat(wrong[:, None], n_classes, axis=1)
    out[np.arange(labels.size), labels] = acc
    return out


TieBreak = Literal["voters", "prior", "lowest", "frequent"] | Sequence[int]


def _explicit_order(rule: Sequence[int], n_classes: int) -> IntArray:
    order = np.asarray(rule, dtype=np.int64)
    if order.ndim != 1 or sorted(order.tolist()) != list(range(n_classes)):
        raise InvalidInput(
            f"tie_break must list every class code 0..{n_classes - 1} exactly once.",
            hint="Example for 3 classes: tie_break=[2, 0, 1] (class 2 wins every tie).",
        )
    return order


class MajorityVote(CategoricalAggregator):
    """Each answer is one vote; the posterior is the share of votes per class.

    Extra fitted attribute: ``tied_`` (n_tasks,) bool, True where the top classes tie.
    """

    tied_: np.ndarray[Any, np.dtype[np.bool_]]

    def __init__(self, tie_break: TieBreak = "voters") -> None:
        self.tie_break = tie_break

    def _fit(self, data: Answers) -> None:
        self._fit_weighted(data, None)

    def _fit_weighted(self, data: Answers, answer_weights: FloatArray | None) -> None:
        counts = data.task_label_counts(answer_weights)
        top = row_max(counts)[:, None]
        winners = counts == top
        self.tied_ = (row_sum(winners.astype(np.float64)) > 1) & (top[:, 0] > 0)
        prior = np.full(data.n_classes, 1.0 / data.n_classes)
        sums = row_sum(counts)[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            probas = np.where(sums > 0, counts / sums, prior)
        labels = self._break_ties(data, counts, winners, answer_weights)
        self._store(data, probas, prior, labels=labels)
        answered = np.bincount(data.workers, minlength=data.n_workers) > 0
        self._pooled_accuracy = float(np.nanmean(np.where(answered, self.skills_, np.nan)))

    def _break_ties(
        self,
        data: Answers,
        counts: FloatArray,
        winners: np.ndarray[Any, np.dtype[np.bool_]],
        answer_weights: FloatArray | None,
    ) -> IntArray:
        rule = self.tie_break
        if not isinstance(rule, str):
            return argmax_rows(counts, _explicit_order(rule, data.n_classes))
        if rule not in ("voters", "prior", "lowest", "frequent"):
            raise InvalidInput(
                f"Unknown tie_break {rule!r}.",
                hint="Use 'voters', 'prior', 'lowest', 'frequent' or a list of class codes.",
            )
        if rule == "lowest":
            return argmax_rows(counts)
        if rule == "frequent":
            return argmax_rows(counts, class_preference(data, answer_weights))
        clear = ~self.tied_
        plain = argmax_rows(counts)
        wins = np.bincount(plain[clear & (row_max(counts) > 0)], minlength=data.n_classes)
        order = np.lexsort((np.arange(data.n_classes), -wins)).astype(np.int64)
        if rule == "prior" or not self.tied_.any():
            return argmax_rows(counts, order)
        # Track record: share of a worker's answers on untied tasks that match the vote.
        on_clear = clear[data.tasks]
        agreed = np.bincount(
            data.workers[on_clear],
            weights=(plain[data.tasks] == data.labels)[on_clear],
            minlength=data.n_workers,
        )
        seen = np.bincount(data.workers[on_clear], minlength=data.n_workers)
        neutral = float(agreed.sum() / max(seen.sum(), 1))
        record = np.where(seen > 0, agreed / np.maximum(seen, 1), neutral)
        support = data.task_label_counts(record[data.workers])
        support = np.where(winners, support, -1.0)
        best = row_max(support)[:, None]
        return argmax_rows(np.where(support >= best - 1e-12, 1.0, 0.0), order)

    def _answer_likelihoods(
        self, tasks: IntArray, workers: IntArray, labels: IntArray
    ) -> FloatArray:
        acc = np.full(labels.size, self._pooled_accuracy)
        return one_coin_likelihoods(acc, labels, self.n_classes_)


class WeightedMajorityVote(MajorityVote):
    """Majority vote where each worker's vote counts with a weight.

    Give the weights to fit() (``worker_weights``, one per worker), or leave them out to
    learn them: each worker's accuracy is estimated by how often their answer matches the
    weighted vote of the *other* workers on the same task (so nobody agrees with
    themselves), smoothed towards chance with ``prior_strength`` pseudo-answers, and turned
    into the log-odds weight ``log((K-1) * acc / (1 - acc))`` (the optimal weight when
    errors are uniform). Workers at or below chance get a tiny weight (1e-6): they only
    decide tasks that nobody better answered. Repeats until the labels stop changing or
    ``max_iter`` rounds.

    Extra fitted attribute: ``weights_`` (n_workers,).
    """

    weights_: FloatArray

    def __init__(
        self,
        max_iter: int = 10,
        prior_strength: float = 2.0,
        tie_break: TieBreak = "voters",
    ) -> None:
        super().__init__(tie_break)
        self.max_iter = max_iter
        self.prior_strength = prior_strength

    def fit(
        self,
        tasks: Any,
        workers: Any,
        labels: Any,
        *,
        worker_weights: Any = None,
        n_classes: int | None = None,
        n_tasks: int | None = None,
        n_workers: int | None = None,
    ) -> Self:
        data = check_answers(
            tasks, workers, labels, n_tasks=n_tasks, n_workers=n_workers, n_classes=n_classes
        )
        if worker_weights is None:
            weights = self._learn_weights(data)
        else:
            weights = np.asarray(worker_weights, dtype=np.float64)
            if weights.shape != (data.n_workers,):
                raise InvalidInput(
                    f"worker_weights must have one entry per worker ({data.n_workers}), "
                    f"got shape {weights.shape}.",
                    hint="Index weights by worker code; pass n_workers if some have no answers.",
                )
            if not np.isfinite(weights).all() or (weights < 0).any():
                raise InvalidInput(
                    "worker_weights must be finite and non-negative.",
                    hint="Use 0 to ignore a worker.",
                )
        self.weights_ = weights
        self._fit_weighted(data, weights[data.workers])
        return self

    def _learn_weights(self, data: Answers) -> FloatArray:
        k = data.n_classes
        weights = np.ones(data.n_workers)
        rows = np.arange(data.n_answers)
        previous: IntArray | None = None
        for _ in range(self.max_iter):
            own = weights[data.workers]
            scores = data.task_label_counts(own)[data.tasks]
            scores[rows, data.labels] -= own
            others = scores.max(axis=1)
            has_others = others > 0
            agree = (scores[rows, data.labels] >= others) & has_others
            # A tie among the others' votes counts as partial agreement.
            n_top = (scores == others[:, None]).sum(axis=1)
            credit = np.where(agree, 1.0 / n_top, 0.0)
            hits = np.bincount(data.workers, weights=credit, minlength=data.n_workers)
            seen = np.bincount(data.workers, weights=has_others, minlength=data.n_workers)
            chance = 1.0 / k
            acc = (hits + self.prior_strength * chance) / (seen + self.prior_strength)
            acc = np.clip(acc, 1e-3, 1 - 1e-3)
            # A tiny floor keeps votes of chance-level workers as tie-breakers where
            # nobody better answered (e.g. a worker who never overlaps with others).
            weights = np.maximum(np.log((k - 1) * acc / (1 - acc)), 1e-6) if k > 1 else acc
            current = np.argmax(data.task_label_counts(weights[data.workers]), axis=1)
            if previous is not None and np.array_equal(current, previous):
                break
            previous = current
        return weights
