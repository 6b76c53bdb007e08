"""Rankings from pairwise comparisons: Bradley-Terry (with ties) and Elo.

Inputs are equal-length arrays: ``left`` and ``right`` item codes and ``outcome`` = 1.0
when left won, 0.0 when right won, 0.5 for a tie.
"""

from __future__ import annotations

from typing import Any, Literal, Self

import numpy as np
from scipy.optimize import minimize  # type: ignore[import-untyped,unused-ignore]
from scipy.special import expit, log_expit  # type: ignore[import-untyped,unused-ignore]

from labelvault.errors import InvalidInput

from ._arrays import FloatArray, IntArray, as_codes, check_same_length, resolve_size, rng_for


def _check_battles(
    left: Any, right: Any, outcome: Any, n_items: int | None
) -> tuple[IntArray, IntArray, FloatArray, int]:
    a = as_codes(left, "left")
    b = as_codes(right, "right")
    o = np.asarray(outcome, dtype=np.float64)
    if o.ndim != 1:
        raise InvalidInput("outcome must be 1-D.", hint="One outcome per comparison.")
    check_same_length(left=a, right=b, outcome=o)
    if not np.isfinite(o).all() or (o < 0).any() or (o > 1).any():
        raise InvalidInput(
            "outcome must be between 0 and 1 (1 = left wins, 0 = right wins, 0.5 = tie).",
            hint="Map winners to numbers first, e.g. {'a': 1.0, 'b': 0.0, 'tie': 0.5}.",
        )
    if (a == b).any():
        i = int(np.flatnonzero(a == b)[0])
        raise InvalidInput(
            f"Comparison {i} pits item {int(a[i])} against itself.",
            hint="Drop self-comparisons.",
        )
    size = resolve_size(np.concatenate((a, b)), n_items, "n_items", "item")
    return a, b, o, size


