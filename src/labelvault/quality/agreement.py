"""Inter-annotator agreement: Krippendorff's alpha, Fleiss' and Cohen's kappa, and plain
pairwise agreement overall, per item and per annotator.

Most functions take either a precomputed table or the long-format answers used
everywhere in the quality engine (``tasks``, ``workers``, ``labels``: one entry per
answer, integer codes from ``encode``).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from labelvault.errors import InvalidInput

from ._arrays import FloatArray, as_codes, as_values, check_answers, check_same_length

Level = Literal["nominal", "ordinal", "interval", "ratio"]
_LEVELS = ("nominal", "ordinal", "interval", "ratio")
_BLOCK_CELLS = 1 << 19  # cells of a reliability matrix counted per block (fits in cache)


# -- Krippendorff's alpha ----------------------------------------------------------------
def krippendorff_alpha(
    data: Any,
    workers: Any = None,
    labels: Any = None,
    *,
    level: Level = "nominal",
    missing: float | int | None = None,
) -> float:
    """Krippendorff's alpha for nominal, ordinal, interval or ratio data.

    Two ways to call it:

    - ``krippendorff_alpha(reliability_data, level=...)``: a 2-D array with one row per
      rater and one column per unit (the layout of the ``krippendorff`` package); missing
      cells are NaN, or equal to ``missing`` for integer arrays (e.g. ``missing=-1``).
    - ``krippendorff_alpha(tasks, workers, values, level=...)``: long format, one entry
      per answer. Values are numbers (codes for nominal data, the measured values for
      interval/ratio data, ordered codes for ordinal data).

    Units with fewer than two values are not pairable and are ignored. Returns NaN when
    alpha is undefined (every pairable value identical, so no disagreement is possible).
    """
    if level not in _LEVELS:
        raise InvalidInput(f"Unknown level {level!r}.", hint=f"Use one of {', '.join(_LEVELS)}.")
    if workers is None and labels is None:
        counts, domain = _matrix_value_counts(data, missing)
    else:
        if workers is None or labels is None:
            raise InvalidInput(
                "Pass either one reliability matrix or tasks, workers and values.",
                hint="krippendorff_alpha(matrix) or krippendorff_alpha(tasks, workers, values).",
            )
        counts, domain = _long_value_counts(data, workers, labels)
    return _alpha_from_counts(counts, domain, level)


def _long_value_counts(tasks: Any, workers: Any, values: Any) -> tuple[FloatArray, FloatArray]:
    t = as_codes(tasks, "tasks")
    w = as_codes(workers, "workers")
    v = as_values(values, "values")
    check_same_length(tasks=t, workers=w, values=v)
    domain, codes = np.unique(v, return_inverse=True)
    n_units = int(t.max()) + 1
    flat = t * domain.size + codes.ravel()
    counts = np.bincount(flat, minlength=n_units * domain.size).reshape(n_units, domain.size)
    return counts.astype(np.float64), domain.astype(np.float64)


def _matrix_value_counts(matrix: Any, missing: float | int | None) -> tuple[FloatArray, FloatArray]:
    """Per-unit counts of each value of a (raters, units) matrix.

    Works on blocks of units so temporaries stay small and in cache. Few distinct whole
    values (rating scales, class codes) are counted with one comparison per value;
    anything else falls back to sorting the distinct values.
    """
    data = np.asarray(matrix)
    if data.ndim != 2:
        raise InvalidInput(
            f"reliability_data must be 2-D (raters x units), got shape {data.shape}.",
            hint="Or pass long-format tasks, workers and values.",
        )
    if data.size == 0:
        raise InvalidInput(
            "reliability_data is empty.", hint="Pass at least two raters and one unit."
        )
    if data.dtype.kind not in "biuf":
        raise InvalidInput(
            f"reliability_data must be numeric, got {data.dtype}.",
            hint="Encode categories as integer codes (see encode) and use NaN for missing.",
        )
    if data.dtype.kind == "b":
        data = data.astype(np.int8)
    no_marker = missing is None or (isinstance(missing, float) and math.isnan(missing))
    sentinel = None if no_marker else missing
    blocks = _unit_blocks(data)
    floating = data.dtype.kind == "f"
    low = float(np.fmin.reduce(data, axis=None)) if floating else float(data.min())
    high = float(np.fmax.reduce(data, axis=None)) if floating else float(data.max())
    if math.isinf(low) or math.isinf(high):
        raise InvalidInput(
            "reliability_data contains infinite values.", hint="Use NaN for missing cells."
        )
    if math.isnan(low):
        raise _all_missing()
    if low.is_integer() and high.is_integer() and high - low < _FEW_VALUES:
        candidates = [v for v in range(int(low), int(high) + 1) if v != sentinel]
        counts = np.zeros((data.shape[1], len(candidates)), dtype=np.int64)
        n_missing = 0
        for start, stop in blocks:
            part = data[:, start:stop]
            for column, value in enumerate(candidates):
                counts[start:stop, column] = np.count_nonzero(part == value, axis=0)
            if floating:
                n_missing += int(np.count_nonzero(np.isnan(part)))
            if sentinel is not None:
                n_missing += int(np.count_nonzero(part == sentinel))
        if n_missing == data.size:
            raise _all_missing()
        if int(counts.sum()) + n_missing == data.size:
            used = counts.sum(axis=0) > 0
            domain = np.asarray(candidates, dtype=np.float64)
            return counts[:, used].astype(np.float64), domain[used]
    return _sorted_value_counts(data, blocks, sentinel)


_FEW_VALUES = 16


def _unit_blocks(data: npt.NDArray[Any]) -> list[tuple[int, int]]:
    n_raters, n_units = data.shape
    width = max(1, _BLOCK_CELLS // max(n_raters, 1))
    return [(s, min(s + width, n_units)) for s in range(0, n_units, width)]


def _present(part: npt.NDArray[Any], sentinel: float | int | None) -> npt.NDArray[np.bool_]:
    mask = ~np.isnan(part) if part.dtype.kind == "f" else np.ones(part.shape, dtype=bool)
    if sentinel is not None:
        mask &= part != sentinel
    return mask


def _all_missing() -> InvalidInput:
    return InvalidInput(
        "reliability_data has no values (every cell is missing).",
        hint="Check the missing-value marker (NaN by default, or missing=...).",
    )


def _sorted_value_counts(
    data: npt.NDArray[Any], blocks: list[tuple[int, int]], sentinel: float | int | None
) -> tuple[FloatArray, FloatArray]:
    domain = np.unique(
        np.concatenate([data[:, a:b][_present(data[:, a:b], sentinel)] for a, b in blocks])
    ).astype(np.float64)
    if domain.size == 0:
        raise _all_missing()
    size = domain.size
    counts = np.zeros((data.shape[1], size), dtype=np.int64)
    for start, stop in blocks:
        part = data[:, start:stop]
        mask = _present(part, sentinel)
        codes = np.searchsorted(domain, part[mask])
        unit = np.broadcast_to(np.arange(stop - start), part.shape)[mask]
        counts[start:stop] = np.bincount(
            unit * size + codes, minlength=(stop - start) * size
        ).reshape(stop - start, size)
    return counts.astype(np.float64), domain


def _alpha_from_counts(counts: FloatArray, domain: FloatArray, level: str) -> float:
    per_unit = counts.sum(axis=1)
    pairable = per_unit >= 2
    counts = counts[pairable]
    per_unit = per_unit[pairable]
    if counts.shape[0] == 0:
        raise InvalidInput(
            "No unit has two or more values, so agreement cannot be measured.",
            hint="Collect at least two answers on some items (overlap).",
        )
    scaled = counts / (per_unit - 1.0)[:, None]
    coincidence = counts.T @ scaled
    coincidence[np.diag_indices_from(coincidence)] -= scaled.sum(axis=0)
    marginals = coincidence.sum(axis=0)
    total = marginals.sum()
    delta = _distance(domain, marginals, level)
    expected = float(marginals @ delta @ marginals)
    if expected <= 0:
        return math.nan
    observed = float((coincidence * delta).sum())
    return float(1.0 - (total - 1.0) * observed / expected)


def _distance(domain: FloatArray, marginals: FloatArray, level: str) -> FloatArray:
    """Squared difference function delta^2(c, k) of Krippendorff's alpha."""
    if level == "nominal":
        return 1.0 - np.eye(domain.size)
    if level == "interval":
        return np.subtract.outer(domain, domain) ** 2
    if level == "ratio":
        diff = np.subtract.outer(domain, domain)
        total = np.add.outer(domain, domain)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(total != 0, (diff / np.where(total != 0, total, 1.0)) ** 2, 0.0)
        return out
    # ordinal: mass between the two ranks, minus half of each end.
    cumulative = np.cumsum(marginals)
    lo = np.minimum.outer(np.arange(domain.size), np.arange(domain.size))
    hi = np.maximum.outer(np.arange(domain.size), np.arange(domain.size))
    between = cumulative[hi] - cumulative[lo] + marginals[lo]
    return (between - (marginals[lo] + marginals[hi]) / 2.0) ** 2


