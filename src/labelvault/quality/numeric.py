"""Aggregation of numeric and ordinal answers (ratings, scores, counts).

``fit(tasks, workers, values)`` takes task and worker codes and one number per answer.
``values_`` holds one estimate per task (NaN for a task without answers).
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from labelvault.errors import InvalidInput

from ._arrays import FloatArray, IntArray, as_codes, as_values, check_same_length, resolve_size


class _NumericAggregator:
    values_: FloatArray
    counts_: IntArray
    n_tasks_: int
    n_workers_: int

    def fit(
        self,
        tasks: Any,
        workers: Any,
        values: Any,
        *,
        n_tasks: int | None = None,
        n_workers: int | None = None,
    ) -> Self:
        t = as_codes(tasks, "tasks")
        w = as_codes(workers, "workers")
        x = as_values(values, "values")
        check_same_length(tasks=t, workers=w, values=x)
        self.n_tasks_ = resolve_size(t, n_tasks, "n_tasks", "task")
        self.n_workers_ = resolve_size(w, n_workers, "n_workers", "worker")
        self.counts_ = np.bincount(t, minlength=self.n_tasks_).astype(np.int64)
        self._fit(t, w, x)
        return self

    def fit_predict(self, tasks: Any, workers: Any, values: Any, **sizes: Any) -> FloatArray:
        return self.fit(tasks, workers, values, **sizes).values_

    def _fit(self, t: IntArray, w: IntArray, x: FloatArray) -> None:
        raise NotImplementedError


def task_means(
    t: IntArray, x: FloatArray, n_tasks: int, weights: FloatArray | None = None
) -> FloatArray:
    """Per-task (weighted) mean, NaN where a task has no answers."""
    w = np.ones_like(x) if weights is None else weights
    total = np.bincount(t, weights=x * w, minlength=n_tasks)
    mass = np.bincount(t, weights=w, minlength=n_tasks)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mass > 0, total / np.where(mass > 0, mass, 1.0), np.nan)


class MeanAggregator(_NumericAggregator):
    """Plain mean of the answers per task."""

    def _fit(self, t: IntArray, w: IntArray, x: FloatArray) -> None:
        self.values_ = task_means(t, x, self.n_tasks_)


class MedianAggregator(_NumericAggregator):
    """Median of the answers per task (mean of the two middle values for an even count).

    Robust to a single wild answer. Computed with one sort of all answers, no per-task loop.
    """

    def _fit(self, t: IntArray, w: IntArray, x: FloatArray) -> None:
        order = np.lexsort((x, t))
        sorted_x = x[order]
        counts = self.counts_
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        has = counts > 0
        low = starts + (counts - 1) // 2
        high = starts + counts // 2
        out = np.full(self.n_tasks_, np.nan)
        out[has] = 0.5 * (sorted_x[low[has]] + sorted_x[high[has]])
        self.values_ = out


class BiasCorrectedMean(_NumericAggregator):
    """Task value = mean of answers after removing each worker's personal offset.

    Model: answer = true value of the task + worker bias + noise with a per-worker spread.
    Fitted by alternating least squares: task values from bias-corrected answers weighted
    by each worker's precision; biases from the residuals, shrunk towards 0 by
    ``shrinkage`` pseudo-answers (a worker with few answers keeps a small bias) and
    centred so that workers are unbiased on average; spreads from the squared residuals,
    with ``shrinkage`` pseudo-answers at the pooled spread. ``weighted=True`` also weights
    each worker by their precision (1 / spread^2); by default every worker weighs the same.

    It helps when workers have steady personal offsets (a harsh and a lenient rater); when
    they do not, it costs a little accuracy against the plain mean, since every bias is
    estimated with some noise.

    Extra fitted attributes: ``biases_`` and ``noise_`` (standard deviation) per worker,
    ``n_iter_``.
    """

    biases_: FloatArray
    noise_: FloatArray
    n_iter_: int

    def __init__(
        self, max_iter: int = 50, tol: float = 1e-8, shrinkage: float = 2.0, weighted: bool = False
    ) -> None:
        self.max_iter = max_iter
        self.tol = tol
        self.shrinkage = shrinkage
        self.weighted = weighted

    def _fit(self, t: IntArray, w: IntArray, x: FloatArray) -> None:
        if self.shrinkage < 0:
            raise InvalidInput("shrinkage must be >= 0.", hint="Use the default 2.0.")
        n_w = self.n_workers_
        per_worker = np.bincount(w, minlength=n_w).astype(np.float64)
        bias = np.zeros(n_w)
        precision = np.ones(n_w)
        values = task_means(t, x, self.n_tasks_)
        self.n_iter_ = 0
        for _ in range(self.max_iter):
            self.n_iter_ += 1
            weights = precision[w] if self.weighted else None
            new_values = task_means(t, x - bias[w], self.n_tasks_, weights)
            residual = x - new_values[t]
            bias = np.bincount(w, weights=residual, minlength=n_w) / (per_worker + self.shrinkage)
            active = per_worker > 0
            bias[active] -= np.average(bias[active], weights=per_worker[active])
            error = x - new_values[t] - bias[w]
            pooled = float(np.mean(error * error)) + 1e-12
            squared = np.bincount(w, weights=error * error, minlength=n_w)
            variance = (squared + self.shrinkage * pooled) / (per_worker + self.shrinkage)
            precision = 1.0 / np.maximum(variance, 1e-12)
            change = np.nanmax(np.abs(new_values - values)) if values.size else 0.0
            values = new_values
            if change < self.tol and self.n_iter_ > 1:
                break
        self.values_ = values
        self.biases_ = bias
        self.noise_ = np.sqrt(1.0 / precision)
