"""Input checking and the few counting primitives every algorithm shares.

Everything in the quality engine works on equal-length 1-D arrays of non-negative integer
codes. This module turns whatever the caller passed into such arrays, or raises an
InvalidInput that says what was wrong and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse  # type: ignore[import-untyped,unused-ignore]

from labelvault.errors import InvalidInput

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

ENCODE_HINT = (
    "Pass integer codes 0..n-1; labelvault.quality.encode(tasks, workers, labels) maps any "
    "values (strings, ids) to codes and back."
)


def as_codes(values: Any, name: str) -> IntArray:
    """Return `values` as a 1-D int64 array of non-negative codes."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise InvalidInput(
            f"{name} must be a 1-D array, got shape {array.shape}.",
            hint="Pass one value per answer (long format: one row per worker answer).",
        )
    if array.dtype.kind == "b":
        return array.astype(np.int64)
    if array.dtype.kind in "iu":
        codes = array.astype(np.int64, copy=False)
    elif array.dtype.kind == "f":
        if array.size and not (np.isfinite(array).all() and (np.floor(array) == array).all()):
            raise InvalidInput(
                f"{name} contains non-integer or missing values.",
                hint="Drop answers with missing values first. " + ENCODE_HINT,
            )
        codes = array.astype(np.int64)
    elif array.size == 0:
        codes = np.zeros(0, dtype=np.int64)
    else:
        raise InvalidInput(
            f"{name} must hold integer codes, got values of type {array.dtype}.",
            hint=ENCODE_HINT,
        )
    if codes.size and codes.min() < 0:
        bad = int(np.flatnonzero(codes < 0)[0])
        raise InvalidInput(
            f"{name} contains a negative code ({int(codes[bad])} at position {bad}).",
            hint="Codes start at 0. " + ENCODE_HINT,
        )
    return codes