# -- kappas --------------------------------------------------------------------------------
def fleiss_kappa(
    data: Any,
    workers: Any = None,
    labels: Any = None,
    *,
    n_classes: int | None = None,
) -> float:
    """Fleiss' kappa.

    ``fleiss_kappa(table)`` with an (items, classes) table of answer counts, or
    ``fleiss_kappa(tasks, workers, labels)`` in long format. Items may have different
    numbers of answers (each item's agreement uses its own count; items with fewer than
    two answers are skipped); with equal numbers this is exactly Fleiss (1971).
    """
    if workers is None and labels is None:
        table = np.asarray(data, dtype=np.float64)
        if table.ndim != 2 or table.size == 0:
            raise InvalidInput(
                f"The count table must be 2-D (items x classes), got shape {table.shape}.",
                hint="Or pass long-format tasks, workers and labels.",
            )
        if (table < 0).any() or not np.isfinite(table).all():
            raise InvalidInput(
                "The count table must hold non-negative counts.",
                hint="Cell (i, k) is how many raters put item i in class k.",
            )
    else:
        answers = check_answers(data, workers, labels, n_classes=n_classes)
        table = answers.task_label_counts()
    per_item = table.sum(axis=1)
    rated = per_item >= 2
    table, per_item = table[rated], per_item[rated]
    if table.shape[0] == 0:
        raise InvalidInput(
            "No item has two or more answers, so agreement cannot be measured.",
            hint="Collect at least two answers on some items (overlap).",
        )
    shares = table.sum(axis=0) / per_item.sum()
    item_agreement = ((table * table).sum(axis=1) - per_item) / (per_item * (per_item - 1.0))
    observed = float(item_agreement.mean())
    chance = float((shares * shares).sum())
    if chance >= 1.0:
        return math.nan
    return (observed - chance) / (1.0 - chance)


