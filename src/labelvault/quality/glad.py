"""GLAD: worker ability x task difficulty.

Whitehill et al. (2009), "Whose vote should count more". Worker w answering task t is
right with probability sigmoid(alpha_w * beta_t), where alpha_w is the worker's ability
(negative = adversarial) and beta_t = exp(b_t) > 0 is the task's easiness; wrong answers
are spread evenly over the other classes. Fitted by generalized EM: the E-step is the
usual posterior over true classes; the M-step takes a few Fisher-scoring steps on all
abilities at once, then on all difficulties at once (each a handful of array operations
over the answers), instead of a generic optimizer.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import expit  # type: ignore[import-untyped,unused-ignore]

from ._arrays import Answers, FloatArray, IntArray, log_normalize_rows, row_sum
from ._base import CategoricalAggregator
from .majority_vote import one_coin_likelihoods


class GLAD(CategoricalAggregator):
    """GLAD truth inference.

    Parameters: ``max_iter`` EM iterations at most, stop when the objective per answer
    changes by less than ``tol``; ``m_steps`` Fisher-scoring sweeps per M-step;
    Gaussian priors alpha ~ N(``alpha_prior``, 1) and log(beta) ~ N(``beta_prior``, 1)
    keep estimates finite. The class prior stays uniform as in the published model;
    ``learn_prior=True`` estimates it (this lets easy items absorb everything on skewed
    data, so it is off by default).

    Extra fitted attributes: ``alphas_`` (n_workers,) abilities, ``betas_`` (n_tasks,)
    task easiness (larger = easier), ``priors_`` class prior, ``loss_history_``,
    ``n_iter_``.
    """

    alphas_: FloatArray
    betas_: FloatArray
    priors_: FloatArray
    loss_history_: list[float]
    n_iter_: int

    def __init__(
        self,
        max_iter: int = 100,
        tol: float = 1e-5,
        m_steps: int = 2,
        alpha_prior: float = 1.0,
        beta_prior: float = 1.0,
        learn_prior: bool = False,
    ) -> None:
        self.learn_prior = learn_prior
        self.max_iter = max_iter
        self.tol = tol
        self.m_steps = m_steps
        self.alpha_prior = alpha_prior
        self.beta_prior = beta_prior

    def _fit(self, data: Answers) -> None:
        k = data.n_classes
        t, w, y = data.tasks, data.workers, data.labels
        flat = t * k + y
        size = data.n_tasks * k
        answered = (data.task_counts() > 0).astype(np.float64)
        n_answered = float(answered.sum())
        log_k1 = np.log(max(k - 1, 1))

        shares = data.task_label_counts()
        totals = row_sum(shares)[:, None]
        probas = np.where(totals > 0, shares / np.maximum(totals, 1.0), 1.0 / k)
        alpha = np.full(data.n_workers, self.alpha_prior)
        b = np.full(data.n_tasks, self.beta_prior)
        self.loss_history_ = []
        self.n_iter_ = 0
        previous = -np.inf
        prior = np.full(k, 1.0 / k)
        for _ in range(self.max_iter):
            # M-step: class prior, then abilities and difficulties.
            if self.learn_prior:
                prior = (answered @ probas + 1.0) / (n_answered + k)
            q = probas[t, y]
            for _ in range(self.m_steps):
                alpha = self._ability_step(alpha, b, q, data)
                b = self._difficulty_step(alpha, b, q, data)
            # E-step.
            x = alpha[w] * np.exp(b)[t]
            log_right = np.asarray(log_sigmoid(x), dtype=np.float64)
            log_wrong = log_right - x - log_k1
            base = np.bincount(t, weights=log_wrong, minlength=data.n_tasks)
            bonus = np.bincount(flat, weights=log_right - log_wrong, minlength=size)
            log_scores = bonus.reshape(data.n_tasks, k) + base[:, None] + np.log(prior)
            probas, log_norm = log_normalize_rows(log_scores)
            self.n_iter_ += 1
            penalty = -0.5 * (
                float(((alpha - self.alpha_prior) ** 2).sum())
                + float(((b - self.beta_prior) ** 2).sum())
            )
            loss = (float(log_norm @ answered) + penalty) / data.n_answers
            self.loss_history_.append(loss)
            if abs(loss - previous) < self.tol:
                break
            previous = loss
        self.alphas_ = alpha
        self.betas_ = np.exp(b)
        self.priors_ = prior
        self._store(data, probas, prior)

    def _ability_step(
        self, alpha: FloatArray, b: FloatArray, q: FloatArray, data: Answers
    ) -> FloatArray:
        """One safeguarded Fisher-scoring step on every ability at once."""
        beta = np.exp(b)[data.tasks]
        groups, n, mean = data.workers, data.n_workers, self.alpha_prior

        def objective(values: FloatArray) -> tuple[FloatArray, FloatArray]:
            x = values[groups] * beta
            value, log_a = _group_objective(x, q, groups, n)
            return value - 0.5 * (values - mean) ** 2, log_a

        current, log_a = objective(alpha)
        a = np.exp(log_a)
        grad = np.bincount(groups, weights=(q - a) * beta, minlength=n) - (alpha - mean)
        info = np.bincount(groups, weights=a * (1 - a) * beta * beta, minlength=n) + 1.0
        return _backtrack(alpha, grad / info, current, objective)

    def _difficulty_step(
        self, alpha: FloatArray, b: FloatArray, q: FloatArray, data: Answers
    ) -> FloatArray:
        """One safeguarded Fisher-scoring step on every log-easiness at once."""
        ability = alpha[data.workers]
        groups, n, mean = data.tasks, data.n_tasks, self.beta_prior

        def objective(values: FloatArray) -> tuple[FloatArray, FloatArray]:
            x = ability * np.exp(values)[groups]
            value, log_a = _group_objective(x, q, groups, n)
            return value - 0.5 * (values - mean) ** 2, log_a

        current, log_a = objective(b)
        a = np.exp(log_a)
        x = ability * np.exp(b)[groups]
        grad = np.bincount(groups, weights=(q - a) * x, minlength=n) - (b - mean)
        info = np.bincount(groups, weights=a * (1 - a) * x * x, minlength=n) + 1.0
        return _backtrack(b, grad / info, current, objective)

    def _answer_likelihoods(
        self, tasks: IntArray, workers: IntArray, labels: IntArray
    ) -> FloatArray:
        right = expit(self.alphas_[workers] * self.betas_[tasks])
        return one_coin_likelihoods(right, labels, self.n_classes_)


def log_sigmoid(x: FloatArray) -> FloatArray:
    """log(1 / (1 + exp(-x))), stable, with SIMD-friendly NumPy ufuncs only."""
    tail = np.abs(x)
    np.negative(tail, out=tail)
    np.exp(tail, out=tail)
    np.log1p(tail, out=tail)
    out: FloatArray = np.minimum(x, 0.0) - tail
    return out


def _group_objective(
    x: FloatArray, q: FloatArray, groups: IntArray, n: int
) -> tuple[FloatArray, FloatArray]:
    """Expected complete log-likelihood summed per worker or task, and log sigmoid(x).

    q log s(x) + (1 - q) log s(-x) = log s(x) - (1 - q) x: one log-sigmoid per answer.
    """
    log_a = np.asarray(log_sigmoid(x), dtype=np.float64)
    terms = log_a - (1.0 - q) * x
    return np.asarray(np.bincount(groups, weights=terms, minlength=n), dtype=np.float64), log_a


def _backtrack(
    values: FloatArray,
    step: FloatArray,
    current: FloatArray,
    objective: Callable[[FloatArray], tuple[FloatArray, FloatArray]],
    halvings: int = 6,
) -> FloatArray:
    """Take `step` where it raises the separable objective; halve it where it does not."""
    step = np.clip(step, -2.0, 2.0)
    out = values.copy()
    pending = np.ones(values.size, dtype=bool)
    for _ in range(halvings):
        trial = np.where(pending, values + step, out)
        better = objective(trial)[0] >= current
        accept = pending & better
        out[accept] = trial[accept]
        pending &= ~better
        if not pending.any():
            break
        step = step * 0.5
    return out
