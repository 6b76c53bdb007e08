"""MACE: Multi-Annotator Competence Estimation (spammer-aware).

Hovy et al. (2013), "Learning Whom to Trust with MACE". On each answer a worker either
knows the truth and gives it (probability = their competence) or "spams": picks a label
from their own spam strategy, whatever the truth. So a worker who always clicks the first
option gets a low competence instead of dragging the consensus. Fitted by EM or, by
default, variational Bayes with Beta / Dirichlet priors; several restarts, the run with the
best marginal likelihood wins. The first restart starts from the majority vote (so results
do not depend on the seed when one restart is enough); the others from random parameters
drawn from the seeded generator.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.special import digamma  # type: ignore[import-untyped,unused-ignore]

from labelvault.errors import InvalidInput

from ._arrays import Answers, FloatArray, IntArray, log_normalize_rows, rng_for
from ._base import CategoricalAggregator
from .majority_vote import MajorityVote

_FLOOR = 1e-300


class MACE(CategoricalAggregator):
    """MACE truth inference.

    Parameters: ``n_restarts`` runs (best marginal likelihood kept), ``max_iter`` EM
    iterations per run (stop earlier when the log-likelihood per answer changes by less
    than ``tol``), ``method`` "vb" (variational Bayes, Beta(``alpha``, ``beta``) prior on
    spamming vs knowing, symmetric Dirichlet(``strategy_prior``) on spam strategies; steadier
    on small crowds) or "em" (add ``smoothing`` to expected counts), ``seed`` for the random
    restarts. ``learn_prior=True`` (default) also estimates how frequent each class is,
    as Dawid-Skene does; the published MACE assumes all classes equally likely
    (``learn_prior=False``), which over-predicts rare classes on skewed data (on the
    zheng_product entity-matching set, 88% negatives: 0.83 accuracy instead of 0.93) but
    can suit a gold set that over-samples rare classes.

    Extra fitted attributes: ``competence_`` (n_workers,) probability that a worker's
    answer reflects the truth rather than spam; ``spam_strategy_`` (n_workers,
    n_classes), the label distribution used when spamming; ``priors_`` class prior;
    ``log_likelihood_``.
    """

    competence_: FloatArray
    priors_: FloatArray
    _prior: FloatArray
    spam_strategy_: FloatArray
    log_likelihood_: float

    def __init__(
        self,
        n_restarts: int = 5,
        max_iter: int = 50,
        tol: float = 1e-7,
        method: Literal["vb", "em"] = "vb",
        alpha: float = 0.5,
        beta: float = 0.5,
        strategy_prior: float = 10.0,
        smoothing: float | None = None,
        seed: int | None = 0,
        learn_prior: bool = True,
    ) -> None:
        self.learn_prior = learn_prior
        self.n_restarts = n_restarts
        self.max_iter = max_iter
        self.tol = tol
        self.method = method
        self.alpha = alpha
        self.beta = beta
        self.strategy_prior = strategy_prior
        self.smoothing = smoothing
        self.seed = seed

    def _fit(self, data: Answers) -> None:
        if self.method not in ("vb", "em") or self.n_restarts < 1:
            raise InvalidInput(
                f"MACE needs method 'vb' or 'em' and n_restarts >= 1, got "
                f"method={self.method!r}, n_restarts={self.n_restarts}.",
                hint="Use MACE(method='vb', n_restarts=5).",
            )
        rng = rng_for(self.seed)
        best: tuple[float, FloatArray, FloatArray, FloatArray, FloatArray] | None = None
        for restart in range(self.n_restarts):
            if restart == 0:
                mv = MajorityVote()
                mv._fit(data)
                spam, know, strategy = self._update(data, mv.probas_, *self._flat_start(data))
            else:
                spam, know, strategy = self._random_start(data, rng)
            spam, know, strategy, log_lik = self._run(data, spam, know, strategy)
            if best is None or log_lik > best[0]:
                best = (log_lik, spam, know, strategy, self._prior)
        assert best is not None
        log_lik, spam, know, strategy, self._prior = best
        probas, _ = self._posterior(data, spam, know, strategy)
        self.log_likelihood_ = log_lik
        self._spam, self._know, self._strategy = spam, know, strategy
        self.competence_ = know / (know + spam)
        self.spam_strategy_ = strategy / strategy.sum(axis=1, keepdims=True)
        self.priors_ = self._prior
        self._store(data, probas, self._prior)

    # -- EM pieces --------------------------------------------------------------------------
    def _run(
        self, data: Answers, spam: FloatArray, know: FloatArray, strategy: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, float]:
        k = data.n_classes
        self._prior = np.full(k, 1.0 / k)
        previous = -np.inf
        log_lik = -np.inf
        for _ in range(self.max_iter):
            probas, log_lik = self._posterior(data, spam, know, strategy)
            if abs(log_lik - previous) < self.tol * data.n_answers:
                break
            previous = log_lik
            spam, know, strategy = self._update(data, probas, spam, know, strategy)
            if self.learn_prior:
                answered = data.task_counts() > 0
                self._prior = (probas[answered].sum(axis=0) + 1.0) / (answered.sum() + k)
        return spam, know, strategy, log_lik

    @staticmethod
    def _answer_terms(
        data: Answers, spam: FloatArray, know: FloatArray, strategy: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        spam_mass = spam[data.workers] * strategy[data.workers, data.labels]
        return spam_mass, know[data.workers]

    def _posterior(
        self, data: Answers, spam: FloatArray, know: FloatArray, strategy: FloatArray
    ) -> tuple[FloatArray, float]:
        k = data.n_classes
        spam_mass, know_mass = self._answer_terms(data, spam, know, strategy)
        log_wrong = np.log(np.maximum(spam_mass, _FLOOR))
        log_right = np.log(np.maximum(spam_mass + know_mass, _FLOOR))
        base = np.bincount(data.tasks, weights=log_wrong, minlength=data.n_tasks)
        bonus = np.bincount(
            data.tasks * k + data.labels, weights=log_right - log_wrong, minlength=data.n_tasks * k
        ).reshape(data.n_tasks, k)
        log_scores = np.asarray(bonus, dtype=np.float64) + base[:, None] + np.log(self._prior)
        probas, log_norm = log_normalize_rows(log_scores)
        answered = data.task_counts() > 0
        log_lik = float(log_norm[answered].sum())
        return probas, log_lik

    def _update(
        self,
        data: Answers,
        probas: FloatArray,
        spam: FloatArray,
        know: FloatArray,
        strategy: FloatArray,
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        spam_mass, know_mass = self._answer_terms(data, spam, know, strategy)
        knew = (
            probas[data.tasks, data.labels] * know_mass / np.maximum(spam_mass + know_mass, _FLOOR)
        )
        spammed = 1.0 - knew
        n, k = data.n_workers, data.n_classes
        know_counts = np.bincount(data.workers, weights=knew, minlength=n)
        spam_counts = np.bincount(data.workers, weights=spammed, minlength=n)
        strategy_counts = np.bincount(
            data.workers * k + data.labels, weights=spammed, minlength=n * k
        ).reshape(n, k)
        if self.method == "vb":
            total = digamma(know_counts + spam_counts + self.alpha + self.beta)
            new_spam = np.exp(digamma(spam_counts + self.alpha) - total)
            new_know = np.exp(digamma(know_counts + self.beta) - total)
            strategy_total = digamma(strategy_counts.sum(axis=1) + k * self.strategy_prior)
            new_strategy = np.exp(
                digamma(strategy_counts + self.strategy_prior) - strategy_total[:, None]
            )
            return new_spam, new_know, new_strategy
        smooth = 0.01 / k if self.smoothing is None else self.smoothing
        total = know_counts + spam_counts + 2 * smooth
        new_strategy = (strategy_counts + smooth) / (
            strategy_counts.sum(axis=1, keepdims=True) + k * smooth
        )
        return (spam_counts + smooth) / total, (know_counts + smooth) / total, new_strategy

    @staticmethod
    def _flat_start(data: Answers) -> tuple[FloatArray, FloatArray, FloatArray]:
        n, k = data.n_workers, data.n_classes
        return np.full(n, 0.5), np.full(n, 0.5), np.full((n, k), 1.0 / k)

    @staticmethod
    def _random_start(
        data: Answers, rng: np.random.Generator
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        n, k = data.n_workers, data.n_classes
        pair = rng.uniform(1.0, 1.5, size=(n, 2))
        pair /= pair.sum(axis=1, keepdims=True)
        strategy = rng.uniform(1.0, 1.5, size=(n, k))
        strategy /= strategy.sum(axis=1, keepdims=True)
        return pair[:, 0].copy(), pair[:, 1].copy(), strategy

    def _answer_likelihoods(
        self, tasks: IntArray, workers: IntArray, labels: IntArray
    ) -> FloatArray:
        k = self.n_classes_
        competence = self.competence_[workers]
        spam = (1 - competence) * self.spam_strategy_[workers, labels]
        out = np.repeat(spam[:, None], k, axis=1)
        out[np.arange(labels.size), labels] += competence
        return out
