"""Dawid-Skene (full confusion matrices) and its one-coin variant, fitted by EM.

Dawid & Skene (1979), "Maximum likelihood estimation of observer error-rates using the
EM algorithm". Each worker w has a confusion matrix pi_w[k, y] = P(answer y | truth k);
tasks have a class prior. EM alternates a posterior over each task's true class
(E-step) with re-estimating confusions and prior from those posteriors (M-step).

Both steps are products with one sparse (tasks x worker-label) count matrix built once,
so an iteration costs two sparse-dense products of size answers x classes. Confusion
counts get ``smoothing`` pseudo-answers per cell (a symmetric Dirichlet prior), which
keeps estimates finite for workers with few answers; the reported objective includes
that prior so it never decreases.
"""

from __future__ import annotations

from typing import Any, Literal, Self

import numpy as np
from scipy import sparse  # type: ignore[import-untyped,unused-ignore]

from labelvault.errors import InvalidInput

from ._arrays import (
    Answers,
    FloatArray,
    IntArray,
    check_answers,
    check_gold,
    log_normalize_rows,
    row_sum,
)
from ._base import CategoricalAggregator

_TINY = 1e-300


class _ConfusionEM(CategoricalAggregator):
    """EM loop shared by the confusion-matrix models; subclasses give the M-step."""

    priors_: FloatArray
    loss_history_: list[float]
    n_iter_: int
    _log_table: FloatArray

    def __init__(
        self,
        max_iter: int = 100,
        tol: float = 1e-5,
        smoothing: float = 1e-4,
        init: Literal["mv", "diagonal"] | FloatArray = "mv",
    ) -> None:
        self.max_iter = max_iter
        self.tol = tol
        self.smoothing = smoothing
        self.init = init

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
        """Fit by EM. ``gold`` ({task: label} or array with -1 = unknown) pins known tasks."""
        data = check_answers(
            tasks, workers, labels, n_tasks=n_tasks, n_workers=n_workers, n_classes=n_classes
        )
        gold_codes = None if gold is None else check_gold(gold, data.n_tasks, data.n_classes)
        self._fit_em(data, gold_codes)
        return self

    def _fit(self, data: Answers) -> None:
        self._fit_em(data, None)

    def _fit_em(self, data: Answers, gold: IntArray | None) -> None:
        if self.smoothing < 0 or self.max_iter < 0:
            raise InvalidInput(
                "smoothing and max_iter must be non-negative.",
                hint="Use smoothing=0.01 and max_iter=100 unless you have a reason not to.",
            )
        k = data.n_classes
        counts = data.task_by_worker_label()
        counts_t = counts.T
        answered = (data.task_counts() > 0).astype(np.float64)
        n_answered = float(answered.sum())
        pinned = None if gold is None else np.flatnonzero(gold >= 0)

        probas = self._initial_probas(data, counts)
        self._pin(probas, gold, pinned)
        self.loss_history_ = []
        self.n_iter_ = 0
        previous = -np.inf
        for _ in range(self.max_iter):
            weighted = answered @ probas
            prior = (weighted + 1.0) / (n_answered + k)
            table, penalty = self._m_step(counts_t @ probas, data)
            log_scores = counts @ table
            log_scores += np.log(prior)
            probas, log_norm = log_normalize_rows(log_scores)
            self._pin(probas, gold, pinned)
            self.n_iter_ += 1
            loss = float(log_norm @ answered) + penalty + float(np.log(prior).sum())
            loss /= data.n_answers
            self.loss_history_.append(loss)
            if abs(loss - previous) < self.tol:
                break
            previous = loss
        if self.n_iter_ == 0:
            prior = np.full(k, 1.0 / k)
            table, _ = self._m_step(counts_t @ probas, data)
        self.priors_ = prior
        self._log_table = table
        self._store(data, probas, prior)
        self._describe_workers(table, data)

    def _initial_probas(self, data: Answers, counts: sparse.csc_matrix) -> FloatArray:
        init = self.init
        if isinstance(init, str) and init == "mv":
            # Majority-vote posterior: the share of answers per class.
            shares = data.task_label_counts()
            totals = row_sum(shares)[:, None]
            return np.where(totals > 0, shares / np.maximum(totals, 1.0), 1.0 / data.n_classes)
        if isinstance(init, str) and init == "diagonal":
            k = data.n_classes
            skill = np.full(data.n_workers, 0.7)
            table = _one_coin_table(skill, k)
            log_scores = counts @ table
            return log_normalize_rows(log_scores)[0]
        array = np.array(init, dtype=np.float64)
        if isinstance(init, str) or array.shape != (data.n_tasks, data.n_classes):
            raise InvalidInput(
                f"init must be 'mv', 'diagonal' or an array of shape "
                f"({data.n_tasks}, {data.n_classes}).",
                hint="Pass initial task posteriors (e.g. another model's probas_) or 'mv'.",
            )
        return array

    @staticmethod
    def _pin(probas: FloatArray, gold: IntArray | None, pinned: IntArray | None) -> None:
        if gold is None or pinned is None or pinned.size == 0:
            return
        probas[pinned] = 0.0
        probas[pinned, gold[pinned]] = 1.0

    def _m_step(self, expected: FloatArray, data: Answers) -> tuple[FloatArray, float]:
        """From expected counts (W*K, K) return the log-likelihood table and log-prior."""
        raise NotImplementedError

    def _describe_workers(self, table: FloatArray, data: Answers) -> None:
        """Store per-worker parameters in readable attributes."""

    def _answer_likelihoods(
        self, tasks: IntArray, workers: IntArray, labels: IntArray
    ) -> FloatArray:
        likelihoods: FloatArray = np.exp(self._log_table[workers * self.n_classes_ + labels])
        return likelihoods