class BradleyTerry:
    """Bradley-Terry model: P(i beats j) = 1 / (1 + exp(s_j - s_i)).

    ``ties="half"``: a tie counts as half a win for each side (the usual leaderboard
    convention). ``ties="davidson"``: ties are modelled (Davidson 1970):
    P(tie) = nu * sqrt(p_i p_j) / (p_i + p_j + nu * sqrt(p_i p_j)), with ``nu_`` fitted.
    ``prior`` is the precision of a Gaussian prior on scores (0 = plain maximum
    likelihood; a tiny default keeps scores finite when an item never loses).
    ``n_bootstrap`` resamples of the comparisons (with ``seed``) give ``ci_``.

    Fitted attributes: ``scores_`` (n_items,) log-strengths centred on 0 (a difference
    of 1 means odds e:1), ``strengths_`` exp(scores) normalised to sum 1, ``ranking_``
    (item codes, best first), ``ci_`` (n_items, 2) bootstrap interval of scores_ at
    level ``ci`` (NaN if n_bootstrap=0), ``nu_`` (Davidson only), ``n_items_``.
    """

    scores_: FloatArray
    strengths_: FloatArray
    ranking_: IntArray
    ci_: FloatArray
    nu_: float
    n_items_: int

    def __init__(
        self,
        ties: Literal["half", "davidson"] = "half",
        prior: float = 1e-6,
        n_bootstrap: int = 200,
        ci: float = 0.95,
        seed: int | None = 0,
        max_iter: int = 200,
        tol: float = 1e-10,
    ) -> None:
        self.ties = ties
        self.prior = prior
        self.n_bootstrap = n_bootstrap
        self.ci = ci
        self.seed = seed
        self.max_iter = max_iter
        self.tol = tol

    def fit(
        self,
        left: Any,
        right: Any,
        outcome: Any,
        *,
        n_items: int | None = None,
        weights: Any = None,
    ) -> Self:
        a, b, o, n = _check_battles(left, right, outcome, n_items)
        if self.ties not in ("half", "davidson"):
            raise InvalidInput(f"Unknown ties {self.ties!r}.", hint="Use 'half' or 'davidson'.")
        if self.ties == "davidson" and not np.isin(o, (0.0, 0.5, 1.0)).all():
            raise InvalidInput(
                "With ties='davidson' every outcome must be 0, 0.5 or 1.",
                hint="Use ties='half' for fractional outcomes.",
            )
        if not 0 < self.ci < 1 or self.prior < 0 or self.n_bootstrap < 0:
            raise InvalidInput(
                "Need 0 < ci < 1, prior >= 0 and n_bootstrap >= 0.",
                hint="Defaults: ci=0.95, prior=1e-6, n_bootstrap=200.",
            )
        w = np.ones(a.size) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != a.shape or (w < 0).any():
            raise InvalidInput(
                "weights must be one non-negative number per comparison.",
                hint="Leave weights unset to count every comparison once.",
            )
        self.n_items_ = n
        scores, nu = self._solve(a, b, o, w, n)
        self.scores_ = scores
        self.nu_ = nu
        strengths = np.exp(scores - scores.max())
        self.strengths_ = strengths / strengths.sum()
        self.ranking_ = np.argsort(-scores, kind="stable").astype(np.int64)
        self.ci_ = self._bootstrap(a, b, o, w, n)
        return self

    # -- fitting ---------------------------------------------------------------------------
    def _solve(
        self, a: IntArray, b: IntArray, o: FloatArray, w: FloatArray, n: int
    ) -> tuple[FloatArray, float]:
        if self.ties == "half":
            wins = _pair_matrix(a, b, o * w, n) + _pair_matrix(b, a, (1 - o) * w, n)
            return _newton_bt(wins, self.prior, self.max_iter, self.tol), float("nan")
        decisive = o != 0.5
        winner = np.where(o == 1.0, a, b)[decisive]
        loser = np.where(o == 1.0, b, a)[decisive]
        wins = _pair_matrix(winner, loser, w[decisive], n)
        tie_w = w[~decisive]
        ties = _pair_matrix(a[~decisive], b[~decisive], tie_w, n)
        ties = ties + ties.T
        return _fit_davidson(wins, ties, self.prior, self.tol)

    def _bootstrap(
        self, a: IntArray, b: IntArray, o: FloatArray, w: FloatArray, n: int
    ) -> FloatArray:
        if self.n_bootstrap == 0:
            return np.full((n, 2), np.nan)
        rng = rng_for(self.seed)
        draws = np.empty((self.n_bootstrap, n))
        for r in range(self.n_bootstrap):
            resample = np.bincount(rng.integers(0, a.size, a.size), minlength=a.size)
            draws[r] = self._solve(a, b, o, w * resample, n)[0]
        tail = (1.0 - self.ci) / 2.0
        return np.quantile(draws, [tail, 1.0 - tail], axis=0).T.copy()


def _pair_matrix(rows: IntArray, cols: IntArray, weights: FloatArray, n: int) -> FloatArray:
    counts = np.bincount(rows * n + cols, weights=weights, minlength=n * n)
    return np.asarray(counts, dtype=np.float64).reshape(n, n)


def _newton_bt(wins: FloatArray, prior: float, max_iter: int, tol: float) -> FloatArray:
    """Maximise sum W_ij log sigmoid(s_i - s_j) - prior/2 |s|^2 by damped Newton."""
    n = wins.shape[0]
    games = wins + wins.T
    s = np.zeros(n)

    def objective(x: FloatArray) -> float:
        diff = x[:, None] - x[None, :]
        return float((wins * log_expit(diff)).sum()) - 0.5 * prior * float(x @ x)

    current = objective(s)
    ones = np.ones((n, n)) / n
    for _ in range(max_iter):
        p = expit(s[:, None] - s[None, :])
        grad = (wins - games * p).sum(axis=1) - prior * s
        curvature = games * p * (1 - p)
        info = np.diag(curvature.sum(axis=1)) - curvature + prior * np.eye(n)
        step = np.linalg.solve(info + ones, grad)
        size = 1.0
        for _ in range(30):
            trial = s + size * step
            value = objective(trial)
            if value >= current - 1e-12 * abs(current):
                break
            size *= 0.5
        s, previous = trial, current
        current = value
        if np.abs(size * step).max() < tol or abs(current - previous) < tol * tol:
            break
    centred: FloatArray = s - s.mean()
    return centred


