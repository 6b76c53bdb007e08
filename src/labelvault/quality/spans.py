"""Aggregation of text spans (NER-style) at the token level.

Each worker's spans on a text become one BIO tag per token (O, B-type, I-type); every
token is then an item for a categorical model (majority vote by default, any model of
this package works, e.g. DawidSkene to learn who over- or under-marks). Finally the most
probable tag sequence *that is valid BIO* (an I-type only right after B-type or I-type of
the same type) is decoded per text with a Viterbi pass over token positions, vectorised
across texts, and turned back into spans.

Workers who annotated a text but marked nothing vote "O" on all its tokens only if you
say they annotated it (``annotated_tasks`` / ``annotated_workers``); otherwise the
annotators of a text are those who marked at least one span on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

import numpy as np

from labelvault.errors import InvalidInput

from ._arrays import FloatArray, IntArray, as_codes, check_same_length
from ._base import CategoricalAggregator
from .majority_vote import MajorityVote

OUTSIDE = 0


def begin_tag(types: IntArray) -> IntArray:
    """Tag code of B-type (O is 0, B-t is 1 + 2t, I-t is 2 + 2t)."""
    return 1 + 2 * types


@dataclass(frozen=True)
class Spans:
    """Aggregated spans: token ``starts`` inclusive, ``ends`` exclusive, type codes."""

    tasks: IntArray
    starts: IntArray
    ends: IntArray
    labels: IntArray
    confidence: FloatArray

    def __len__(self) -> int:
        return int(self.tasks.size)

    def to_records(self, label_names: Any = None) -> list[dict[str, Any]]:
        names = list(label_names) if label_names is not None else None
        return [
            {
                "task": int(t),
                "start": int(s),
                "end": int(e),
                "label": names[int(y)] if names is not None else int(y),
                "confidence": round(float(c), 6),
            }
            for t, s, e, y, c in zip(
                self.tasks, self.starts, self.ends, self.labels, self.confidence, strict=True
            )
        ]


class SpanAggregator:
    """Token-level span aggregation producing BIO-consistent spans.

    ``model``: the categorical model applied to token tags (MajorityVote by default).

    Fitted attributes: ``spans_`` (Spans), ``token_tags_`` (decoded tag per token, all
    texts concatenated), ``token_offsets_`` (where each text starts in token_tags_),
    ``token_probas_`` (posterior over tags per token), ``model_``.
    """

    spans_: Spans
    token_tags_: IntArray
    token_offsets_: IntArray
    token_probas_: FloatArray
    model_: CategoricalAggregator

    def __init__(self, model: CategoricalAggregator | None = None) -> None:
        self.model = model

    def fit(
        self,
        n_tokens: Any,
        tasks: Any,
        workers: Any,
        starts: Any,
        ends: Any,
        labels: Any,
        *,
        annotated_tasks: Any = None,
        annotated_workers: Any = None,
        n_types: int | None = None,
    ) -> Self:
        """Aggregate spans (task, worker, start, end, type) on texts of ``n_tokens`` tokens."""
        lengths = as_codes(n_tokens, "n_tokens")
        if lengths.size == 0:
            raise InvalidInput("n_tokens is empty.", hint="Give the token count of every text.")
        t = as_codes(tasks, "tasks")
        w = as_codes(workers, "workers")
        s = as_codes(starts, "starts")
        e = as_codes(ends, "ends")
        y = as_codes(labels, "labels")
        if t.size or not (w.size == s.size == e.size == y.size == 0):
            check_same_length(tasks=t, workers=w, starts=s, ends=e, labels=y)
        n_texts = lengths.size
        _check_spans(t, s, e, lengths)
        k_types = int(y.max()) + 1 if y.size else 1
        if n_types is not None:
            if n_types < k_types:
                raise InvalidInput(
                    f"n_types={n_types} but labels contain type code {k_types - 1}.",
                    hint="Leave n_types unset or raise it.",
                )
            k_types = n_types

        pair_task, pair_worker, span_pair = _annotators(
            t, w, annotated_tasks, annotated_workers, n_texts
        )
        if pair_task.size == 0:
            raise InvalidInput(
                "No annotations: no spans and no annotated texts.",
                hint="Pass the spans, or annotated_tasks / annotated_workers.",
            )
        _check_overlaps(span_pair, s, e)

        token_offsets = np.concatenate(([0], np.cumsum(lengths)))
        pair_len = lengths[pair_task]
        grid_offsets = np.concatenate(([0], np.cumsum(pair_len)))
        grid_pair = np.repeat(np.arange(pair_task.size), pair_len)
        grid_item = token_offsets[pair_task][grid_pair] + (
            np.arange(grid_pair.size) - grid_offsets[grid_pair]
        )
        grid_tags = np.zeros(grid_pair.size, dtype=np.int64)
        span_len = e - s
        owner = np.repeat(np.arange(t.size), span_len)
        within = np.arange(owner.size) - np.repeat(np.cumsum(span_len) - span_len, span_len)
        positions = grid_offsets[span_pair][owner] + s[owner] + within
        grid_tags[positions] = np.where(within == 0, begin_tag(y[owner]), begin_tag(y[owner]) + 1)

        n_tags = 1 + 2 * k_types
        total_tokens = int(token_offsets[-1])
        model = self.model if self.model is not None else MajorityVote()
        model.fit(
            grid_item,
            pair_worker[grid_pair],
            grid_tags,
            n_classes=n_tags,
            n_tasks=total_tokens,
            n_workers=int(pair_worker.max()) + 1,
        )
        probas = model.probas_.copy()
        unlabeled = np.bincount(grid_item, minlength=total_tokens) == 0
        probas[unlabeled] = 0.0
        probas[unlabeled, OUTSIDE] = 1.0
        tags = _viterbi_bio(probas, lengths, token_offsets, k_types)
        self.model_ = model
        self.token_probas_ = probas
        self.token_tags_ = tags
        self.token_offsets_ = token_offsets
        self.spans_ = _tags_to_spans(tags, probas, token_offsets)
        return self


def aggregate_spans(
    n_tokens: Any,
    tasks: Any,
    workers: Any,
    starts: Any,
    ends: Any,
    labels: Any,
    **options: Any,
) -> Spans:
    """Shortcut: ``SpanAggregator(model).fit(...).spans_`` (``model=`` in options)."""
    aggregator = SpanAggregator(options.pop("model", None))
    return aggregator.fit(n_tokens, tasks, workers, starts, ends, labels, **options).spans_


def _check_spans(t: IntArray, s: IntArray, e: IntArray, lengths: IntArray) -> None:
    if t.size == 0:
        return
    if t.max() >= lengths.size:
        raise InvalidInput(
            f"A span refers to text {int(t.max())} but n_tokens has {lengths.size} texts.",
            hint="Give n_tokens for every text code.",
        )
    bad = (e <= s) | (e > lengths[t])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidInput(
            f"Span {i} (text {int(t[i])}, tokens {int(s[i])}..{int(e[i])}) is empty or runs "
            f"past the text's {int(lengths[t[i]])} tokens.",
            hint="Spans are token ranges [start, end) with start < end <= n_tokens.",
        )


def _annotators(
    t: IntArray,
    w: IntArray,
    annotated_tasks: Any,
    annotated_workers: Any,
    n_texts: int,
) -> tuple[IntArray, IntArray, IntArray]:
    """Distinct (text, worker) pairs that annotated, and each span's pair index."""
    if (annotated_tasks is None) != (annotated_workers is None):
        raise InvalidInput(
            "Pass both annotated_tasks and annotated_workers, or neither.",
            hint="They list who annotated which text (one entry per text-worker pair).",
        )
    at = t
    aw = w
    if annotated_tasks is not None:
        extra_t = as_codes(annotated_tasks, "annotated_tasks")
        extra_w = as_codes(annotated_workers, "annotated_workers")
        check_same_length(annotated_tasks=extra_t, annotated_workers=extra_w)
        if extra_t.max() >= n_texts:
            raise InvalidInput(
                f"annotated_tasks refers to text {int(extra_t.max())} but there are "
                f"{n_texts} texts.",
                hint="Give n_tokens for every text code.",
            )
        at = np.concatenate((t, extra_t))
        aw = np.concatenate((w, extra_w))
    if at.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    n_workers = int(aw.max()) + 1
    keys = np.unique(at * n_workers + aw)
    span_pair = np.searchsorted(keys, t * n_workers + w)
    return keys // n_workers, keys % n_workers, span_pair