class DawidSkene(_ConfusionEM):
    """Dawid-Skene with one full confusion matrix per worker.

    Parameters: ``max_iter`` EM iterations at most; stop when the objective (mean
    log-likelihood per answer, plus the prior) changes by less than ``tol``;
    ``smoothing`` pseudo-answers per confusion cell; ``init`` = "mv" (start from the
    majority-vote posterior), "diagonal" (start from every worker 70% right) or an
    (n_tasks, n_classes) array of starting posteriors. ``fit`` also accepts ``gold``.

    Extra fitted attributes: ``confusions_`` (n_workers, n_classes, n_classes) with
    ``confusions_[w, k, y] = P(worker w answers y | true class k)``; ``priors_``;
    ``loss_history_``; ``n_iter_``.
    """

    confusions_: FloatArray

    def _m_step(self, expected: FloatArray, data: Answers) -> tuple[FloatArray, float]:
        k = data.n_classes
        cube = expected.reshape(data.n_workers, k, k)  # [worker, answer, truth]
        cube += self.smoothing
        totals = cube.sum(axis=1, keepdims=True)
        # A truth class a worker never (softly) saw: no evidence, so a uniform row.
        cube = np.where(totals > 0, cube, 1.0)
        log_cube = np.log(np.maximum(cube, _TINY))
        log_cube -= np.log(np.where(totals > 0, totals, k))
        penalty = float(self.smoothing * log_cube.sum()) if self.smoothing else 0.0
        return log_cube.reshape(data.n_workers * k, k), penalty

    def _describe_workers(self, table: FloatArray, data: Answers) -> None:
        k = data.n_classes
        self.confusions_ = np.exp(table.reshape(data.n_workers, k, k)).transpose(0, 2, 1).copy()


def _one_coin_table(skill: FloatArray, k: int) -> FloatArray:
    """Log-likelihood table (W*K, K) for workers right with prob. `skill`, else uniform."""
    skill = np.clip(skill, 1e-9, 1 - 1e-9)
    log_right = np.log(skill)
    log_wrong = np.log((1.0 - skill) / max(k - 1, 1))
    table = np.repeat(log_wrong, k)[:, None] * np.ones((1, k))
    eye = np.tile(np.eye(k, dtype=bool), (skill.size, 1))
    table[eye] = np.repeat(log_right, k)
    return table


class OneCoinDawidSkene(_ConfusionEM):
    """Dawid-Skene where each worker has one accuracy and errors are spread evenly.

    Far fewer parameters than the full model (one per worker), so it is steadier when
    workers give few answers. ``smoothing`` adds that many right and wrong pseudo-answers
    per worker. Extra fitted attribute: ``accuracies_`` (n_workers,).
    """

    accuracies_: FloatArray

    def _m_step(self, expected: FloatArray, data: Answers) -> tuple[FloatArray, float]:
        k = data.n_classes
        cube = expected.reshape(data.n_workers, k, k)
        right = np.trace(cube, axis1=1, axis2=2)
        total = cube.sum(axis=(1, 2))
        a = self.smoothing
        skill = (right + a) / (total + 2 * a) if a else right / np.maximum(total, _TINY)
        skill = np.clip(skill, 1e-9, 1 - 1e-9)
        self.accuracies_ = skill
        penalty = float(a * (np.log(skill).sum() + np.log1p(-skill).sum())) if a else 0.0
        return _one_coin_table(skill, k), penalty