def _fit_davidson(
    wins: FloatArray, ties: FloatArray, prior: float, tol: float
) -> tuple[FloatArray, float]:
    """Davidson ties model by L-BFGS on (scores, log nu); ties is symmetric."""
    n = wins.shape[0]
    games = wins + wins.T + ties
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    tie_total = float(ties[upper].sum())

    def negative(params: FloatArray) -> tuple[float, FloatArray]:
        s, log_nu = params[:n], params[n]
        half = 0.5 * (s[:, None] + s[None, :])
        # log D_ij = log(p_i + p_j + nu sqrt(p_i p_j)), computed stably.
        rows = np.broadcast_to(s[:, None], (n, n))
        terms = np.stack((rows, rows.T, log_nu + half))
        top = terms.max(axis=0)
        log_d = top + np.log(np.exp(terms - top).sum(axis=0))
        value = (
            float((wins.sum(axis=1) * s).sum())
            + float((ties[upper] * (log_nu + half[upper])).sum())
            - float((games[upper] * log_d[upper]).sum())
            - 0.5 * prior * float(s @ s)
        )
        share_i = np.exp(s[:, None] - log_d)
        share_tie = np.exp(log_nu + half - log_d)
        expected = games * (share_i + 0.5 * share_tie)
        np.fill_diagonal(expected, 0.0)
        grad_s = wins.sum(axis=1) + 0.5 * ties.sum(axis=1) - expected.sum(axis=1) - prior * s
        grad_nu = tie_total - float((games[upper] * share_tie[upper]).sum())
        return -value, -np.concatenate((grad_s, [grad_nu]))

    start = np.zeros(n + 1)
    start[n] = np.log(max(tie_total, 1e-3) / max(float(games[upper].sum()), 1.0)) + np.log(2.0)
    options = {"maxiter": 10000, "gtol": tol, "ftol": 1e-15}
    result = minimize(negative, start, jac=True, method="L-BFGS-B", options=options)
    s = result.x[:n]
    return s - s.mean(), float(np.exp(result.x[n]))


class Elo:
    """Online Elo ratings, applied in the order the comparisons are given.

    After each comparison both items move by ``k`` times (actual - expected score), where
    expected = 1 / (1 + base ** ((r_other - r_self) / scale)); a tie scores 0.5.
    Sequential by definition (each update depends on the previous ones), so this loops
    over comparisons; Bradley-Terry is the order-free alternative.

    Fitted attributes: ``scores_`` (n_items,) ratings, ``ranking_``, ``n_items_``.
    """

    scores_: FloatArray
    ranking_: IntArray
    n_items_: int

    def __init__(
        self, initial: float = 1000.0, k: float = 4.0, scale: float = 400.0, base: float = 10.0
    ) -> None:
        self.initial = initial
        self.k = k
        self.scale = scale
        self.base = base

    def fit(self, left: Any, right: Any, outcome: Any, *, n_items: int | None = None) -> Self:
        a, b, o, n = _check_battles(left, right, outcome, n_items)
        ratings = np.full(n, float(self.initial))
        factor = np.log(self.base) / self.scale
        for x, y, result in zip(a.tolist(), b.tolist(), o.tolist(), strict=True):
            expected = 1.0 / (1.0 + np.exp(factor * (ratings[y] - ratings[x])))
            delta = self.k * (result - expected)
            ratings[x] += delta
            ratings[y] -= delta
        self.n_items_ = n
        self.scores_ = ratings
        self.ranking_ = np.argsort(-ratings, kind="stable").astype(np.int64)
        return self
