"""Span aggregation: token-level votes, BIO-consistent decoding, spans out."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelvault.errors import InvalidInput
from labelvault.quality import (
    DawidSkene,
    SpanAggregator,
    WeightedMajorityVote,
    aggregate_spans,
)


def _records(spans: object) -> list[tuple[int, int, int, int]]:
    return [
        (r["task"], r["start"], r["end"], r["label"])
        for r in spans.to_records()  # type: ignore[attr-defined]
    ]


def test_majority_of_annotators_wins_per_span() -> None:
    # Text 0 (6 tokens): two say PER [1,3), one says LOC [2,4).
    # Text 1 (4 tokens): one says ORG [0,2); two annotated it and marked nothing.
    spans = aggregate_spans(
        [6, 4],
        tasks=[0, 0, 0, 1],
        workers=[0, 1, 2, 0],
        starts=[1, 1, 2, 0],
        ends=[3, 3, 4, 2],
        labels=[0, 0, 1, 2],
        annotated_tasks=[1, 1],
        annotated_workers=[1, 2],
    )
    assert _records(spans) == [(0, 1, 3, 0)]
    assert spans.confidence[0] == pytest.approx(2 / 3)
    named = spans.to_records(["PER", "LOC", "ORG"])
    assert named[0]["label"] == "PER"


def test_without_annotated_lists_only_span_authors_vote() -> None:
    spans = aggregate_spans([4], tasks=[0], workers=[3], starts=[0], ends=[2], labels=[1])
    assert _records(spans) == [(0, 0, 2, 1)]


def test_any_categorical_model_can_vote_on_tokens() -> None:
    model = SpanAggregator(DawidSkene()).fit(
        [5, 5], [0, 0, 1, 1], [0, 1, 0, 1], [0, 0, 2, 2], [2, 2, 5, 5], [0, 0, 1, 1]
    )
    assert _records(model.spans_) == [(0, 0, 2, 0), (1, 2, 5, 1)]
    assert model.token_probas_.shape == (10, 5)
    assert model.token_offsets_.tolist() == [0, 5, 10]


@st.composite
def annotations(draw: st.DrawFn) -> dict:
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    n_texts = draw(st.integers(1, 4))
    lengths = rng.integers(1, 12, n_texts)
    n_workers = draw(st.integers(1, 4))
    n_types = draw(st.integers(1, 3))
    rows = []
    for text in range(n_texts):
        for worker in range(n_workers):
            position = 0
            while position < lengths[text]:
                position += int(rng.integers(0, 3))
                if position >= lengths[text]:
                    break
                end = min(lengths[text], position + int(rng.integers(1, 4)))
                rows.append((text, worker, position, end, int(rng.integers(0, n_types))))
                position = end
    texts = np.repeat(np.arange(n_texts), n_workers)
    who = np.tile(np.arange(n_workers), n_texts)
    return {"lengths": lengths, "rows": rows, "texts": texts, "who": who, "n_types": n_types}


def _aggregate(a: dict) -> object:
    cols = list(zip(*a["rows"], strict=True)) if a["rows"] else [[], [], [], [], []]
    return aggregate_spans(
        a["lengths"],
        *cols,
        annotated_tasks=a["texts"],
        annotated_workers=a["who"],
        n_types=a["n_types"],
    )


@settings(max_examples=60, deadline=None)
@given(a=annotations())
def test_output_spans_are_valid_and_non_overlapping(a: dict) -> None:
    spans = _aggregate(a)
    for task, start, end, label in _records(spans):
        assert 0 <= start < end <= a["lengths"][task]
        assert 0 <= label < a["n_types"]
    ordered = sorted(_records(spans))
    for (t1, _, e1, _), (t2, s2, _, _) in zip(ordered, ordered[1:], strict=False):
        assert t1 != t2 or e1 <= s2
    assert ((spans.confidence > 0) & (spans.confidence <= 1 + 1e-12)).all()


@settings(max_examples=40, deadline=None)
@given(a=annotations(), copies=st.integers(1, 3))
def test_unanimous_annotators_are_reproduced(a: dict, copies: int) -> None:
    one = [r for r in a["rows"] if r[1] == 0]
    rows = [(t, c, s, e, y) for c in range(copies) for (t, _, s, e, y) in one]
    texts = np.repeat(np.arange(a["lengths"].size), copies)
    who = np.tile(np.arange(copies), a["lengths"].size)
    cols = list(zip(*rows, strict=True)) if rows else [[], [], [], [], []]
    spans = aggregate_spans(
        a["lengths"], *cols, annotated_tasks=texts, annotated_workers=who, n_types=a["n_types"]
    )
    assert sorted(_records(spans)) == sorted((t, s, e, y) for (t, _, s, e, y) in one)


class _FixedWeights(WeightedMajorityVote):
    def fit(self, *args: Any, **kwargs: Any) -> _FixedWeights:
        return super().fit(*args, worker_weights=[1.0, 1.0, 1.0, 0.9, 0.9], **kwargs)


def test_decoding_repairs_invalid_bio_votes() -> None:
    # Token by token the weighted votes say O, I-PER, I-PER: an I without a B. The
    # decoder must return the most probable *valid* reading, here one span [0, 3).
    model = SpanAggregator(_FixedWeights()).fit(
        [3],
        tasks=[0, 0, 0],
        workers=[0, 1, 2],
        starts=[0, 0, 1],
        ends=[3, 3, 3],
        labels=[0, 0, 0],
        annotated_tasks=[0, 0],
        annotated_workers=[3, 4],
    )
    assert model.model_.labels_.tolist() == [0, 2, 2]  # O, I-PER, I-PER
    assert _records(model.spans_) == [(0, 0, 3, 0)]
    assert model.token_tags_.tolist() == [1, 2, 2]


def test_span_input_errors() -> None:
    with pytest.raises(InvalidInput, match="past the text"):
        aggregate_spans([3], [0], [0], [1], [5], [0])
    with pytest.raises(InvalidInput, match="overlaps"):
        aggregate_spans([5], [0, 0], [0, 0], [0, 1], [2, 3], [0, 0])
    with pytest.raises(InvalidInput, match="No annotations"):
        aggregate_spans([5], [], [], [], [], [])
    with pytest.raises(InvalidInput, match="both annotated_tasks"):
        aggregate_spans([5], [0], [0], [0], [1], [0], annotated_tasks=[0])