def cohen_kappa(
    rater_a: Any,
    rater_b: Any,
    *,
    weights: Literal["linear", "quadratic"] | None = None,
    n_classes: int | None = None,
) -> float:
    """Cohen's kappa between two raters' labels of the same items (equal-length codes).

    ``weights`` = "linear" or "quadratic" gives weighted kappa for ordinal classes, with
    the distance between classes taken from their codes.
    """
    a = as_codes(rater_a, "rater_a")
    b = as_codes(rater_b, "rater_b")
    check_same_length(rater_a=a, rater_b=b)
    k = max(int(a.max()), int(b.max())) + 1
    if n_classes is not None:
        if n_classes < k:
            raise InvalidInput(
                f"n_classes={n_classes} but the labels contain code {k - 1}.",
                hint="Leave n_classes unset or raise it.",
            )
        k = n_classes
    observed = np.bincount(a * k + b, minlength=k * k).reshape(k, k).astype(np.float64)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / a.size
    if weights is None:
        cost = 1.0 - np.eye(k)
    elif weights in ("linear", "quadratic"):
        gap = np.abs(np.subtract.outer(np.arange(k), np.arange(k))).astype(np.float64)
        cost = gap if weights == "linear" else gap * gap
    else:
        raise InvalidInput(
            f"Unknown weights {weights!r}.", hint="Use None, 'linear' or 'quadratic'."
        )
    denominator = float((cost * expected).sum())
    if denominator == 0:
        return math.nan
    return 1.0 - float((cost * observed).sum()) / denominator


# -- plain agreement -------------------------------------------------------------------------
def item_agreement(
    tasks: Any, workers: Any, labels: Any, *, n_tasks: int | None = None
) -> FloatArray:
    """Per task: share of pairs of answers that agree (NaN for < 2 answers)."""
    answers = check_answers(tasks, workers, labels, n_tasks=n_tasks)
    counts = answers.task_label_counts()
    n = counts.sum(axis=1)
    pairs = n * (n - 1.0)
    agreeing = (counts * (counts - 1.0)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n >= 2, agreeing / np.where(pairs > 0, pairs, 1.0), np.nan)


def percent_agreement(tasks: Any, workers: Any, labels: Any) -> float:
    """Mean over tasks with >= 2 answers of the share of agreeing answer pairs."""
    per_task = item_agreement(tasks, workers, labels)
    rated = ~np.isnan(per_task)
    if not rated.any():
        raise InvalidInput(
            "No item has two or more answers, so agreement cannot be measured.",
            hint="Collect at least two answers on some items (overlap).",
        )
    return float(per_task[rated].mean())


def annotator_agreement(
    tasks: Any, workers: Any, labels: Any, *, n_workers: int | None = None
) -> FloatArray:
    """Per worker: how often another worker's answer on the same task matches theirs.

    For each of the worker's answers on a task with other answers, the share of the other
    answers that give the same label; averaged over the worker's answers (NaN if none of
    their tasks has another answer).
    """
    answers = check_answers(tasks, workers, labels, n_workers=n_workers)
    counts = answers.task_label_counts()
    n = counts.sum(axis=1)[answers.tasks]
    same = counts[answers.tasks, answers.labels] - 1.0
    shared = n >= 2
    share = np.where(shared, same / np.where(shared, n - 1.0, 1.0), 0.0)
    total = np.bincount(answers.workers, weights=share, minlength=answers.n_workers)
    seen = np.bincount(answers.workers, weights=shared, minlength=answers.n_workers)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(seen > 0, total / np.where(seen > 0, seen, 1.0), np.nan)
