"""encode(): any values to codes and back, with or without pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from labelvault.errors import InvalidInput
from labelvault.quality import MajorityVote, encode


def test_codes_follow_sorted_values_and_decode_back() -> None:
    enc = encode(["t2", "t1", "t2"], ["bob", "amy", "amy"], ["dog", "cat", "dog"])
    assert enc.tasks.tolist() == [1, 0, 1]
    assert enc.workers.tolist() == [1, 0, 0]
    assert enc.labels.tolist() == [1, 0, 1]
    assert enc.sizes == {"n_tasks": 2, "n_workers": 2, "n_classes": 2}
    model = MajorityVote().fit(enc.tasks, enc.workers, enc.labels, **enc.sizes)
    assert enc.decode_labels(model.labels_) == ["cat", "dog"]
    assert enc.decode_tasks([0, 1]) == ["t1", "t2"]
    assert enc.decode_labels([-1]) == [None]


def test_row_order_does_not_change_codes() -> None:
    a = encode(["x", "y", "z"], [1, 2, 3], ["b", "a", "b"])
    b = encode(["z", "x", "y"], [3, 1, 2], ["b", "b", "a"])
    assert a.task_values.tolist() == b.task_values.tolist()
    assert a.label_values.tolist() == b.label_values.tolist()


def test_dataframe_and_mapping_inputs() -> None:
    frame = pd.DataFrame({"item": ["a", "b"], "who": ["u", "v"], "answer": [True, False]})
    enc = encode(frame, columns=("item", "who", "answer"))
    assert enc.labels.tolist() == [1, 0] and enc.label_values.tolist() == [False, True]
    mapping = {"task": [10, 11], "worker": ["u", "u"], "label": ["x", "y"]}
    assert encode(mapping).tasks.tolist() == [0, 1]
    with pytest.raises(InvalidInput, match="no column"):
        encode(frame)


def test_label_order_keeps_unused_classes_and_fixes_codes() -> None:
    enc = encode([1, 2], [1, 1], ["low", "high"], label_order=["low", "mid", "high"])
    assert enc.labels.tolist() == [0, 2] and enc.n_classes == 3
    with pytest.raises(InvalidInput, match="not in label_order"):
        encode([1], [1], ["huge"], label_order=["low", "high"])
    with pytest.raises(InvalidInput, match="duplicates"):
        encode([1], [1], ["low"], label_order=["low", "low"])


def test_gold_is_mapped_with_the_same_codes() -> None:
    enc = encode(["a", "b", "c"], [1, 1, 1], ["x", "y", "x"])
    gold = enc.gold(["c", "a", "unknown-task"], ["y", "x", "x"])
    assert gold.tolist() == [0, -1, 1]
    with pytest.raises(InvalidInput, match="not among the encoded labels"):
        enc.gold(["a"], ["z"])


def test_missing_values_and_bad_shapes_are_rejected() -> None:
    with pytest.raises(InvalidInput, match="missing value"):
        encode(["a", None], [1, 2], ["x", "y"])
    with pytest.raises(InvalidInput, match="missing value"):
        encode(pd.Series(["a", "b"]), pd.Series([1.0, np.nan]), pd.Series(["x", "y"]))
    with pytest.raises(InvalidInput, match="different lengths"):
        encode(["a"], [1, 2], ["x"])
    with pytest.raises(InvalidInput, match="needs tasks, workers and labels"):
        encode(["a"], [1])


def test_mixed_unorderable_values_fall_back_to_first_seen_order() -> None:
    enc = encode([1, "a", 1], ["w", "w", "w"], ["x", "x", "y"])
    assert enc.tasks.tolist() == [0, 1, 0]
    assert enc.decode_tasks([1]) == ["a"]


def test_pandas_series_are_encoded_like_lists() -> None:
    values = ["b", "a", "c", "a"]
    from_list = encode(values, values, values)
    from_series = encode(pd.Series(values), pd.Series(values), pd.Series(values))
    assert from_list.tasks.tolist() == from_series.tasks.tolist()
    assert from_list.task_values.tolist() == from_series.task_values.tolist()
