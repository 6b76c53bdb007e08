"""Map arbitrary task / worker / label values to integer codes and back.

Every algorithm in the quality engine takes integer codes 0..n-1. ``encode`` builds them
from whatever the answers use (strings, UUIDs, ints, booleans) and keeps the inverse maps
so results can be reported with the original values. Codes follow the sorted order of
the values (so they do not depend on the order of the rows), unless you give an explicit
order (e.g. the choices of a label schema, including ones nobody picked yet).

A pandas DataFrame is accepted but never required: pandas is imported only if the
caller passes one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from labelvault.errors import InvalidInput

from ._arrays import IntArray, check_same_length

ObjectArray = npt.NDArray[Any]


@dataclass(frozen=True)
class Encoded:
    """Codes for every answer plus the values they stand for.

    ``tasks[i]``, ``workers[i]``, ``labels[i]`` are codes; ``task_values[c]`` is the
    original value of task code c (same for workers and labels).
    """

    tasks: IntArray
    workers: IntArray
    labels: IntArray
    task_values: ObjectArray
    worker_values: ObjectArray
    label_values: ObjectArray

    @property
    def n_tasks(self) -> int:
        return int(self.task_values.size)

    @property
    def n_workers(self) -> int:
        return int(self.worker_values.size)

    @property
    def n_classes(self) -> int:
        return int(self.label_values.size)

    @property
    def sizes(self) -> dict[str, int]:
        """Keyword arguments for ``fit`` so unused classes and ids keep their codes."""
        return {"n_tasks": self.n_tasks, "n_workers": self.n_workers, "n_classes": self.n_classes}

    def decode_labels(self, codes: Any) -> list[Any]:
        """Label values for codes; -1 (no answer) becomes None."""
        return _decode(self.label_values, codes)

    def decode_tasks(self, codes: Any) -> list[Any]:
        return _decode(self.task_values, codes)

    def decode_workers(self, codes: Any) -> list[Any]:
        return _decode(self.worker_values, codes)

    def task_codes(self, values: Any) -> IntArray:
        """Codes of given task values (e.g. the tasks of a gold file); -1 if unknown."""
        return _lookup(self.task_values, values)

    def worker_codes(self, values: Any) -> IntArray:
        return _lookup(self.worker_values, values)

    def label_codes(self, values: Any) -> IntArray:
        """Codes of given label values; -1 if unknown."""
        return _lookup(self.label_values, values)

    def gold(self, tasks: Any, labels: Any) -> IntArray:
        """Gold labels as an (n_tasks,) code array with -1 where unknown.

        Gold rows whose task has no answers are ignored; a gold label that is not one of
        the encoded labels raises InvalidInput (add it with ``label_order``).
        """
        t = self.task_codes(tasks)
        y = self.label_codes(labels)
        known = t >= 0
        if (y[known] < 0).any():
            bad = np.asarray(labels, dtype=object)[known][y[known] < 0][0]
            raise InvalidInput(
                f"Gold label {bad!r} is not among the encoded labels.",
                hint="Pass every possible label to encode(..., label_order=[...]).",
            )
        out = np.full(self.n_tasks, -1, dtype=np.int64)
        out[t[known]] = y[known]
        return out


def encode(
    tasks: Any,
    workers: Any = None,
    labels: Any = None,
    *,
    label_order: Sequence[Any] | None = None,
    columns: tuple[str, str, str] = ("task", "worker", "label"),
) -> Encoded:
    """Encode answers given as three sequences, or one DataFrame / mapping of columns.

    ``encode(tasks, workers, labels)`` or ``encode(df)`` (columns named by ``columns``).
    ``label_order`` fixes the label codes (code = position in the list) and may include
    labels nobody used; answers with a label outside it raise InvalidInput.
    """
    if workers is None and labels is None:
        tasks, workers, labels = _columns(tasks, columns)
    elif workers is None or labels is None:
        raise InvalidInput(
            "encode needs tasks, workers and labels (or one table with those columns).",
            hint="Call encode(tasks, workers, labels) or encode(dataframe).",
        )
    t_values, t_codes = _factorize(tasks, "tasks")
    w_values, w_codes = _factorize(workers, "workers")
    check_same_length(tasks=t_codes, workers=w_codes, labels=np.asarray(labels, dtype=object))
    if label_order is None:
        l_values, l_codes = _factorize(labels, "labels")
    else:
        l_values = _as_object_array(list(label_order))
        if len(set(map(_hashable, l_values))) != l_values.size:
            raise InvalidInput(
                "label_order contains duplicates.",
                hint="List each possible label exactly once.",
            )
        l_codes = _lookup(l_values, labels)
        if (l_codes < 0).any():
            bad = _as_object_array(labels)[l_codes < 0][0]
            raise InvalidInput(
                f"Label {bad!r} is not in label_order.",
                hint="Add it to label_order, or drop those answers.",
            )
    return Encoded(t_codes, w_codes, l_codes, t_values, w_values, l_values)


def encode_items(left: Any, right: Any) -> tuple[IntArray, IntArray, ObjectArray]:
    """Codes for pairwise comparisons: both sides share one item vocabulary.

    Returns (left codes, right codes, item values) for ``BradleyTerry`` / ``Elo``.
    """
    left_array = _as_object_array(left)
    n = left_array.size
    both = np.concatenate((left_array.astype(object), _as_object_array(right).astype(object)))
    if both.size - n != n:
        raise InvalidInput(
            f"left and right have different lengths ({n} and {both.size - n}).",
            hint="Pass one left item and one right item per comparison.",
        )
    values, codes = _factorize(both, "items")
    return codes[:n], codes[n:], values


def _columns(table: Any, names: tuple[str, str, str]) -> tuple[Any, Any, Any]:
    missing = [n for n in names if not _has_column(table, n)]
    if missing:
        raise InvalidInput(
            f"The table has no column(s) {missing}.",
            hint=f"Name the columns {list(names)} or pass columns=(task, worker, label).",
        )
    return table[names[0]], table[names[1]], table[names[2]]


def _has_column(table: Any, name: str) -> bool:
    try:
        return name in table
    except TypeError:
        return False


def _as_object_array(values: Any) -> ObjectArray:
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    array = np.asarray(values)
    if array.ndim != 1:
        out = np.empty(len(values), dtype=object)
        out[:] = list(values)
        return out
    return array


def _missing_mask(array: ObjectArray) -> npt.NDArray[np.bool_]:
    if array.dtype.kind == "f":
        return np.isnan(array)
    if array.dtype.kind == "O":
        is_none: npt.NDArray[np.bool_] = np.asarray(array == None, dtype=bool)  # noqa: E711
        is_nan: npt.NDArray[np.bool_] = np.asarray(array != array, dtype=bool)
        return is_none | is_nan
    return np.zeros(array.size, dtype=bool)


def _from_pandas(values: Any) -> bool:
    return type(values).__module__.split(".")[0] in ("pandas", "polars")


def _factorize(values: Any, name: str) -> tuple[ObjectArray, IntArray]:
    """Sorted unique values and the code of each entry."""
    if _from_pandas(values) and hasattr(values, "isna") and hasattr(values, "factorize"):
        return _factorize_pandas(values, name)
    array = _as_object_array(values)
    if array.ndim != 1:
        raise InvalidInput(f"{name} must be one-dimensional.", hint="Pass one value per answer.")
    missing = _missing_mask(array)
    if missing.any():
        raise InvalidInput(
            f"{name} contains a missing value (None/NaN) at position "
            f"{int(np.flatnonzero(missing)[0])}.",
            hint="Drop answers with missing values before encoding.",
        )
    try:
        uniques, codes = np.unique(array, return_inverse=True)
    except TypeError:
        # Values of mixed, unorderable types: fall back to order of first appearance.
        seen: dict[Any, int] = {}
        codes = np.fromiter(
            (seen.setdefault(_hashable(v), len(seen)) for v in array), dtype=np.int64
        )
        uniques = np.empty(len(seen), dtype=object)
        uniques[:] = list(seen)
    return uniques, codes.astype(np.int64).ravel()


def _factorize_pandas(series: Any, name: str) -> tuple[ObjectArray, IntArray]:
    """Hash-based factorize of a pandas Series (much faster than sorting objects)."""
    codes, uniques = series.factorize(sort=False)
    if (codes < 0).any():
        raise InvalidInput(
            f"{name} contains a missing value (None/NaN) at position "
            f"{int(np.flatnonzero(codes < 0)[0])}.",
            hint="Drop answers with missing values before encoding.",
        )
    values = _as_object_array(uniques)
    try:
        order = np.argsort(values, kind="stable")
    except TypeError:
        return values, codes.astype(np.int64)
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    return values[order], rank[codes]


def _hashable(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _lookup(values: ObjectArray, query: Any) -> IntArray:
    """Code of each queried value (-1 if absent); loops over distinct values only."""
    index = {_hashable(v): i for i, v in enumerate(values)}
    q = _as_object_array(query)
    try:
        distinct, inverse = np.unique(q, return_inverse=True)
    except TypeError:
        return np.fromiter((index.get(_hashable(v), -1) for v in q), dtype=np.int64, count=q.size)
    mapped = np.fromiter(
        (index.get(_hashable(v), -1) for v in distinct), dtype=np.int64, count=distinct.size
    )
    return mapped[inverse.ravel()]


def _decode(values: ObjectArray, codes: Any) -> list[Any]:
    c = np.asarray(codes, dtype=np.int64)
    out: list[Any] = [None] * c.size
    valid = c >= 0
    picked = values[c[valid]]
    for position, value in zip(np.flatnonzero(valid).tolist(), picked.tolist(), strict=True):
        out[position] = value
    return out