def _check_overlaps(span_pair: IntArray, s: IntArray, e: IntArray) -> None:
    if span_pair.size < 2:
        return
    order = np.lexsort((s, span_pair))
    p, start, end = span_pair[order], s[order], e[order]
    clash = (p[1:] == p[:-1]) & (start[1:] < end[:-1])
    if clash.any():
        i = int(order[1:][clash][0])
        raise InvalidInput(
            f"Span {i} overlaps another span of the same worker on the same text.",
            hint="Each worker's spans on a text must not overlap (BIO tagging).",
        )


def _viterbi_bio(
    probas: FloatArray, lengths: IntArray, offsets: IntArray, k_types: int
) -> IntArray:
    """Most probable valid BIO tag sequence of every text (vectorised across texts)."""
    log_p = np.log(np.maximum(probas, 1e-12))
    n_texts = lengths.size
    n_tags = 1 + 2 * k_types
    inside = 2 + 2 * np.arange(k_types)
    begin = inside - 1
    max_len = int(lengths.max()) if n_texts else 0
    back = np.zeros((int(offsets[-1]), n_tags), dtype=np.int64)
    score = np.full((n_texts, n_tags), -np.inf)
    for j in range(max_len):
        live = np.flatnonzero(lengths > j)
        rows = offsets[live] + j
        emission = log_p[rows]
        if j == 0:
            new = emission.copy()
            new[:, inside] = -np.inf
        else:
            prev = score[live]
            best_prev = np.argmax(prev, axis=1)
            best_val = prev[np.arange(live.size), best_prev]
            new = emission + best_val[:, None]
            back[rows] = best_prev[:, None]
            from_begin = prev[:, begin] >= prev[:, inside]
            cont = np.where(from_begin, prev[:, begin], prev[:, inside])
            new[:, inside] = emission[:, inside] + cont
            back[rows[:, None], inside[None, :]] = np.where(from_begin, begin, inside)
        score[live] = new
    tags = np.zeros(int(offsets[-1]), dtype=np.int64)
    has = lengths > 0
    current = np.zeros(n_texts, dtype=np.int64)
    current[has] = np.argmax(score[has], axis=1)
    for j in range(max_len - 1, -1, -1):
        live = np.flatnonzero(lengths > j)
        rows = offsets[live] + j
        state = current[live]
        tags[rows] = state
        current[live] = back[rows, state]
    return tags


def _tags_to_spans(tags: IntArray, probas: FloatArray, offsets: IntArray) -> Spans:
    is_inside = (tags > 0) & (tags % 2 == 0)
    run = np.cumsum(~is_inside) - 1
    run_len = np.bincount(run)
    run_start = np.concatenate(([0], np.cumsum(run_len)[:-1]))
    start_tags = tags[run_start]
    is_span = start_tags > 0
    confidence_sum = np.bincount(run, weights=probas[np.arange(tags.size), tags])
    begins = run_start[is_span]
    lengths = run_len[is_span]
    task = np.searchsorted(offsets, begins, side="right") - 1
    local = begins - offsets[task]
    return Spans(
        tasks=task.astype(np.int64),
        starts=local.astype(np.int64),
        ends=(local + lengths).astype(np.int64),
        labels=((start_tags[is_span] - 1) // 2).astype(np.int64),
        confidence=confidence_sum[is_span] / lengths,
    )