def as_values(values: Any, name: str) -> FloatArray:
    """Return `values` as a 1-D float64 array of finite numbers."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise InvalidInput(
            f"{name} must be a 1-D array, got shape {array.shape}.",
            hint="Pass one number per answer.",
        )
    if array.size and array.dtype.kind not in "biuf":
        raise InvalidInput(
            f"{name} must be numbers, got values of type {array.dtype}.",
            hint="Convert the answers to numbers (e.g. float(x)) before aggregating.",
        )
    out = array.astype(np.float64)
    if not np.isfinite(out).all():
        raise InvalidInput(
            f"{name} contains NaN or infinite values.",
            hint="Drop answers with missing values before aggregating.",
        )
    return out


def check_same_length(**arrays: npt.NDArray[Any]) -> int:
    """Raise unless all arrays have one common, non-zero length; return it."""
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name}={n}" for name, n in lengths.items())
        raise InvalidInput(
            f"Input arrays have different lengths ({listed}).",
            hint="Pass one entry per answer in every array (long format).",
        )
    n = next(iter(lengths.values()))
    if n == 0:
        raise InvalidInput(
            "No answers given: the input arrays are empty.",
            hint="Collect at least one answer before computing quality metrics.",
        )
    return n


def resolve_size(codes: IntArray, given: int | None, name: str, what: str) -> int:
    """Number of distinct codes: `given` if set (checked), else max code + 1."""
    needed = int(codes.max()) + 1 if codes.size else 0
    if given is None:
        return needed
    if given < needed:
        raise InvalidInput(
            f"{name}={given} but the data contains {what} code {needed - 1}.",
            hint=f"Set {name} to at least {needed}, or leave it unset to infer it.",
        )
    return int(given)


@dataclass(frozen=True)
class Answers:
    """Checked long-format answers: answer i is worker `workers[i]` saying `labels[i]`."""

    tasks: IntArray
    workers: IntArray
    labels: IntArray
    n_tasks: int
    n_workers: int
    n_classes: int

    @property
    def n_answers(self) -> int:
        return int(self.tasks.size)

    def task_label_counts(self, weights: FloatArray | None = None) -> FloatArray:
        """(n_tasks, n_classes) number (or weight) of answers of each class per task."""
        flat = self.tasks * self.n_classes + self.labels
        counts = np.bincount(flat, weights=weights, minlength=self.n_tasks * self.n_classes)
        return counts.astype(np.float64, copy=False).reshape(self.n_tasks, self.n_classes)

    def task_counts(self) -> IntArray:
        return np.bincount(self.tasks, minlength=self.n_tasks).astype(np.int64)

    def worker_counts(self) -> IntArray:
        return np.bincount(self.workers, minlength=self.n_workers).astype(np.int64)

    def task_by_worker_label(self) -> sparse.csc_matrix:
        """Sparse (n_tasks, n_workers * n_classes) count matrix, column-compressed.

        Column w * K + y counts answers "y" by worker w. Products with this matrix are the
        E-step (task side) and, through its transpose (a free row-compressed view), the
        M-step (worker side) of every confusion-matrix model: each EM iteration is two
        sparse-dense products and no Python loop. Repeated answers stay as separate
        entries; the products add them up.
        """
        k = self.n_classes
        columns = self.workers * k + self.labels
        data = np.ones(self.n_answers, dtype=np.float64)
        shape = (self.n_tasks, self.n_workers * k)
        return sparse.coo_matrix((data, (self.tasks, columns)), shape=shape).tocsc()


def check_answers(
    tasks: Any,
    workers: Any,
    labels: Any,
    *,
    n_tasks: int | None = None,
    n_workers: int | None = None,
    n_classes: int | None = None,
) -> Answers:
    """Validate long-format categorical answers and infer the sizes."""
    t = as_codes(tasks, "tasks")
    w = as_codes(workers, "workers")
    y = as_codes(labels, "labels")
    check_same_length(tasks=t, workers=w, labels=y)
    return Answers(
        tasks=t,
        workers=w,
        labels=y,
        n_tasks=resolve_size(t, n_tasks, "n_tasks", "task"),
        n_workers=resolve_size(w, n_workers, "n_workers", "worker"),
        n_classes=resolve_size(y, n_classes, "n_classes", "label"),
    )


def check_gold(gold: Any, n_tasks: int, n_classes: int) -> IntArray:
    """Gold labels as an (n_tasks,) array with -1 where unknown.

    Accepts a mapping {task code: label code} or an array of length n_tasks with -1 (or
    any negative number) for tasks without gold.
    """
    if isinstance(gold, dict):
        out = np.full(n_tasks, -1, dtype=np.int64)
        if gold:
            keys = as_codes(list(gold.keys()), "gold tasks")
            vals = as_codes(list(gold.values()), "gold labels")
            if keys.max() >= n_tasks:
                raise InvalidInput(
                    f"Gold refers to task code {int(keys.max())} but there are {n_tasks} tasks.",
                    hint="Encode gold task ids with the same mapping as the answers.",
                )
            out[keys] = vals
    else:
        array = np.asarray(gold)
        if array.ndim != 1 or array.size != n_tasks:
            raise InvalidInput(
                f"gold must have one entry per task ({n_tasks}), got shape {array.shape}.",
                hint="Pass a dict {task: label} or an array with -1 for tasks without gold.",
            )
        if array.dtype.kind not in "iub":
            raise InvalidInput(
                "gold must hold integer label codes.",
                hint="Use -1 for tasks without gold. " + ENCODE_HINT,
            )
        out = np.where(array < 0, -1, array).astype(np.int64)
    if out.max(initial=-1) >= n_classes:
        raise InvalidInput(
            f"gold contains label code {int(out.max())} but there are {n_classes} classes.",
            hint="Pass n_classes, or encode gold with the same label mapping as the answers.",
        )
    return out


def rng_for(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A NumPy generator from a seed; results are reproducible for a given seed."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def argmax_rows(scores: FloatArray, tie_order: IntArray | None = None) -> IntArray:
    """Row-wise argmax; among exactly tied columns the one first in `tie_order` wins.

    `tie_order` lists column indices from most to least preferred; without it the lowest
    column index wins (NumPy's rule).
    """
    if tie_order is None or scores.shape[1] == 0:
        return np.asarray(np.argmax(np.asfortranarray(scores), axis=1), dtype=np.int64)
    preference = np.empty(scores.shape[1], dtype=np.int64)
    preference[tie_order] = np.arange(scores.shape[1])[::-1]
    best = row_max(scores)[:, None]
    keyed = np.where(scores == best, preference[None, :], -1)
    return np.asarray(np.argmax(np.asfortranarray(keyed), axis=1), dtype=np.int64)


def log_normalize_rows(log_scores: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Softmax of each row of log-scores; returns (probas, row log-normalizers).

    Works in column-major order: reductions across a handful of classes are much faster
    along contiguous columns than along short rows.
    """
    scores = np.asfortranarray(log_scores)
    top = scores.max(axis=1)
    scores -= top[:, None]
    np.exp(scores, out=scores)
    sums = scores.sum(axis=1)
    scores /= sums[:, None]
    probas: FloatArray = np.ascontiguousarray(scores)
    return probas, np.log(sums) + top


def row_max(matrix: FloatArray) -> FloatArray:
    """Row-wise max of a (rows, few columns) array, fast for C-ordered input."""
    out: FloatArray = np.asfortranarray(matrix).max(axis=1)
    return out


def row_sum(matrix: FloatArray) -> FloatArray:
    """Row-wise sum of a (rows, few columns) array, fast for C-ordered input."""
    out: FloatArray = np.asfortranarray(matrix).sum(axis=1)
    return out
